import { InputError } from '../errors.js'
import { KuboDestination, type KuboDestinationConfig } from '../kubo/destination.js'
import type { Logger } from '../logger.js'
import { W3upDestination, type W3upConfig } from '../pinning/w3up.js'
import { PinningServiceDestination, type PinningServiceConfig } from '../pinning/psa.js'
import { ClusterDestination, type ClusterConfig } from '../pinning/cluster.js'
import type { Destination } from './types.js'

type Factory = (config: any, logger: Logger) => Destination

/** Destinations by name; each constructor validates its configuration without network calls. */
const factories = new Map<string, Factory>([
  ['kubo', (config: KuboDestinationConfig, logger) => new KuboDestination(config, logger)],
  ['w3up', (config: W3upConfig, logger) => new W3upDestination(config, logger)],
  ['psa', (config: PinningServiceConfig, logger) => new PinningServiceDestination(config, logger)],
  ['cluster', (config: ClusterConfig, logger) => new ClusterDestination(config, logger)]
])

export function createDestination (kind: string, config: unknown, logger: Logger): Destination {
  const factory = factories.get(kind)
  if (factory == null) throw new InputError('destination', `unknown destination '${kind}' (known: ${[...factories.keys()].join(', ')})`)
  return factory(config, logger)
}

export function registerDestination (kind: string, factory: Factory): void {
  factories.set(kind, factory)
}
