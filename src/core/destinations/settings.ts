import { InputError, option, text } from '../errors.js'
import { KuboDestination, KuboIpnsPublisher, type KuboDestinationConfig } from '../kubo/destination.js'
import type { IpnsSettings } from '../ipns/settings.js'
import type { Logger } from '../logger.js'
import { createDestination } from './registry.js'
import type { Destination, NamePublisher } from './types.js'

/** What the shells read from inputs or flags; turned into providers in one place. */
export interface DestinationSettings {
  kubo?: KuboDestinationConfig
  ipns?: IpnsSettings
}

export function createProviders (settings: DestinationSettings, logger: Logger): { destinations: Destination[], names: NamePublisher[] } {
  const destinations: Destination[] = []
  const names: NamePublisher[] = []
  if (settings.kubo != null) destinations.push(createDestination('kubo', settings.kubo, logger))
  const ipns = settings.ipns
  if (ipns?.keystoreKey != null) {
    const kubo = destinations.find((d): d is KuboDestination => d instanceof KuboDestination)
    if (kubo == null) throw new InputError('ipns-key', text`publishing IPNS through a keystore needs ${option('kubo-rpc-url')}`)
    names.push(new KuboIpnsPublisher(kubo.rpc, { key: ipns.keystoreKey, ...(ipns.privateKey != null ? { privateKey: ipns.privateKey } : {}), ...(ipns.lifetime != null ? { lifetime: ipns.lifetime } : {}) }, logger))
  }
  return { destinations, names }
}
