/**
 * Text that came from an image, a previous root or a remote service, made safe
 * for the place it is shown: a log line, a terminal, an HTML summary.
 */

/**
 * C0 controls but tab, DEL, C1 controls, line and paragraph separators, byte
 * order marks, bidirectional overrides and isolates. A tab is harmless in a
 * log, a terminal or HTML, and a secret may hold one: escaped, the runner's
 * mask of the raw value would no longer match it.
 */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r' }

function visible (c: string): string {
  const code = c.charCodeAt(0)
  return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
}

/** True when text holds a character that escapeControl rewrites. */
export function hasControl (text: string): boolean {
  CONTROL.lastIndex = 0
  return CONTROL.test(text)
}

/**
 * One line of plain text: every control character (newlines, carriage
 * returns, ESC of terminal sequences, bidirectional overrides) becomes a
 * visible escape such as `\n` or `\x1b`.
 */
export function escapeControl (text: string): string {
  return text.replace(CONTROL, visible)
}

/** An untrusted value quoted for an error message: escaped and cut to `max` characters. */
export function quote (value: string, max = 200): string {
  const chars = [...value]
  const cut = chars.length > max ? `${chars.slice(0, max).join('')}…` : value
  return `'${escapeControl(cut)}'`
}

/**
 * One line for a CI log that runs workflow commands: control characters are
 * escaped, a line that would start with `::` (after spaces, as runners trim)
 * gets a leading backslash, and the older `##[` command prefix is broken.
 */
export function logLine (text: string): string {
  const line = escapeControl(text).replaceAll('##[', '##\\[')
  return /^\s*::/.test(line) ? `\\${line}` : line
}

const HTML: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  // Markdown: a summary mixes HTML blocks and Markdown.
  '\\': '&#92;',
  '`': '&#96;',
  '*': '&#42;',
  _: '&#95;',
  '[': '&#91;',
  ']': '&#93;',
  '|': '&#124;',
  '#': '&#35;',
  '!': '&#33;',
  '~': '&#126;'
}

/** Text for an HTML or Markdown document (a table cell, a heading, an attribute): one line, every markup character as an entity. */
export function htmlText (text: string): string {
  return escapeControl(text).replace(/[&<>"'\\`*_[\]|#!~]/g, (c) => HTML[c] as string)
}

/** Text as one line of plain words: each control character and each run of white space becomes one space, trimmed. */
export function foldLine (text: string): string {
  return text.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim()
}

/** At most `max` characters (whole code points), the last of them `…` when cut. */
export function cutText (text: string, max: number): string {
  const chars = [...text]
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text
}

/** A description for README-short.txt and catalog.json: the first non-empty line, without control characters, at most `max` characters. */
export function plainLine (text: string | undefined, max = 512): string | undefined {
  const line = text?.split(/[\n\r\v\f\u0085\u2028\u2029]/).map(foldLine).find((l) => l !== '')
  return line == null ? undefined : cutText(line, max)
}
