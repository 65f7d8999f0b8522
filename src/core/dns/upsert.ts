import { InputError } from '../errors.js'
import { hasControl, quote } from '../escape.js'
import { parseDomainName } from './name.js'
import { dnslinkValues, type DnsLinkResult, type DnsLinkUpsert } from './types.js'

/**
 * What every provider's upsertDnsLink shares: the request checked before any
 * network call, and the decision made from the TXT values read at the name.
 */

/** Longest DNSLink value written (a path of a CID or an IPNS name is far shorter). */
export const MAX_DNSLINK_VALUE = 2048
/** Longest TTL (RFC 2181: 2^31 - 1 seconds). */
export const MAX_TTL = 2_147_483_647

/** Two or more dnslink= values at a name: nothing was changed (about `dnslink-domain`: the zone needs a hand). */
export class DnsLinkConflictError extends InputError {
  constructor (reason: string) {
    super('dnslink-domain', reason)
  }
}

/** The upsert with its name made canonical; throws InputError (dnslink-domain, dnslink-value, dnslink-ttl). */
export function checkDnsLinkUpsert (upsert: DnsLinkUpsert): DnsLinkUpsert {
  const name = parseDomainName(upsert.name, 'dnslink-domain')
  const value = upsert.value
  if (typeof value !== 'string' || !value.startsWith('dnslink=') || value.length > MAX_DNSLINK_VALUE || hasControl(value)) {
    throw new InputError('dnslink-value', `${quote(String(value), 80)} is not a DNSLink value (dnslink=/ipfs/… or dnslink=/ipns/…, one line)`)
  }
  if (!Number.isInteger(upsert.ttl) || upsert.ttl < 1 || upsert.ttl > MAX_TTL) {
    throw new InputError('dnslink-ttl', `the TTL must be a whole number of seconds from 1 to ${MAX_TTL}`)
  }
  return { name, value, ttl: upsert.ttl }
}

/** What an upsert has to do; `index` is the existing dnslink= value's place among the values read. */
export type DnsLinkPlan =
  | { action: 'create' }
  | { action: 'replace', previous: string, index: number }
  | { action: 'unchanged', previous: string, index: number }

/**
 * Decides create / replace / unchanged from the TXT `values` at `name`;
 * throws DnsLinkConflictError (naming the provider's `label`) for two or more dnslink= values.
 */
export function planDnsLink (label: string, name: string, values: readonly string[], value: string): DnsLinkPlan {
  const previous = singleDnsLink(label, name, values)
  if (previous == null) return { action: 'create' }
  const index = values.indexOf(previous)
  return previous === value ? { action: 'unchanged', previous, index } : { action: 'replace', previous, index }
}

/** The one dnslink= value among the TXT `values` at `name`, if any; two or more throw DnsLinkConflictError. */
export function singleDnsLink (label: string, name: string, values: readonly string[]): string | undefined {
  const links = dnslinkValues([...values])
  if (links.length > 1) {
    throw new DnsLinkConflictError(`${label}: ${name} has ${links.length} dnslink= TXT values (${links.map((v) => quote(v, 100)).join(', ')}); DNSLink needs exactly one: remove the others by hand, ipcr will not guess which. Nothing was changed`)
  }
  return links[0]
}

/** The result of carrying out `plan`. */
export function planResult (plan: DnsLinkPlan): DnsLinkResult {
  switch (plan.action) {
    case 'create': return { change: 'created' }
    case 'replace': return { change: 'replaced', previous: plan.previous }
    case 'unchanged': return { change: 'unchanged', previous: plan.previous }
  }
}
