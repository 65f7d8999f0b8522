import { InputError } from '../errors.js'
import { KuboDestination, type KuboDestinationConfig } from '../kubo/destination.js'
import type { Logger } from '../logger.js'
import { ClusterDestination, type ClusterConfig } from '../pinning/cluster.js'
import type { Destination } from './types.js'

type Factory = (config: any, logger: Logger) => Destination

/** Destinations by name; each constructor validates its configuration without network calls. */
const factories = new Map<string, Factory>([
  ['kubo', (config: KuboDestinationConfig, logger) => new KuboDestination(config, logger)],
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
