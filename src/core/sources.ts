import type { BlockSource } from './blocks/types.js'
import { CarBlockSource } from './blocks/car-source.js'
import { GatewayBlockSource } from './blocks/gateway.js'
import { InputError, throwIfAborted } from './errors.js'
import { parseServiceUrl } from './url.js'
import type { AbortOptions, Logger } from './logger.js'

export interface SourceConfig {
  gateways: string[]
  cars: string[]
  /** The option `cars` came from, for errors (default previous-car). */
  carsInput?: string
}

/** Checks a gateway URL; returns it as given (credentials included, for the source to use). */
export function validateGatewayUrl (value: string, input = 'gateways'): string {
  parseServiceUrl(value, input)
  return value.trim().replace(/\/+$/, '')
}

/** Opens the block sources a publish reads the previous root from: local CARs first, then gateways. */
export async function openSources (config: SourceConfig, logger: Logger, options: AbortOptions = {}): Promise<BlockSource[]> {
  const sources: BlockSource[] = []
  for (const path of config.cars) {
    try {
      sources.push(await CarBlockSource.open(path, options))
    } catch (err) {
      await closeSources(sources)
      throwIfAborted(options.signal)
      throw new InputError(config.carsInput ?? 'previous-car', `cannot read '${path}' as a CAR file: ${(err as Error).message}`, { cause: err })
    }
  }
  if (config.gateways.length > 0) {
    sources.push(new GatewayBlockSource(config.gateways.map((g) => validateGatewayUrl(g)), { logger }))
  }
  return sources
}

/** Closes the files and connections of sources that hold any. */
export async function closeSources (sources: BlockSource[]): Promise<void> {
  await Promise.all(sources.map(async (source) => { await source.close?.() }))
}
