import { InputError, option, text } from '../errors.js'
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
}

export interface Providers {
  destinations: Destination[]
  names: NamePublisher[]
  /** A name only read (ipns-name without a key): where the previous root comes from. */
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
  if (ipns?.keystoreKey != null) {
    if (kubo == null) throw new InputError('ipns-key', text`publishing IPNS through a keystore needs ${option('kubo-rpc-url')}`)
    names.push(new KuboIpnsPublisher(kubo.rpc, { key: ipns.keystoreKey, ...(ipns.privateKey != null ? { privateKey: ipns.privateKey } : {}), ...(ipns.lifetime != null ? { lifetime: ipns.lifetime } : {}) }, recordStores({ ...ipns, gateways: [] }), logger))
  } else if (ipns?.privateKey != null) {
    names.push(new IpnsPublisher({ ...ipns, privateKey: ipns.privateKey, stores: recordStores(ipns, kubo?.rpc) }, logger))
  } else if (ipns?.name != null) {
    const stores = recordStores(ipns, kubo?.rpc)
    if (stores.length === 0) throw new InputError('ipns-name', text`reading the name needs somewhere to read it: set ${option('kubo-rpc-url')}, ${option('ipns-routers')} or ${option('gateways')}`)
    return { destinations, names, nameSource: new IpnsNameSource(stores, configName(ipns).name, logger), ...network }
  }
  return { destinations, names, ...network }
}
