import type { CID } from 'multiformats/cid'
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

/**
 * The registry root to update: `previousRoot` when given, else the root in the header of the
 * one previous CAR (the CAR of the last publish, e.g. restored from a cache), else null (a new
 * registry). A CAR with no root or several, or several CARs, is ambiguous: the caller must
 * name the root (previous-root). `names` are the shell's names of the two inputs, for errors.
 */
export function resolvePreviousRoot (previousRoot: CID | null | undefined, sources: BlockSource[], names: { car?: string, root?: string } = {}): CID | null {
  const carInput = names.car ?? 'previous-car'
  const rootInput = names.root ?? 'previous-root'
  if (previousRoot != null) return previousRoot
  const cars = sources.filter((s): s is CarBlockSource => s instanceof CarBlockSource)
  if (cars.length === 0) return null
  if (cars.length > 1) {
    throw new InputError(rootInput, `${cars.length} ${carInput} files are given (${cars.map((c) => `'${c.path}'`).join(', ')}) and no ${rootInput}: set ${rootInput} to say which root to update`)
  }
  const car = cars[0] as CarBlockSource
  if (car.roots.length !== 1) {
    throw new InputError(carInput, `'${car.path}' has ${car.roots.length === 0 ? 'no root' : `${car.roots.length} roots (${car.roots.join(', ')})`} in its header; expected exactly one, the registry root to update (or set ${rootInput})`)
  }
  return car.roots[0] as CID
}

/** Closes the files and connections of sources that hold any. */
export async function closeSources (sources: BlockSource[]): Promise<void> {
  await Promise.all(sources.map(async (source) => { await source.close?.() }))
}
