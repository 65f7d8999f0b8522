import type { OperationOptions } from '../logger.js'

/** What an upsert of a DNSLink TXT record did. */
export type DnsLinkChange = 'created' | 'replaced' | 'unchanged'

export interface DnsLinkUpsert {
  /** The record's owner name, e.g. `_dnslink.registry.example.org` (no trailing dot). */
  name: string
  /** The whole TXT value, e.g. `dnslink=/ipns/k51…`. */
  value: string
  /** Seconds. */
  ttl: number
}

export interface DnsLinkResult {
  change: DnsLinkChange
  /** The dnslink= value that was there before, if any. */
  previous?: string
}

/**
 * A DNS provider's API, as DNSLink needs it: read the TXT values at a name and
 * upsert the one `dnslink=` value among them. Other TXT values at the name are
 * never touched; two or more `dnslink=` values there are an error, not a guess.
 * Constructors check the whole configuration without network calls and name the
 * provider in every error.
 */
export interface DnsProvider {
  readonly kind: string
  /** e.g. `PowerDNS http://127.0.0.1:8081 (zone example.org.)`: no secrets. */
  readonly label: string
  /** Reachable, credentials accepted, the zone of `name` served. */
  preflight(name: string, options: OperationOptions): Promise<void>
  /** Every TXT value at `name` (each value's strings joined), in no particular order. */
  readTxt(name: string, options: OperationOptions): Promise<string[]>
  /** Creates, replaces or leaves alone the dnslink= value at `upsert.name`. */
  upsertDnsLink(upsert: DnsLinkUpsert, options: OperationOptions): Promise<DnsLinkResult>
}

/** The dnslink= values among TXT values. */
export function dnslinkValues (values: string[]): string[] {
  return values.filter((v) => v.startsWith('dnslink='))
}
