import { CarBlockSource } from '../blocks/car-source.js'
import { FirstSource } from '../blocks/multi.js'
import type { BlockSource } from '../blocks/types.js'
import type { BlockNetwork } from '../destinations/types.js'
import { silentLogger, type OperationOptions } from '../logger.js'
import type { OriginNodeStats } from './origin-node.js'
import type { NetworkSettings } from './settings.js'


export interface ServedBlocks {
  network: BlockNetwork
  stop: () => Promise<void>
  /** What the embedded node served so far (none when origins were given). */
  stats?: () => OriginNodeStats
}

/**
 * Serves the new root's blocks while destinations that fetch them (pinning
 * services) store it: the given origins, or an embedded libp2p node holding
 * the run's CARs, with the run's sources behind them (blocks of the previous
 * root). Every block it serves is read through a verifying BlockSource.
 */
export async function serveBlocks (cars: string[], sources: BlockSource[], settings: NetworkSettings = {}, options: OperationOptions = {}): Promise<ServedBlocks> {
  const logger = options.logger ?? silentLogger
  if (settings.origins != null && settings.origins.length > 0) {
    logger.info(`Pinning services fetch the blocks from the given origins: ${settings.origins.join(', ')}`)
    return { network: { origins: settings.origins, dial: async () => {} }, stop: async () => {} }
  }
  const opened: CarBlockSource[] = []
  try {
    for (const car of cars) opened.push(await CarBlockSource.open(car, options))
    // libp2p loads only when a run pins remotely.
    const { startOriginNode } = await import('./origin-node.js')
    const node = await startOriginNode({ blocks: new FirstSource([...opened, ...sources]), listen: settings.listen ?? ['/ip4/0.0.0.0/tcp/0'], logger, signal: options.signal })
    // A service elsewhere cannot reach the runner's loopback: named only when nothing else is.
    const loopback = (a: string): boolean => /^\/(ip4\/127\.|ip6\/::1\/)/.test(a)
    const reachable = node.origins.filter((a) => !loopback(a))
    const origins = reachable.length > 0 ? reachable : node.origins
    logger.info(`Serving this run's blocks from an embedded IPFS node: ${origins.join(', ')}`)
    return {
      network: { origins, dial: async (addresses, dialOptions) => { await node.dial(addresses, dialOptions) } },
      stats: () => node.stats(),
      stop: async () => {
        try {
          const stats = node.stats()
          await node.stop()
          logger.info(`Stopped the embedded IPFS node: served ${stats.blocksServed} blocks (${stats.bytesServed} bytes)`)
        } finally {
          await Promise.all(opened.map(async (c) => { await c.close() }))
        }
      }
    }
  } catch (err) {
    await Promise.all(opened.map(async (c) => { await c.close() }))
    throw err
  }
}
