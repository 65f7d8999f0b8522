import { InputError } from '../errors.js'
import { quote } from '../escape.js'

/** Longest domain name in text form (RFC 1035: 255 bytes on the wire). */
const MAX_NAME = 253
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/

/** A name without its trailing dot, lower case: how names are compared here (not checked). */
export function plainName (name: string): string {
  return name.trim().replace(/\.$/, '').toLowerCase()
}

/** A name with its trailing dot, lower case, as zone files and most APIs write it. */
export function absoluteName (name: string): string {
  return `${plainName(name)}.`
}

/**
 * A domain name as given (`_dnslink.reg.example.org`, a trailing dot allowed),
 * checked (letters, digits, `-` and `_`; labels of 1 to 63 characters) and made
 * canonical: lower case, no trailing dot. `input` is the option key blamed.
 */
export function parseDomainName (value: string, input: string): string {
  const name = plainName(value)
  if (name === '' || name.length > MAX_NAME || !name.split('.').every((l) => LABEL.test(l))) {
    throw new InputError(input, `${quote(value, 80)} is not a domain name (labels of letters, digits, '-' and '_', 1 to 63 characters each, separated by dots)`)
  }
  return name
}

/** `name` is `zone` or below it (in any case, with or without trailing dots; '' is the root). */
export function inZone (name: string, zone: string): boolean {
  const n = plainName(name)
  const z = plainName(zone)
  return z === '' || n === z || n.endsWith(`.${z}`)
}

/** `name` relative to `zone`, which holds it: `_dnslink.reg` in `example.org`; '' at the apex. */
export function relativeName (name: string, zone: string): string {
  const n = plainName(name)
  const z = plainName(zone)
  return n === z ? '' : n.slice(0, n.length - z.length - 1)
}

/** `name` and each name above it with at least `minLabels` labels, longest first: `a.b.c` → `a.b.c`, `b.c`, `c`. */
export function enclosingNames (name: string, minLabels = 1): string[] {
  const labels = plainName(name).split('.')
  const out: string[] = []
  for (let i = 0; i <= labels.length - minLabels; i++) out.push(labels.slice(i).join('.'))
  return out
}

/** Where a domain's DNSLink TXT record lives: `_dnslink.<domain>`. */
export function dnslinkName (domain: string): string {
  return `_dnslink.${plainName(domain)}`
}
