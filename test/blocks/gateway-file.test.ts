import { afterAll, beforeAll, beforeEach, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { GatewayFileSource } from '../../src/core/blocks/gateway-file.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import type { BlockSource } from '../../src/core/blocks/types.js'
import type { AbortOptions } from '../../src/core/logger.js'

/** How the test gateway answers a file: its bytes, or one of the ways a gateway goes wrong. */
type Behaviour =
  | { kind: 'ok' }
  | { kind: 'flip', at: number }
  | { kind: 'status', status: number }
  | { kind: 'cut', after: number }
  | { kind: 'stall', after: number }
  | { kind: 'gzip' }
  | { kind: 'length', length: number }

let server: Server
let url: string
let behaviour: Behaviour = { kind: 'ok' }
const requests: string[] = []
/** The bytes each file CID stands for, as a gateway serves them on its plain path. */
const served = new Map<string, Uint8Array>()

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '')
    const bytes = served.get(/^\/ipfs\/([^/?]+)$/.exec(req.url ?? '')?.[1] ?? '')
    if (bytes == null) {
      res.writeHead(404).end()
      return
    }
    if (behaviour.kind === 'status') {
      res.writeHead(behaviour.status, { 'content-type': 'text/plain' }).end('not here')
      return
    }
    const body = Buffer.from(bytes)
    if (behaviour.kind === 'flip') body[behaviour.at] = (body[behaviour.at] as number) ^ 0xff
    if (behaviour.kind === 'gzip') {
      const packed = gzipSync(body)
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip', 'content-length': String(packed.length) })
      res.end(packed)
      return
    }
    const length = behaviour.kind === 'length' ? behaviour.length : body.length
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(length) })
    if (behaviour.kind === 'stall') {
      // The first bytes, then nothing more: the connection stays open.
      res.write(body.subarray(0, behaviour.after))
      return
    }
    if (behaviour.kind === 'cut') {
      // The first bytes, then the connection drops: the client sees a body cut short.
      res.write(body.subarray(0, behaviour.after), () => { res.destroy() })
      return
    }
    res.end(behaviour.kind === 'length' ? body.subarray(0, Math.min(length, body.length)) : body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
})

beforeEach(() => {
  behaviour = { kind: 'ok' }
  requests.length = 0
})

/** A block source that counts what it is asked for, by codec. */
class Counting implements BlockSource {
  readonly label = 'counting'
  raw = 0
  dagPb = 0
  constructor (private readonly store: MemoryBlockStore) {}
  async get (cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    if (cid.code === raw.code) this.raw++
    else this.dagPb++
    return await this.store.get(cid, options)
  }
}

const LEAF = 1024

/** A file of raw leaves of LEAF bytes, at most four links per node (three levels for 50 leaves). */
async function rawLeafFile (bytes: Uint8Array): Promise<{ root: CID, store: MemoryBlockStore }> {
  const store = new MemoryBlockStore()
  const blockstore = { put: async (cid: CID, block: Uint8Array) => { await store.put(cid, block); return cid } }
  let root: CID | undefined
  for await (const entry of importer([{ content: bytes }], blockstore as any, { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: LEAF }), layout: balanced({ maxChildrenPerNode: 4 }), reduceSingleLeafToSelf: false })) root = entry.cid
  served.set((root as CID).toString(), bytes)
  return { root: root as CID, store }
}

async function read (source: GatewayFileSource, root: CID, blocks: BlockSource): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of source.content(root, blocks)) chunks.push(chunk)
  return Buffer.concat(chunks)
}

test('a file in one response: every leaf checked, only the dag-pb nodes from the block source', async () => {
  const bytes = randomBytes(50 * LEAF)
  const { root, store } = await rawLeafFile(bytes)
  const blocks = new Counting(store)
  const files = new GatewayFileSource(url)
  expect((await read(files, root, blocks)).equals(bytes)).toBe(true)
  expect(requests).toEqual([`/ipfs/${root.toString()}`])
  expect(blocks.raw).toBe(0)
  // 50 leaves under 13 nodes, under 4 nodes, under the root: 18 dag-pb blocks.
  expect(blocks.dagPb).toBe(18)
  expect(files.unusable).toBeUndefined()
})

test('a flipped byte: nothing of that leaf is given out, the rest comes block by block from that leaf on, and the gateway is asked for no more files', async () => {
  const bytes = randomBytes(50 * LEAF)
  const { root, store } = await rawLeafFile(bytes)
  behaviour = { kind: 'flip', at: 20 * LEAF + 7 }
  const blocks = new Counting(store)
  const files = new GatewayFileSource(url)
  expect((await read(files, root, blocks)).equals(bytes)).toBe(true)
  // Leaves 0–19 came from the response; leaf 20 (the bad one) and the 29 after it from the blocks.
  expect(blocks.raw).toBe(30)
  const bad = CID.createV1(raw.code, await sha256.digest(bytes.subarray(20 * LEAF, 21 * LEAF)))
  expect(files.unusable).toBe(`it sent bytes that are not leaf ${bad.toString()} of ${root.toString()}`)

  behaviour = { kind: 'ok' }
  requests.length = 0
  const again = new Counting(store)
  expect((await read(files, root, again)).equals(bytes)).toBe(true)
  expect(requests).toEqual([])
  expect(again.raw).toBe(50)
})

