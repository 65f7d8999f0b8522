import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile, rm } from 'node:fs/promises'
import { createServer, get } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { FirstSource } from '../../src/core/blocks/multi.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import type { BlockSource } from '../../src/core/blocks/types.js'
import type { AbortOptions, Logger } from '../../src/core/logger.js'
import { BlobFiles, type BlobFileWriter } from '../../src/core/serve/blob-files.js'
import { createRegistryHandler } from '../../src/core/serve/handler.js'
import { startRegistryServer } from '../../src/core/serve/server.js'
import { editTree } from '../../src/core/unixfs/edit.js'
import { importBytes } from '../../src/core/unixfs/file.js'
import { blobFile, makeTempDir } from '../helpers/images.js'
import { publishRegistry, request, type PublishedRegistry } from './fixture.js'

// ipcr serve keeps a blob served whole as a file (once it matched its digest) and serves it from there.
let dir: string
let registry: PublishedRegistry
const logger: Logger = { debug () {}, info () {}, warn () {}, group: async (_n, fn) => await fn() }

/** A source that counts the blocks asked of it. */
function counted (source: BlockSource): BlockSource & { gets: number } {
  const c = { label: 'counted', gets: 0, get: async (cid: CID, options?: AbortOptions) => { c.gets++; return await source.get(cid, options) } }
  return c
}

beforeAll(async () => {
  dir = await makeTempDir('ipcr-serve-blob-files-')
  registry = await publishRegistry(dir)
})
afterAll(async () => {
  await registry?.close()
  await rm(dir, { recursive: true, force: true })
})

test('a blob served whole is kept by digest; served again from the file, whole and by range, without a block read', async () => {
  // The 3 MiB layer: sent in several chunks.
  const layers = await Promise.all(registry.app.layerDigests.map(async (d) => ({ digest: d, bytes: await readFile(blobFile(registry.layout, d)) })))
  const { digest, bytes } = layers.sort((a, b) => b.bytes.length - a.bytes.length)[0] as { digest: string, bytes: Buffer }
  expect(bytes.length).toBeGreaterThan(3 * 1024 * 1024)
  const source = counted(registry.source)
  const blobs = new BlobFiles(join(dir, 'blobs'))
  const server = await startRegistryServer({ listen: '127.0.0.1:0', source, blobFiles: blobs, logger, cache: { maxBytes: 0 } })
  try {
    const url = `${server.url}/v2/ipfs/${registry.root.toString()}/team/app/blobs/${digest}`
    // A range first: nothing kept (only a whole blob is written).
    expect((await request(url, { headers: { Range: 'bytes=0-9' } })).status).toBe(206)
    expect(await blobs.find(digest, bytes.length)).toBeUndefined()
    const first = await request(url)
    expect(Buffer.compare(first.body, bytes)).toBe(0)
    const kept = join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length))
    expect(Buffer.compare(await readFile(kept), bytes)).toBe(0)
    expect(await readdir(join(dir, 'blobs', 'sha256'))).toEqual([digest.slice('sha256:'.length)])

    // The folders on the way are read again (the block cache is off); the blob's content is not.
    const before = source.gets
    const again = await request(url)
    expect(Buffer.compare(again.body, bytes)).toBe(0)
    const range = await request(url, { headers: { Range: 'bytes=5-' } })
    expect(range.status).toBe(206)
    expect(range.headers['content-range']).toBe(`bytes 5-${bytes.length - 1}/${bytes.length}`)
    expect(Buffer.compare(range.body, bytes.subarray(5))).toBe(0)
    const contentBlocks = source.gets - before
    // A client that goes away in the middle of a kept blob: the copy stops, and the server goes on.
    await new Promise<void>((resolve, reject) => {
      const req = get(url, (res) => { res.once('data', () => { req.destroy(); resolve() }) })
      req.on('error', (err) => { if (!req.destroyed) reject(err) })
    })
    expect(Buffer.compare((await request(url)).body, bytes)).toBe(0)
    // Without the file, each whole read would ask for every leaf of the layer again.
    const plain = counted(registry.source)
    const without = await startRegistryServer({ listen: '127.0.0.1:0', source: plain, logger, cache: { maxBytes: 0 } })
    try {
      const other = `${without.url}/v2/ipfs/${registry.root.toString()}/team/app/blobs/${digest}`
      await request(other)
      const once = plain.gets
      await request(other)
      expect(plain.gets - once).toBeGreaterThan(contentBlocks)
    } finally {
      await without.close()
    }
  } finally {
    await server.close()
  }
})

test('a blob that does not match its digest is never kept', async () => {
  const digest = registry.app.layerDigests[0] as string
  const hex = digest.slice('sha256:'.length)
  const store = new MemoryBlockStore()
  const file = await importBytes(randomBytes(2 * 1024 * 1024 + 3), store)
  const source = new FirstSource([store, registry.source])
  const paths = ['1.0', 'latest', 'stable', '2.0'].map((tag) => ['team', 'app', 'tags', tag, 'blobs', 'sha256', hex])
  const tampered = await editTree(registry.root, paths.map((path) => ({ path, node: file })), source, store)
  const blobsDir = join(dir, 'blobs-bad')
  const server = await startRegistryServer({ listen: '127.0.0.1:0', source, blobFiles: new BlobFiles(blobsDir), logger })
  try {
    const answer = await request(`${server.url}/v2/ipfs/${tampered.cid.toString()}/team/app/blobs/${digest}`)
    expect(answer.cut).toBe(true)
    const left = existsSync(join(blobsDir, 'sha256')) ? await readdir(join(blobsDir, 'sha256')) : []
    expect(left).toEqual([])
  } finally {
    await server.close()
  }
})

test('the kept copy is in place before the blob\'s last byte goes out: a client that has the whole blob finds it kept', async () => {
  const layers = await Promise.all(registry.app.layerDigests.map(async (d) => ({ digest: d, bytes: await readFile(blobFile(registry.layout, d)) })))
  const { digest, bytes } = layers.sort((a, b) => b.bytes.length - a.bytes.length)[0] as { digest: string, bytes: Buffer }
  // Bytes the handler has handed to the response when the copy is committed.
  let sent = 0
  let sentAtCommit: number | undefined
  class Watched extends BlobFiles {
    override async writer (d: string): Promise<BlobFileWriter> {
      const writer = await super.writer(d)
      const commit = writer.commit.bind(writer)
      writer.commit = async () => {
        sentAtCommit = sent
        await commit()
      }
      return writer
    }
  }
  const handler = createRegistryHandler({ source: registry.source, blobFiles: new Watched(join(dir, 'watched')), logger })
  const server = createServer((req, res) => {
    const write = res.write.bind(res) as (chunk: Uint8Array, ...rest: any[]) => boolean
    res.write = ((chunk: Uint8Array, ...rest: any[]) => { sent += chunk.byteLength; return write(chunk, ...rest) }) as typeof res.write
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const answer = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/ipfs/${registry.root.toString()}/team/app/blobs/${digest}`)
    expect(Buffer.compare(answer.body, bytes)).toBe(0)
    expect(sentAtCommit).toBeDefined()
    expect(sentAtCommit).toBeLessThan(bytes.length)
    expect(sent).toBe(bytes.length)
    expect(Buffer.compare(await readFile(join(dir, 'watched', 'sha256', digest.slice('sha256:'.length))), bytes)).toBe(0)
  } finally {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  }
})
