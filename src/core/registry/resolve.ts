import type { CID } from 'multiformats/cid'
import { lookupDnsLink } from '../dns/lookup.js'
import { NameNotFoundError } from '../errors.js'
import { quote } from '../escape.js'
import { lookupName } from '../ipns/lookup.js'
import { parseIpnsName } from '../ipns/name.js'
import { nameStores, type NameStoreOptions } from '../ipns/stores.js'
import { silentLogger, type AbortOptions, type Logger } from '../logger.js'
import type { RegistryRef } from './location.js'

/** A registry name that must be looked up: an IPNS name or a DNSLink domain. */
export type NamedRegistry = Extract<RegistryRef, { kind: 'ipns' | 'dnslink' }>

export interface ResolvedRoot {
  root: CID
  /** How long the answer may be kept: the IPNS record's TTL; for a DNSLink, its TXT records' (and the record's it links to). */
  ttlMs: number
}

/** Looks a named registry up; throws when it cannot (NameNotFoundError when it holds no root). */
export type RootResolver = (registry: NamedRegistry, options?: AbortOptions) => Promise<ResolvedRoot>

/** How long a root found through a DNSLink is kept when the answer gives no TTL. */
export const DNSLINK_TTL_MS = 60_000

export interface RegistryResolverOptions extends NameStoreOptions {
  /** `dns-resolver`, host[:port]; default the system's. */
  resolver?: string
  logger?: Logger
}

/**
 * Looks registry names up: `ipns/<name>` through its records (the newest valid one), a domain
 * through its DNSLink (followed to a root). NameNotFoundError when the name holds no root.
 */
export function registryResolver (options: RegistryResolverOptions): RootResolver {
  const logger = options.logger ?? silentLogger
  const stores = nameStores(options, logger)
  return async (registry, op = {}) => {
    if (registry.kind === 'ipns') {
      const found = await lookupName(parseIpnsName(registry.name), stores, { signal: op.signal, logger })
      const record = found.current
      if (record?.root == null) throw new NameNotFoundError(`/ipns/${registry.name} ${record == null ? 'has no record' : `holds ${quote(record.value, 100)}, not a registry root`}`)
      return { root: record.root, ttlMs: record.ttlMs }
    }
    const found = await lookupDnsLink(registry.domain, { ...(options.resolver != null ? { resolver: options.resolver } : {}), stores, signal: op.signal, logger })
    if (found.root == null) throw new NameNotFoundError(`${registry.domain} links to /ipns/${found.ipnsName ?? ''}, which has no record`)
    return { root: found.root, ttlMs: found.ttlMs ?? DNSLINK_TTL_MS }
  }
}
