/**
 * A real Pinning Service API server for tests: `@helia/pinning-service-api-server`
 * over a Helia node whose only way to get blocks is bitswap from the peers it
 * dials (a pin's origins) or that dial it (its delegates). No routers, no gateways.
 * The node is built from @helia/utils and libp2p (TCP, noise, yamux, identify),
 * not createHelia: helia's default libp2p loads a WebRTC native module.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bitswap } from '@helia/block-brokers'
import { createPinningServiceAPIServer } from '@helia/pinning-service-api-server'
import { Helia } from '@helia/utils'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { definePromiseWithResolvers } from '../../src/core/pinning/node20.js'
import { MemoryBlocks } from './memory-blocks.js'

// libp2p's queues (it-queue, through mortice) call Promise.withResolvers, which Node 20 lacks.
definePromiseWithResolvers()

/** A content router that knows no one and tells no one: blocks come only from connected peers. */
const nowhere = {
  async * findProviders () {},
  async provide () {},
  async cancelReprovide () {},
  async put () {},
  async get () { throw new Error('no routing in this test node') },
  async findPeer () { throw new Error('no routing in this test node') },
  async * getClosestPeers () {},
  toString: () => 'nowhere'
}

export interface PsaServer {
  /** http://127.0.0.1:PORT */
  url: string
  /** The Helia node behind it. */
  helia: any
  blocks: MemoryBlocks
  /** Tokens it takes: `good-<user>`; each user has its own pins. */
  token: (user: string) => string
  stop: () => Promise<void>
}

export async function startPsaServer (): Promise<PsaServer> {
  const datastore = new MemoryDatastore()
  const blocks = new MemoryBlocks()
  const libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
    datastore: datastore as any
  } as any)
  const helia: any = new Helia({ libp2p, datastore, blockstore: blocks, blockBrokers: [bitswap()], routers: [nowhere] } as any)
  await helia.start()
  const server = await createPinningServiceAPIServer(helia, {
    // Must throw to refuse: a false return lets everyone in.
    validateAccessToken: (token?: string) => {
      const match = /^good-([a-z0-9]+)$/.exec(token ?? '')
      if (match == null) throw new Error('not authorized')
      return { id: match[1] as string }
    },
    listen: { host: '127.0.0.1', port: 0 }
  })
  const address = server.server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${address.port}`,
    helia,
    blocks,
    token: (user) => `good-${user}`,
    stop: async () => {
      await server.close()
      await helia.stop()
    }
  }
}

/** True when the node holds the block. */
export async function holds (server: PsaServer, cid: string): Promise<boolean> {
  return server.blocks.hasSync(CID.parse(cid))
}

/** What a proxy does with one request: pass it on (optionally rewriting the JSON answer), or answer itself. */
export type ProxyRule = (request: { method: string, path: string, count: number }) =>
  | { pass: true, rewrite?: (json: any) => any }
  | { status: number, headers?: Record<string, string>, body?: string }

export interface Proxy {
  url: string
  /** Requests seen, as `METHOD /path` (query left out). */
  seen: string[]
  stop: () => Promise<void>
}

/** An HTTP proxy in front of `target` that follows `rule` for every request. */
export async function startProxy (target: string, rule: ProxyRule): Promise<Proxy> {
  const seen: string[] = []
  const counts = new Map<string, number>()
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const path = (req.url ?? '/').split('?')[0] as string
        const key = `${req.method ?? 'GET'} ${path}`
        seen.push(key)
        const count = (counts.get(key) ?? 0) + 1
        counts.set(key, count)
        const action = rule({ method: req.method ?? 'GET', path, count })
        if (!('pass' in action)) {
          res.writeHead(action.status, { 'Content-Type': 'application/json', ...action.headers })
          res.end(action.body ?? '')
          return
        }
        const headers: Record<string, string> = {}
        for (const name of ['authorization', 'content-type', 'accept']) if (req.headers[name] != null) headers[name] = String(req.headers[name])
        const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined
        const answer = await fetch(`${target}${req.url ?? '/'}`, { method: req.method, headers, ...(body != null && req.method !== 'GET' ? { body } : {}) })
        let text = await answer.text()
        if (action.rewrite != null && answer.ok && text !== '') text = JSON.stringify(action.rewrite(JSON.parse(text)))
        res.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' })
        res.end(text)
      })().catch((err) => {
        res.writeHead(502)
        res.end(String(err))
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    stop: async () => await new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}
