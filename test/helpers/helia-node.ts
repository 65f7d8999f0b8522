import { bitswap } from '@helia/block-brokers'
import { Helia } from '@helia/utils'
import { identify } from '@libp2p/identify'
import { noise } from '@chainsafe/libp2p-noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { definePromiseWithResolvers } from '../../src/core/pinning/node20.js'

export interface HeliaNode {
  /** A real Helia (from @helia/utils, as createHelia builds it) with bitswap as its only block broker. */
  helia: Helia<any>
  /** Its listening multiaddrs, each ending in /p2p/<peer id>. */
  addresses: string[]
  /** Connects to each address (a pin's `origins`); throws on the first that fails. */
  dial: (addresses: string[]) => Promise<void>
  /** Fetches and pins the whole DAG under `root` (from connected peers only: no routing). */
  pin: (root: string, options?: { signal?: AbortSignal }) => Promise<void>
  /** True when the node's own blockstore has the block, without asking the network. */
  hasLocal: (cid: string) => Promise<boolean>
  stop: () => Promise<void>
}

/**
 * A Helia node for tests, built the way createHelia builds one but with no defaults beyond
 * libp2p (TCP, noise, yamux, identify), bitswap and in-memory stores: no routers, no
 * gateways, no bootstrap, loopback only. The only way it gets blocks is bitswap from peers it
 * is connected to (e.g. origins it is told to dial), so it can back a pinning service in tests.
 */
export async function startHeliaNode (): Promise<HeliaNode> {
  definePromiseWithResolvers()
  const libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  const helia = new Helia({
    libp2p: libp2p as any,
    blockstore: new MemoryBlockstore(),
    datastore: new MemoryDatastore(),
    blockBrokers: [bitswap()],
    routers: []
  })
  await helia.start()
  return {
    helia: helia as any,
    addresses: libp2p.getMultiaddrs().map(String),
    dial: async (addresses) => {
      for (const address of addresses) await libp2p.dial(multiaddr(address) as any)
    },
    pin: async (root, options) => {
      for await (const _ of helia.pins.add(CID.parse(root) as any, { signal: options?.signal })) { /* one per block */ }
    },
    hasLocal: async (cid) => await helia.blockstore.has(CID.parse(cid) as any, { offline: true } as any),
    stop: async () => { await helia.stop() }
  }
}
