import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { connect, createServer } from 'node:net'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import type { BlockSource } from '../../src/core/blocks/types.js'
import type { Logger } from '../../src/core/logger.js'
import { startOriginNode, type OriginNode } from '../../src/core/pinning/origin-node.js'
import { sourceBlockstore } from '../../src/core/pinning/source-blockstore.js'
import { publish } from '../../src/core/publish.js'
import { startHeliaNode } from '../helpers/helia-node.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { startKubo, swarmAddress, type KuboNode } from '../helpers/kubo.js'

// The origin node against independently written peers on loopback: online Kubo daemons that
// have no other source of the blocks (no bootstrap peers, no routing to anyone else) and a
// Helia node. Each Kubo is fresh, so every block it ends up with came from the origin node.
let dir: string
let car: CarBlockSource
let root: string
let cids: string[]

beforeAll(async () => {
  dir = await makeTempDir('ipcr-origin-')
  const layout = join(dir, 'layout')
  // Random bytes do not compress: a layer of about 2.5 MiB, a file of three 1 MiB chunks.
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'opt/data.bin': randomBytes(2.5 * 1024 * 1024) } }, { files: { 'hello.txt': 'hello\n' } }] })
  const result = await publish({ image: { kind: 'file', path: layout }, name: 'origin/test', tags: ['v1'], carPath: join(dir, 'new.car'), tempDir: dir, now: new Date('2026-11-29T00:00:00Z') })
  car = await CarBlockSource.open(result.car.path)
  root = result.rootCid
  cids = [...car.cids()].map(String)
}, 60_000)

afterAll(async () => {
  await car?.close()
  await rm(dir, { recursive: true, force: true })
})

/** Kubo's own copy, without asking the network (--offline): true when it has the block. */
async function kuboHas (kubo: KuboNode, cid: string): Promise<boolean> {
  try {
    await kubo.ipfs('block', 'stat', '--offline', cid)
    return true
  } catch {
    return false
  }
}

function recordingLogger (): Logger & { warnings: string[] } {
  const warnings: string[] = []
  return { warnings, debug () {}, info () {}, warn (m) { warnings.push(m) }, group: async (_n, fn) => await fn() }
}