test('a response cut short: the file goes on block by block from the first leaf not received whole', async () => {
  const bytes = randomBytes(50 * LEAF)
  const { root, store } = await rawLeafFile(bytes)
  behaviour = { kind: 'cut', after: 33 * LEAF + 100 }
  const blocks = new Counting(store)
  const files = new GatewayFileSource(url)
  expect((await read(files, root, blocks)).equals(bytes)).toBe(true)
  expect(blocks.raw).toBe(17)
  // A failure of the connection is no reason to distrust the gateway.
  expect(files.unusable).toBeUndefined()
})

test('a compressed answer (Content-Encoding: gzip, its own length): the bytes as fetch decompresses them, each leaf checked', async () => {
  const bytes = Buffer.alloc(20 * LEAF, 'ipcr ')
  const { root, store } = await rawLeafFile(bytes)
  behaviour = { kind: 'gzip' }
  const blocks = new Counting(store)
  const lines: string[] = []
  const logger = { debug: (m: string) => { lines.push(m) }, info: (m: string) => { lines.push(m) }, warn: (m: string) => { lines.push(m) }, group: async (_n: string, fn: () => Promise<any>) => await fn() }
  expect((await read(new GatewayFileSource(url, { logger }), root, blocks)).equals(bytes)).toBe(true)
  expect(lines).toEqual([])
  expect(blocks.raw).toBe(0)
})

test('a response that stops sending: after the idle timeout the file goes on block by block', async () => {
  const bytes = randomBytes(50 * LEAF)
  const { root, store } = await rawLeafFile(bytes)
  behaviour = { kind: 'stall', after: 40 * LEAF + 10 }
  const blocks = new Counting(store)
  const files = new GatewayFileSource(url, { idleTimeoutMs: 200 })
  expect((await read(files, root, blocks)).equals(bytes)).toBe(true)
  expect(blocks.raw).toBe(10)
  expect(files.unusable).toBeUndefined()
})

test.each([
  [406, true],
  [400, true],
  [404, false],
  [503, false]
])('HTTP %i: the file comes block by block; the gateway is asked for no more files: %s', async (status, unusable) => {
  const bytes = randomBytes(9 * LEAF)
  const { root, store } = await rawLeafFile(bytes)
  behaviour = { kind: 'status', status }
  const blocks = new Counting(store)
  const files = new GatewayFileSource(url)
  expect((await read(files, root, blocks)).equals(bytes)).toBe(true)
  expect(blocks.raw).toBe(9)
  expect(files.unusable != null).toBe(unusable)
})

test('a Content-Length other than the file\'s size: the file comes block by block', async () => {
  const bytes = randomBytes(9 * LEAF)
  const { root, store } = await rawLeafFile(bytes)
  behaviour = { kind: 'length', length: 5 * LEAF }
  const blocks = new Counting(store)
  expect((await read(new GatewayFileSource(url), root, blocks)).equals(bytes)).toBe(true)
  expect(blocks.raw).toBe(9)
})

test('a root with its own data and a dag-pb leaf between raw leaves: those bytes come from the nodes, the raw leaves from the response', async () => {
  const store = new MemoryBlockStore()
  const data = randomBytes(300)
  const first = randomBytes(LEAF)
  const middle = randomBytes(500)
  const last = randomBytes(LEAF)
  const rawLeaf = async (bytes: Uint8Array): Promise<CID> => {
    const cid = CID.createV1(raw.code, await sha256.digest(bytes))
    await store.put(cid, bytes)
    return cid
  }
  const middleBytes = dagPb.encode({ Data: new UnixFS({ type: 'file', data: middle }).marshal(), Links: [] })
  const middleCid = CID.createV1(dagPb.code, await sha256.digest(middleBytes))
  await store.put(middleCid, middleBytes)
  const links = [await rawLeaf(first), middleCid, await rawLeaf(last)]
  const rootNode = new UnixFS({ type: 'file', data })
  for (const size of [LEAF, 500, LEAF]) rootNode.addBlockSize(BigInt(size))
  const rootBytes = dagPb.encode({ Data: rootNode.marshal(), Links: links.map((Hash, i) => ({ Hash, Tsize: i === 1 ? middleBytes.length : LEAF })) })
  const root = CID.createV1(dagPb.code, await sha256.digest(rootBytes))
  await store.put(root, rootBytes)
  const whole = Buffer.concat([data, first, middle, last])
  served.set(root.toString(), whole)

  const blocks = new Counting(store)
  expect((await read(new GatewayFileSource(url), root, blocks)).equals(whole)).toBe(true)
  expect([blocks.raw, blocks.dagPb]).toEqual([0, 2])
})
