/**
 * TXT values and their two forms. On the wire a TXT record is one or more
 * character-strings of at most 255 bytes; DNSLink reads their bytes joined.
 * The APIs (PowerDNS, Cloudflare, Route 53, DNSimple) take and give the zone-file
 * presentation form: the strings quoted and separated by spaces, `\X` for X and
 * `\DDD` for the byte DDD.
 */

/** Longest character-string in a TXT record (RFC 1035: a length byte). */
export const MAX_TXT_STRING = 255

/** `value` cut into strings of at most 255 bytes (never inside a UTF-8 sequence); one empty string for ''. */
export function splitTxt (value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8')
  const strings: Buffer[] = []
  let start = 0
  do {
    let end = Math.min(bytes.length, start + MAX_TXT_STRING)
    while (end < bytes.length && end > start + 1 && ((bytes[end] as number) & 0xc0) === 0x80) end--
    strings.push(bytes.subarray(start, end))
    start = end
  } while (start < bytes.length)
  return strings
}

/** A TXT record's strings joined, read as UTF-8: the value DNSLink sees. */
export function joinTxt (strings: readonly Uint8Array[]): string {
  return Buffer.concat(strings.map((s) => Buffer.from(s))).toString('utf8')
}

/**
 * `value` in presentation form: quoted strings of at most 255 bytes, `"` and
 * `\` escaped, bytes outside printable ASCII as `\DDD`.
 */
export function quoteTxt (value: string): string {
  return splitTxt(value).map((s) => {
    let text = ''
    for (const b of s) {
      if (b === 0x22 || b === 0x5c) text += `\\${String.fromCharCode(b)}`
      else if (b < 0x20 || b > 0x7e) text += `\\${String(b).padStart(3, '0')}`
      else text += String.fromCharCode(b)
    }
    return `"${text}"`
  }).join(' ')
}

/**
 * The value of presentation-form TXT data: its strings unescaped and joined.
 * Data that does not start with a quote is taken as it is (Cloudflare and
 * DNSimple keep unquoted content as one string).
 */
export function unquoteTxt (content: string): string {
  const text = content.trim()
  if (!text.startsWith('"')) return text
  return joinTxt(parseTxtStrings(text))
}

/** The character-strings of presentation-form TXT data, as bytes. Lenient: an unclosed quote runs to the end. */
export function parseTxtStrings (content: string): Buffer[] {
  const bytes = Buffer.from(content, 'utf8')
  const strings: Buffer[] = []
  let i = 0
  while (i < bytes.length) {
    while (i < bytes.length && isSpace(bytes[i] as number)) i++
    if (i >= bytes.length) break
    const quoted = bytes[i] === 0x22
    if (quoted) i++
    const out: number[] = []
    while (i < bytes.length) {
      const b = bytes[i] as number
      if (quoted ? b === 0x22 : isSpace(b)) break
      if (b === 0x5c && i + 1 < bytes.length) {
        const digits = bytes.subarray(i + 1, i + 4).toString('latin1')
        if (/^\d{3}$/.test(digits) && Number(digits) <= 255) {
          out.push(Number(digits))
          i += 4
        } else {
          out.push(bytes[i + 1] as number)
          i += 2
        }
        continue
      }
      out.push(b)
      i++
    }
    if (quoted) i++ // the closing quote
    strings.push(Buffer.from(out))
  }
  return strings
}

function isSpace (b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d
}
