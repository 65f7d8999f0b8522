/**
 * TXT record data in zone-file presentation form, as PowerDNS (and Cloudflare,
 * Route 53) store it: one or more character-strings, each quoted or a bare
 * word, separated by spaces; `\X` stands for X and `\DDD` for the byte DDD.
 */

/** Longest character-string in a TXT record (RFC 1035: a length byte). */
export const MAX_TXT_STRING = 255

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

/** The value of presentation-form TXT data: its character-strings joined (then read as UTF-8), as DNSLink reads them. */
export function txtValue (content: string): string {
  return Buffer.concat(parseTxtStrings(content)).toString('utf8')
}

/**
 * `value` as presentation-form TXT data: quoted strings of at most 255 bytes,
 * `"` and `\` escaped, bytes outside printable ASCII as `\DDD`.
 */
export function quoteTxt (value: string): string {
  const bytes = Buffer.from(value, 'utf8')
  const strings: string[] = []
  for (let at = 0; at < bytes.length || strings.length === 0; at += MAX_TXT_STRING) {
    let text = ''
    for (const b of bytes.subarray(at, at + MAX_TXT_STRING)) {
      if (b === 0x22 || b === 0x5c) text += `\\${String.fromCharCode(b)}`
      else if (b < 0x20 || b > 0x7e) text += `\\${String(b).padStart(3, '0')}`
      else text += String.fromCharCode(b)
    }
    strings.push(`"${text}"`)
  }
  return strings.join(' ')
}

function isSpace (b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d
}
