import { IpcrError } from '../errors.js'
import { quote } from '../escape.js'
import { recordStores } from '../ipns/stores.js'
import { kuboConfig } from '../kubo/config.js'
import { KuboRpc } from '../kubo/rpc.js'
import type { OperationOptions } from '../logger.js'
import { followDnsLink, type LinkResolution } from './link.js'
import { plainName } from './name.js'
import { resolverReader, systemResolver } from './resolve.js'

export interface DnsLinkLookupOptions extends OperationOptions {
  /** `dns-resolver`, host[:port]; default the system's. */
  resolver?: string
  /** Where a link to /ipns/<name> is followed: a Kubo node (routing get), routers, gateways. */
  kubo?: { url: string, headers?: Record<string, string>, timeoutMs?: number }
  routers?: string[]
  gateways?: string[]
}

/**
 * A domain's DNSLink through a resolver, followed to the registry root (records of
 * /ipns/ names checked against the name): `ipcr dnslink get`, and the pull side.
 * No DNSLink at all is an error naming where it looked.
 */
export async function lookupDnsLink (domain: string, options: DnsLinkLookupOptions = {}): Promise<LinkResolution & { resolver: string }> {
  const resolver = options.resolver ?? systemResolver()
  const kubo = options.kubo != null ? new KuboRpc(kuboConfig(options.kubo), options.logger) : undefined
  const stores = recordStores({ routers: options.routers ?? [], gateways: options.gateways ?? [] }, kubo)
  const found = await followDnsLink(domain, resolverReader({ resolver, signal: options.signal }), { ...options, stores })
  if (found == null) {
    const bare = plainName(domain)
    throw new IpcrError('ERR_DNSLINK', `no DNSLink for ${quote(bare, 80)}: no dnslink= TXT value at _dnslink.${bare} or ${bare} (resolver ${resolver})`)
  }
  return { ...found, resolver }
}