describe('origin node', () => {
  test('the DAG is multi-block and a fresh Kubo has none of it', async () => {
    expect(cids.length).toBeGreaterThan(5)
    const kubo = await startKubo({ offline: false })
    try {
      for (const cid of cids) expect(await kuboHas(kubo, cid)).toBe(false)
      // Nobody serves it: a bounded fetch fails.
      await expect(kubo.ipfs('block', 'get', '--timeout=2s', root)).rejects.toThrow()
    } finally {
      await kubo.stop()
    }
  })

  test('Kubo connects to the origins and pins the whole DAG from the node', async () => {
    const node = await startOriginNode({ blocks: car })
    const kubo = await startKubo({ offline: false })
    try {
      expect(node.origins.length).toBeGreaterThan(0)
      for (const origin of node.origins) expect(origin).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${node.peerId}$`))
      await kubo.ipfs('swarm', 'connect', node.origins[0] as string)
      const stat = JSON.parse(await kubo.ipfs('dag', 'stat', '--progress=false', '--enc=json', '--timeout=60s', root)) as { TotalSize: number, DagStats: Array<{ NumBlocks: number }> }
      expect(stat.DagStats[0]?.NumBlocks).toBe(cids.length)
      await kubo.ipfs('pin', 'add', '--progress=false', '--timeout=60s', root)
      expect((await kubo.ipfs('pin', 'ls', '--type=recursive', root))).toContain(root)
      for (const cid of cids) expect(await kuboHas(kubo, cid)).toBe(true)
      const stats = node.stats()
      expect(stats.blocksServed).toBeGreaterThanOrEqual(cids.length)
      expect(stats.bytesServed).toBeGreaterThan(2.5 * 1024 * 1024)
      expect(stats.peers).toBe(1)
    } finally {
      await kubo.stop()
      await node.stop()
    }
  })

  test('the node dials a delegate (Kubo) and Kubo, asked to pin, fetches from it', async () => {
    const kubo = await startKubo({ offline: false })
    const node = await startOriginNode({ blocks: car })
    try {
      const address = await swarmAddress(kubo)
      await node.dial([address])
      const peer = address.split('/p2p/')[1] as string
      expect(await kubo.ipfs('swarm', 'peers')).toContain(node.peerId)
      expect(peer).not.toBe(node.peerId)
      await kubo.ipfs('pin', 'add', '--progress=false', '--timeout=60s', root)
      for (const cid of cids) expect(await kuboHas(kubo, cid)).toBe(true)
      expect(node.stats().blocksServed).toBeGreaterThanOrEqual(cids.length)
    } finally {
      await node.stop()
      await kubo.stop()
    }
  })

  test('dial: an unreachable address is reported but not fatal while another connects; none connecting throws', async () => {
    const kubo = await startKubo({ offline: false })
    const logger = recordingLogger()
    const node = await startOriginNode({ blocks: car, logger })
    const closed = await closedPort()
    const dead = `/ip4/127.0.0.1/tcp/${closed}`
    try {
      await node.dial([dead, await swarmAddress(kubo)])
      expect(logger.warnings.join('\n')).toContain(`could not connect to '/ip4/127.0.0.1/tcp/${closed}'`)
      expect(await kubo.ipfs('swarm', 'peers')).toContain(node.peerId)
      await expect(node.dial([`/ip4/127.0.0.1/tcp/${closed}`])).rejects.toThrow(/could not connect to any of 1 address/)
      await expect(node.dial(['not a multiaddr'])).rejects.toThrow(/could not connect to any/)
    } finally {
      await node.stop()
      await kubo.stop()
    }
  })

  test('a block the source gives wrong bytes for is not served', async () => {
    const leaves = cids.filter((c) => CID.parse(c).code === 0x55)
    const bad = leaves[0] as string
    const good = leaves[1] as string
    expect(good).toBeDefined()
    const other = await car.get(CID.parse(good))
    // A source that does not verify, and answers `bad` with another block's bytes.
    const lying: BlockSource = {
      label: 'lying',
      get: async (cid, options) => cid.toString() === bad ? other : await car.get(cid, options)
    }
    const store = sourceBlockstore(lying)
    await expect(store.get(CID.parse(bad))).rejects.toMatchObject({ name: 'NotFoundError' })
    expect(await store.has(CID.parse(bad))).toBe(false)
    expect(await store.has(CID.parse(good))).toBe(true)
    await expect(store.put(CID.parse(good))).rejects.toThrow(/takes none/)

    const logger = recordingLogger()
    const node = await startOriginNode({ blocks: lying, logger })
    const kubo = await startKubo({ offline: false })
    try {
      await kubo.ipfs('swarm', 'connect', node.origins[0] as string)
      await expect(kubo.ipfs('block', 'get', '--timeout=5s', bad)).rejects.toThrow()
      expect(await kuboHas(kubo, bad)).toBe(false)
      expect(node.stats().blocksServed).toBe(0)
      expect(logger.warnings.filter((w) => w.includes(`Not serving block ${bad}`))).toHaveLength(1)
      // The node serves the blocks it can verify, over the same connection.
      await kubo.ipfs('block', 'get', '--timeout=30s', good)
      expect(await kuboHas(kubo, good)).toBe(true)
      expect(node.stats().blocksServed).toBe(1)
    } finally {
      await kubo.stop()
      await node.stop()
    }
  })

  test('stop() closes everything: a second node starts on the same port, stop twice is fine', async () => {
    const first = await startOriginNode({ blocks: car })
    const port = /\/tcp\/(\d+)\//.exec(first.origins[0] as string)?.[1] as string
    await first.stop()
    await first.stop()
    const second = await startOriginNode({ blocks: car, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    try {
      expect(second.origins[0]).toContain(`/tcp/${port}/p2p/${second.peerId}`)
      expect(second.peerId).not.toBe(first.peerId)
      const kubo = await startKubo({ offline: false })
      try {
        await kubo.ipfs('swarm', 'connect', second.origins[0] as string)
        await kubo.ipfs('block', 'get', '--timeout=30s', root)
      } finally {
        await kubo.stop()
      }
    } finally {
      await second.stop()
    }
  })

  test('an aborted signal stops the node; bad listen addresses name the option', async () => {
    const controller = new AbortController()
    const node: OriginNode = await startOriginNode({ blocks: car, signal: controller.signal })
    const port = Number(/\/tcp\/(\d+)\//.exec(node.origins[0] as string)?.[1])
    expect(await accepts(port)).toBe(true)
    controller.abort()
    // The abort alone closes the listener: poll, bounded, without calling stop().
    let open = true
    for (let i = 0; i < 100 && open; i++) {
      open = await accepts(port)
      if (open) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(open).toBe(false)
    await node.stop()
    await expect(startOriginNode({ blocks: car, listen: ['127.0.0.1:4001'] })).rejects.toThrow(/Input 'pin-listen'/)
    const aborted = AbortSignal.abort()
    await expect(startOriginNode({ blocks: car, signal: aborted })).rejects.toThrow()
  })
})

describe('Helia test node', () => {
  test('fetches and pins a whole DAG from the origin node it dials', async () => {
    const origin = await startOriginNode({ blocks: car })
    const helia = await startHeliaNode()
    try {
      for (const cid of cids) expect(await helia.hasLocal(cid)).toBe(false)
      await helia.dial(origin.origins)
      await helia.pin(root, { signal: AbortSignal.timeout(60_000) })
      for (const cid of cids) expect(await helia.hasLocal(cid)).toBe(true)
      expect(origin.stats().blocksServed).toBeGreaterThanOrEqual(cids.length)
      expect(helia.addresses[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    } finally {
      await helia.stop()
      await origin.stop()
    }
  })
})

/** True when a TCP connection to 127.0.0.1:port is accepted. */
async function accepts (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { resolve(false) })
  })
}

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}
