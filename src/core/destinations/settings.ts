import { DnsLinkPublisher } from '../dns/publisher.js'
import { resolverReader, systemResolver } from '../dns/resolve.js'
import type { DnsLinkSettings } from '../dns/settings.js'
import { DnsLinkSource } from '../dns/source.js'
import { InputError, option, text } from '../errors.js'
import type { RecordStore } from '../ipns/types.js'
import { IpnsNameSource, IpnsPublisher, configName } from '../ipns/publisher.js'
import type { IpnsSettings } from '../ipns/settings.js'
import { recordStores } from '../ipns/stores.js'
import { KuboDestination, type KuboDestinationConfig } from '../kubo/destination.js'
import { KuboIpnsPublisher } from '../ipns/kubo-keystore.js'
import type { Logger } from '../logger.js'
import type { W3upConfig } from '../pinning/w3up.js'
import type { PinningServiceConfig } from '../pinning/services.js'
import type { ClusterConfig } from '../pinning/cluster.js'
import { createDestination } from './registry.js'
import type { NetworkSettings } from '../pinning/settings.js'
import type { Destination, NamePublisher, NameSource } from './types.js'

/** What the shells read from inputs or flags; turned into providers in one place. */
export interface DestinationSettings {
  kubo?: KuboDestinationConfig
  cluster?: ClusterConfig
  ipns?: IpnsSettings
  w3up?: W3upConfig
  /** Pinning Service API services (pinning-services, or pinning-service-endpoint and -token). */
  pinningServices?: PinningServiceConfig[]
  /** How pinning services get this run's blocks (pin-origins, pin-listen). */
  network?: NetworkSettings
  /** DNSLink: published through a DNS provider, or (without one) read for the previous root. */
  dnslink?: DnsLinkSettings
}

export interface Providers {
  destinations: Destination[]
  names: NamePublisher[]
  /** A name only read (ipns-name without a key, dnslink-domain without a provider): where the previous root comes from. */
  nameSource?: NameSource
  network?: NetworkSettings
}

export function createProviders (settings: DestinationSettings, logger: Logger): Providers {
  const destinations: Destination[] = []
  const names: NamePublisher[] = []
  const network = settings.network != null ? { network: settings.network } : {}
  if (settings.kubo != null) destinations.push(createDestination('kubo', settings.kubo, logger))
  if (settings.w3up != null) destinations.push(createDestination('w3up', settings.w3up, logger))
  for (const service of settings.pinningServices ?? []) destinations.push(createDestination('psa', service, logger))
  if (settings.cluster != null) destinations.push(createDestination('cluster', settings.cluster, logger))
  const kubo = destinations.find((d): d is KuboDestination => d instanceof KuboDestination)
  const ipns = settings.ipns
  let nameSource: NameSource | undefined
  if (ipns?.keystoreKey != null) {
    if (kubo == null) throw new InputError('ipns-key', text`publishing IPNS through a keystore needs ${option('kubo-rpc-url')}`)
    names.push(new KuboIpnsPublisher(kubo.rpc, { key: ipns.keystoreKey, ...(ipns.privateKey != null ? { privateKey: ipns.privateKey } : {}), ...(ipns.lifetime != null ? { lifetime: ipns.lifetime } : {}) }, recordStores({ ...ipns, gateways: [] }), logger))
  } else if (ipns?.privateKey != null) {
    names.push(new IpnsPublisher({ ...ipns, privateKey: ipns.privateKey, stores: recordStores(ipns, kubo?.rpc) }, logger))
  } else if (ipns?.name != null) {
    const stores = recordStores(ipns, kubo?.rpc)
    if (stores.length === 0) throw new InputError('ipns-name', text`reading the name needs somewhere to read it: set ${option('kubo-rpc-url')}, ${option('ipns-routers')} or ${option('gateways')}`)
    nameSource = new IpnsNameSource(stores, configName(ipns).name, logger)
  }
  const dns = settings.dnslink
  if (dns?.provider != null) {
    names.push(dnsLinkPublisher(dns, dns.provider, names.length > 0, ipns?.name, recordStores(dns, kubo?.rpc), logger))
  } else if (dns != null && nameSource == null && names.length === 0) {
    const resolver = dns.resolver ?? systemResolver()
    nameSource = new DnsLinkSource(dns.domain, resolverReader({ resolver }), recordStores(dns, kubo?.rpc), `resolver ${resolver}`, logger)
  }
  return { destinations, names, ...(nameSource != null ? { nameSource } : {}), ...network }
}

/**
 * DNSLink, the last name to move. Its value: `ipns` (the default when this run publishes an
 * IPNS name) writes that name, or `ipns-name` when none is published; `ipfs` writes the root.
 */
function dnsLinkPublisher (dns: DnsLinkSettings, provider: string, publishesIpns: boolean, ipnsName: string | undefined, stores: RecordStore[], logger: Logger): DnsLinkPublisher {
  const value = dns.value ?? (publishesIpns ? 'ipns' : 'ipfs')
  if (value === 'ipns' && !publishesIpns && ipnsName == null) {
    throw new InputError('dnslink-value', text`'ipns' needs an IPNS name: publish one in the same run (${option('ipns-private-key')} or ${option('ipns-key')}) or give ${option('ipns-name')}`)
  }
  return new DnsLinkPublisher({
    domain: dns.domain,
    provider,
    providerConfig: dns.providerConfig ?? {},
    value,
    ...(value === 'ipns' && !publishesIpns && ipnsName != null ? { ipnsName } : {}),
    ...(dns.ttl != null ? { ttl: dns.ttl } : {}),
    ...(dns.bare != null ? { bare: dns.bare } : {}),
    ...(dns.allowUntrusted != null ? { allowUntrusted: dns.allowUntrusted } : {}),
    stores
  }, logger)
}
