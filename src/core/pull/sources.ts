import { CarBlockSource } from '../blocks/car-source.js'
import { GatewayBlockSource, type GatewayOptions } from '../blocks/gateway.js'
import { GatewayCarSource, type GatewayCarOptions } from '../blocks/gateway-car.js'
import { GatewayFileSource } from '../blocks/gateway-file.js'
import type { BlockSource } from '../blocks/types.js'
import { InputError, option, text, throwIfAborted } from '../errors.js'
import { KuboBlockSource } from '../kubo/block-source.js'
import { kuboConfig } from '../kubo/config.js'
import { KuboRpc } from '../kubo/rpc.js'
import { silentLogger, type AbortOptions, type Logger } from '../logger.js'
import { validateGatewayUrl } from '../sources.js'
import { LocalStore } from '../store.js'

/** One place blocks come from, as the user named it. */
export type PullSourceSpec =
  | { kind: 'gateway', url: string }
  /** A Kubo RPC endpoint; `offline` answers from its own blockstore only. */
  | { kind: 'kubo', url: string, offline?: boolean, headers?: Record<string, string> }
  | { kind: 'car', path: string }
  /** An embedded local store (`--store DIR`: blocks under DIR/blocks). */
  | { kind: 'store', dir: string }

/** The opened sources: blocks one by one in the order given, and the gateways that send whole DAGs as CARs, or whole files. */
export interface PullSources {
  /** Tried in order for each block; each verifies what it returns. */
  blocks: BlockSource[]
  /** Gateways asked first for a whole DAG (`?format=car`), in the order given. */
  cars: GatewayCarSource[]
  /** Gateways asked for a file's bytes whole (`ipcr serve`), in the order given. */
  files: GatewayFileSource[]
  close: () => Promise<void>
}

export interface OpenPullSourcesOptions extends AbortOptions {
  logger?: Logger
  /** For tests: the fetch every gateway request goes through. */
  fetch?: typeof globalThis.fetch
  gateway?: Omit<GatewayOptions, 'fetch' | 'logger'>
  car?: Omit<GatewayCarOptions, 'fetch' | 'logger'>
  /** Input keys for errors; defaults 'gateways', 'cars', 'store', 'kubo-rpc-url'. */
  inputs?: Partial<Record<PullSourceSpec['kind'], string>>
}

/**
 * Opens the sources in the order given: each gateway gives a CAR source, a file source and a
 * raw-block source (consecutive gateways share one GatewayBlockSource, which falls back among them),
 * a Kubo RPC a `block/get` source, a CAR file or a store their blocks. InputError naming the
 * option when a URL or a CAR file is bad, or when there is no source at all.
 */
export async function openPullSources (specs: PullSourceSpec[], options: OpenPullSourcesOptions = {}): Promise<PullSources> {
  const logger = options.logger ?? silentLogger
  const input = (kind: PullSourceSpec['kind']): string => options.inputs?.[kind] ?? { gateway: 'gateways', car: 'cars', store: 'store', kubo: 'kubo-rpc-url' }[kind]
  if (specs.length === 0) throw new InputError(input('gateway'), text`no block source: give ${option(input('gateway'))}, ${option(input('kubo'))}, ${option(input('store'))} or ${option(input('car'))}`)
  const blocks: BlockSource[] = []
  const cars: GatewayCarSource[] = []
  const files: GatewayFileSource[] = []
  const opened: CarBlockSource[] = []
  const close = async (): Promise<void> => { await Promise.all(opened.map(async (car) => { await car.close() })) }
  try {
    let gateways: string[] = []
    const flush = (): void => {
      if (gateways.length === 0) return
      blocks.push(new GatewayBlockSource(gateways, { ...options.gateway, fetch: options.fetch, logger }))
      gateways = []
    }
    for (const spec of specs) {
      throwIfAborted(options.signal)
      if (spec.kind === 'gateway') {
        const url = validateGatewayUrl(spec.url, input('gateway'))
        gateways.push(url)
        cars.push(new GatewayCarSource(url, { ...options.car, fetch: options.fetch, logger }))
        files.push(new GatewayFileSource(url, { fetch: options.fetch, logger }))
        continue
      }
      flush()
      if (spec.kind === 'kubo') {
        blocks.push(new KuboBlockSource(new KuboRpc(kuboConfig({ url: spec.url, headers: spec.headers }, input('kubo')), logger), { offline: spec.offline }))
      } else if (spec.kind === 'store') {
        blocks.push(new LocalStore(spec.dir).blocks)
      } else {
        try {
          const car = await CarBlockSource.open(spec.path, options)
          opened.push(car)
          blocks.push(car)
        } catch (err) {
          throwIfAborted(options.signal)
          throw new InputError(input('car'), `cannot read '${spec.path}' as a CAR file: ${(err as Error).message}`, { cause: err })
        }
      }
    }
    flush()
  } catch (err) {
    await close()
    throw err
  }
  return { blocks, cars, files, close }
}
