import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CarWriter } from '@ipld/car/writer'
import { CID } from 'multiformats/cid'
import { varint } from 'multiformats'
import { GatewayCarSource } from '../../src/core/blocks/gateway-car.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { importBytes } from '../../src/core/unixfs/file.js'

let server: Server
let url: string
let answer: { type: string, body: Uint8Array } = { type: 'application/vnd.ipld.car', body: new Uint8Array() }
const requests: string[] = []
let file: { root: CID, blocks: Array<{ cid: CID, bytes: Uint8Array }> }

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.url ?? ''} ${req.headers.accept ?? ''}`)
    res.writeHead(200, { 'content-type': answer.type, 'content-length': String(answer.body.length) })
    res.end(answer.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  // A file of three 1 MiB leaves under one dag-pb node: the order a depth-first CAR sends them.
  const store = new MemoryBlockStore()
  const node = await importBytes(randomBytes(2.5 * 1024 * 1024), store)
  const blocks = [...store.entries()]
  const root = blocks.find((b) => b.cid.equals(node.cid)) as { cid: CID, bytes: Uint8Array }
  file = { root: node.cid, blocks: [root, ...blocks.filter((b) => !b.cid.equals(node.cid))] }
  expect(file.blocks).toHaveLength(4)
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
})

async function car (root: CID, blocks: Array<{ cid: CID, bytes: Uint8Array }>): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create([root])
  const chunks: Uint8Array[] = []
  const done = (async () => { for await (const chunk of out) chunks.push(chunk) })()
  for (const block of blocks) await writer.put(block)
  await writer.close()
  await done
  return Buffer.concat(chunks)
}

async function fetchInto (): Promise<{ result: Awaited<ReturnType<GatewayCarSource['fetchDag']>>, sink: MemoryBlockStore }> {
  const sink = new MemoryBlockStore()
  const result = await new GatewayCarSource(url).fetchDag(file.root, sink)
  return { result, sink }
}

test('a whole DAG in one depth-first CAR request: every block verified and kept', async () => {
  answer = { type: 'application/vnd.ipld.car; version=1', body: await car(file.root, file.blocks) }
  requests.length = 0
  const { result, sink } = await fetchInto()
  expect(result).toMatchObject({ complete: true, blocks: 4 })
  expect(sink.size).toBe(4)
  expect(requests).toEqual([`/ipfs/${file.root.toString()}?format=car&dag-scope=all application/vnd.ipld.car; version=1; order=dfs; dups=n`])
})

test('a block that does not match its CID stops the response; the blocks before it are kept', async () => {
  const bad = file.blocks.map((b, i) => i === 2 ? { cid: b.cid, bytes: Uint8Array.from(b.bytes, (x, j) => j === 5 ? x ^ 1 : x) } : b)
  answer = { type: 'application/vnd.ipld.car', body: await car(file.root, bad) }
  const { result, sink } = await fetchInto()
  expect(result.complete).toBe(false)
  expect(result.reason).toContain(`do not match CID ${file.blocks[2]?.cid.toString() ?? ''}`)
  expect([...sink.entries()].map((b) => b.cid.toString())).toEqual(file.blocks.slice(0, 2).map((b) => b.cid.toString()))
})

test('a block the DAG does not link to is refused (nothing unasked-for reaches the sink)', async () => {
  const stray = { cid: CID.parse('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'), bytes: new TextEncoder().encode('hello world') }
  answer = { type: 'application/vnd.ipld.car', body: await car(file.root, [file.blocks[0]!, stray, ...file.blocks.slice(1)]) }
  const { result, sink } = await fetchInto()
  expect(result.reason).toContain(`block ${stray.cid.toString()} is not linked from any block before it`)
  expect(sink.size).toBe(1)
})

test('a response that ends early is incomplete, naming a missing block', async () => {
  answer = { type: 'application/vnd.ipld.car', body: await car(file.root, file.blocks.slice(0, 3)) }
  const { result, sink } = await fetchInto()
  expect(result).toMatchObject({ complete: false, blocks: 3 })
  expect(result.reason).toContain(file.blocks[3]?.cid.toString())
  expect(sink.size).toBe(3)
})

test('a section claiming more bytes than a block may have is refused before it is read', async () => {
  const header = (await car(file.root, [])).slice()
  const huge = varint.encodeTo(1024 * 1024 * 1024, new Uint8Array(varint.encodingLength(1024 * 1024 * 1024)))
  answer = { type: 'application/vnd.ipld.car', body: Buffer.concat([header, huge, file.root.bytes, new Uint8Array(1000)]) }
  const { result, sink } = await fetchInto()
  expect(result.complete).toBe(false)
  expect(result.reason).toMatch(/more than the \d+ (a block may have|allowed)/)
  expect(sink.size).toBe(0)
})

test('an answer that is no CAR is no block', async () => {
  answer = { type: 'text/html', body: new TextEncoder().encode('<html>') }
  const { result } = await fetchInto()
  expect(result).toMatchObject({ complete: false, blocks: 0 })
  expect(result.reason).toContain("'text/html', not a CAR")
})

test('a gateway that sent a bad block is asked for no more CARs in the run', async () => {
  const bad = file.blocks.map((b, i) => i === 1 ? { cid: b.cid, bytes: Uint8Array.from(b.bytes, (x, j) => j === 5 ? x ^ 1 : x) } : b)
  answer = { type: 'application/vnd.ipld.car', body: await car(file.root, bad) }
  const source = new GatewayCarSource(url)
  expect((await source.fetchDag(file.root, new MemoryBlockStore())).blocks).toBe(1)
  answer = { type: 'application/vnd.ipld.car', body: await car(file.root, file.blocks) }
  requests.length = 0
  const again = await source.fetchDag(file.root, new MemoryBlockStore())
  expect(again).toMatchObject({ blocks: 0, complete: false })
  expect(again.reason).toMatch(/not asked: earlier in this run it sent a bad block/)
  expect(requests).toEqual([])
})
