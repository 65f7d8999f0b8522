import type { BlockSource } from './blocks/types.js'
import { CarBlockSource } from './blocks/car-source.js'
import { GatewayBlockSource } from './blocks/gateway.js'
import { InputError } from './errors.js'
import type { Logger } from './logger.js'

export interface SourceConfig {
  gateways: string[]
  cars: string[]
}

export function validateGatewayUrl (value: string, input = 'gateways'): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InputError(input, `'${value.replace(/\/\/[^/@]*@/, '//***@')}' is not a URL (expected e.g. https://gateway.example)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(input, `'${url.origin}' must be an http:// or https:// URL`)
  }
  return value.replace(/\/+$/, '')
}

/** Opens the block sources a publish reads the previous root from: local CARs first, then gateways. */
export async function openSources (config: SourceConfig, logger: Logger): Promise<BlockSource[]> {
  const sources: BlockSource[] = []
  for (const path of config.cars) {
    try {
      sources.push(await CarBlockSource.open(path))
    } catch (err) {
      throw new InputError('previous-car', `cannot read '${path}' as a CAR file: ${(err as Error).message}`, { cause: err })
    }
  }
  if (config.gateways.length > 0) {
    sources.push(new GatewayBlockSource(config.gateways.map((g) => validateGatewayUrl(g)), { logger }))
  }
  return sources
}
