/**
 * TXT values in zone-file presentation form, as the hosted APIs take and give
 * them: one or more quoted character-strings (each at most 255 bytes), with
 * `"` and `\` escaped.
 */

const MAX_STRING = 255

/** `value` as quoted strings of at most 255 bytes each, joined by spaces. */
export function quoteTxt (value: string): string {
  const bytes = new TextEncoder().encode(value)
  const parts: string[] = []
  let start = 0
  do {
    let end = Math.min(bytes.length, start + MAX_STRING)
    // Do not cut a UTF-8 sequence.
    while (end < bytes.length && end > start && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--
    parts.push(new TextDecoder().decode(bytes.subarray(start, end)))
    start = end
  } while (start < bytes.length)
  return parts.map((p) => `"${p.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(' ')
}

/**
 * The value of a TXT record given in presentation form: its quoted strings
 * unescaped and joined; text that is not quoted is taken as it is.
 */
export function unquoteTxt (content: string): string {
  const text = content.trim()
  if (!text.startsWith('"')) return text
  let out = ''
  let i = 0
  while (i < text.length) {
    if (text[i] === ' ' || text[i] === '\t') { i++; continue }
    if (text[i] !== '"') return text
    i++
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < text.length) {
        const digits = /^\d{3}/.exec(text.slice(i + 1))
        if (digits != null) { out += String.fromCharCode(Number(digits[0])); i += 4; continue }
        i++
      }
      out += text[i]
      i++
    }
    if (i >= text.length) return text
    i++
  }
  return out
}
