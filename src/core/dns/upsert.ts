import { IpcrError } from '../errors.js'
import { quote } from '../escape.js'
import { dnslinkValues } from './types.js'

/** Two or more dnslink= values at a name: nothing was changed. */
export class DnsLinkConflictError extends IpcrError {
  constructor (message: string) {
    super('ERR_DNSLINK_CONFLICT', message)
  }
}

/** What an upsert has to do, given the TXT values at the name. */
export type DnsLinkPlan =
  | { action: 'create' }
  | { action: 'replace', previous: string }
  | { action: 'unchanged', previous: string }

/** Decides create / replace / unchanged; throws DnsLinkConflictError for two or more dnslink= values. */
export function planDnsLink (label: string, name: string, values: string[], value: string): DnsLinkPlan {
  const links = dnslinkValues(values)
  if (links.length > 1) {
    throw new DnsLinkConflictError(`${label}: ${name} has ${links.length} dnslink= TXT values (${links.map((v) => quote(v)).join(', ')}); remove all but one by hand, ipcr will not guess which`)
  }
  const previous = links[0]
  if (previous == null) return { action: 'create' }
  return previous === value ? { action: 'unchanged', previous } : { action: 'replace', previous }
}
