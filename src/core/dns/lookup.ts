import type { OperationOptions } from '../logger.js'
import { nameStores, type NameStoreOptions } from '../ipns/stores.js'
import type { RecordStore } from '../ipns/types.js'
import { followDnsLink, type LinkResolution } from './link.js'
import { noDnsLink, resolverReader, systemResolver, type TxtTtl } from './resolve.js'

export interface DnsLinkLookupOptions extends OperationOptions, NameStoreOptions {
  /** `dns-resolver`, host[:port]; default the system's. */
  resolver?: string
  /** Where a link to /ipns/<name> is followed; default the stores of `kubo`, `routers` and `gateways`. */
  stores?: RecordStore[]
}

/**
 * A domain's DNSLink through a resolver, followed to the registry root (records of
 * /ipns/ names checked against the name): `ipcr dnslink get`, and the pull side.
 * No DNSLink at all is a NameNotFoundError naming where it looked. `ttlMs`: how long the answer
 * may be kept (the least TTL of the TXT records and of the IPNS record it went through).
 */
export async function lookupDnsLink (domain: string, options: DnsLinkLookupOptions = {}): Promise<LinkResolution & { resolver: string, ttlMs?: number }> {
  const resolver = options.resolver ?? systemResolver()
  const stores = options.stores ?? nameStores(options, options.logger)
  const ttl: TxtTtl = {}
  const found = await followDnsLink(domain, resolverReader({ resolver, signal: options.signal }, ttl), { ...options, stores })
  if (found == null) throw noDnsLink(domain, resolver)
  // How long the answer holds: the least TTL of the TXT records read and of the IPNS record followed.
  const ttls = [ttl.seconds != null ? ttl.seconds * 1000 : undefined, found.recordTtlMs].filter((t): t is number => t != null)
  return { ...found, resolver, ...(ttls.length > 0 ? { ttlMs: Math.min(...ttls) } : {}) }
}
