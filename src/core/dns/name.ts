import { InputError } from '../errors.js'
import { quote } from '../escape.js'

/** Longest domain name in text form (RFC 1035: 255 bytes on the wire). */
const MAX_NAME = 253
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/

/**
 * A domain name as given (`_dnslink.reg.example.org`, a trailing dot allowed),
 * checked (letters, digits, `-` and `_`; labels of 1 to 63 characters) and made
 * canonical: lower case, no trailing dot. `input` is the option key blamed.
 */
export function parseDomainName (value: string, input: string): string {
  const name = value.trim().toLowerCase().replace(/\.$/, '')
  if (name === '' || name.length > MAX_NAME || !name.split('.').every((l) => LABEL.test(l))) {
    throw new InputError(input, `${quote(value, 80)} is not a domain name (labels of letters, digits, '-' and '_', 1 to 63 characters each, separated by dots)`)
  }
  return name
}

/** `name` is `zone` or below it (both canonical). */
export function inZone (name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`)
}

/** `name` and each name above it, longest first: `a.b.c` → `a.b.c`, `b.c`, `c`. */
export function enclosingNames (name: string): string[] {
  const labels = name.split('.')
  return labels.map((_, i) => labels.slice(i).join('.'))
}
