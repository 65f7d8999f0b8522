// The run's own IPFS peer: an embedded libp2p node (TCP, noise, yamux, identify) whose bitswap
// server hands out the new root's blocks, so a pinning service can fetch them with no daemon
// on the runner. Every library is imported when a node starts (dynamic import): a run that
// serves nothing never loads libp2p.
//
// Packages: js-libp2p 2 with @helia/bitswap 2 (the line helia 5 and @helia/pinning-service-api-server
// are on), not libp2p 3: libp2p 3 calls Promise.withResolvers all over, which Node 20 lacks. The
// one place libp2p 2 still calls it (mortice 3.3, the peer store's lock) is covered by node20.ts.
//
// Listening: the default is loopback only ('/ip4/127.0.0.1/tcp/0'). A runner a remote service
// must reach listens on every interface, `listen: ['/ip4/0.0.0.0/tcp/4001']` (a fixed port the
// firewall lets in; libp2p then lists each interface's address in `origins`), and when it is
// behind NAT names its public address with `announce: ['/ip4/<public ip>/tcp/4001']` (then
// `origins` holds the announced addresses only). A service that can reach none of them can
// still fetch when the node dials it: that is what `dial(delegates)` is for.
import type { BlockSource } from '../blocks/types.js'
import type { BlockNetwork } from '../destinations/types.js'
import { IpcrError, InputError, throwIfAborted } from '../errors.js'
import { quote } from '../escape.js'
import type { AbortOptions, OperationOptions } from '../logger.js'
import { remoteMessage } from '../redact.js'
import { sourceBlockstore } from './source-blockstore.js'
import { countingMetrics } from './metrics.js'
import { definePromiseWithResolvers } from './node20.js'

export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']

export interface OriginNodeOptions extends OperationOptions {
  /** Where served blocks are read from (the CAR, the run's sources); each block is verified again before it is sent. */
  blocks: BlockSource
  /** Multiaddrs to listen on (the `pin-listen` option); default DEFAULT_LISTEN (loopback, a free port). */
  listen?: string[]
  /** Multiaddrs to name in `origins` instead of the listening ones (a public address behind NAT). */
  announce?: string[]
}

export interface OriginNodeStats {
  /** Blocks sent to peers (a block sent to two peers counts twice). */
  blocksServed: number
  bytesServed: number
  /** Distinct peers that connected, either way, while the node ran. */
  peers: number
}

export interface OriginNode extends BlockNetwork {
  /** The node's peer ID (a fresh Ed25519 key for each node). */
  readonly peerId: string
  /** Connects to each address, at once. Failures are logged per address; throws only when none connects. */
  dial(addresses: string[], options?: AbortOptions): Promise<void>
  /** Closes every connection and the listeners; calling it again does nothing. */
  stop(): Promise<void>
  stats(): OriginNodeStats
}

/** Starts the node; resolves once it listens. An abort of `signal` stops it (during start or later). */
export async function startOriginNode(options: OriginNodeOptions): Promise<OriginNode> {
  const { blocks, logger, signal } = options
  throwIfAborted(signal)
  definePromiseWithResolvers()
  // One after the other: these packages share modules, and jest's ESM loader races on concurrent imports of them.
  const { createLibp2p } = await import('libp2p')
  const { tcp } = await import('@libp2p/tcp')
  const { noise } = await import('@chainsafe/libp2p-noise')
  const { yamux } = await import('@chainsafe/libp2p-yamux')
  const { identify } = await import('@libp2p/identify')
  const { createBitswap } = await import('@helia/bitswap')
  const { multiaddr } = await import('@multiformats/multiaddr')
  const listen = options.listen ?? DEFAULT_LISTEN
  for (const address of [...listen, ...(options.announce ?? [])]) {
    try {
      multiaddr(address)
    } catch (err: any) {
      throw new InputError(listen.includes(address) ? 'pin-listen' : 'announce', `${quote(address)} is not a multiaddr: ${err?.message ?? err}`)
    }
  }
  const node = await createLibp2p({
    addresses: { listen, announce: options.announce ?? [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  const peers = new Set<string>()
  node.addEventListener('peer:connect', (event) => { peers.add(event.detail.toString()) })
  const metrics = countingMetrics()
  const bitswap = createBitswap({
    libp2p: node as any,
    blockstore: sourceBlockstore(blocks, logger) as any,
    // It serves; it never looks for providers of what it lacks.
    routing: { async * findProviders () {} } as any,
    logger: node.logger,
    metrics: metrics as any
  })

  let stopped: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopped ??= (async () => {
      signal?.removeEventListener('abort', onAbort)
      try {
        await bitswap.stop()
      } finally {
        await node.stop()
      }
    })()
    await stopped
  }
  const onAbort = (): void => { stop().catch((err) => logger?.warn(`Stopping the origin node: ${err?.message ?? err}`)) }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await bitswap.start()
    throwIfAborted(signal)
  } catch (err) {
    await stop()
    throw err
  }

  const peerId = node.peerId.toString()
  const origins = node.getMultiaddrs().map((address) => address.toString())
  logger?.debug(`Origin node ${peerId} serves blocks at ${origins.join(', ')}`)

  return {
    peerId,
    origins,
    async dial(addresses, dialOptions) {
      if (addresses.length === 0) return
      const results = await Promise.allSettled(addresses.map(async (address) => {
        await node.dial(multiaddr(address) as any, { signal: dialOptions?.signal })
      }))
      const failures = results.flatMap((result, i) => result.status === 'rejected' ? [`${quote(addresses[i] as string)}: ${remoteMessage(String(result.reason?.message ?? result.reason))}`] : [])
      for (const failure of failures) logger?.warn(`Origin node could not connect to ${failure}`)
      if (failures.length === addresses.length) {
        throwIfAborted(dialOptions?.signal)
        throw new IpcrError('ERR_DIAL', `The origin node could not connect to any of ${addresses.length} address(es): ${failures.join('; ')}`)
      }
    },
    stop,
    stats() {
      return { blocksServed: metrics.counter('helia_bitswap_sent_blocks_total'), bytesServed: metrics.counter('helia_bitswap_sent_data_bytes_total'), peers: peers.size }
    }
  }
}
