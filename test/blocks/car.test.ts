import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync, statSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CarBlockIterator, CarReader, CarWriter } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { MAX_BLOCK_BYTES } from '../../src/core/blocks/types.js'
import { DigestMismatchError, BlockNotFoundError, InputError } from '../../src/core/errors.js'
import { encodeCarHeader } from '../../src/core/car/header.js'
import { CarFileWriter } from '../../src/core/car/writer.js'

let dir: string
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ipcr-car-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

async function rawBlock(content: string | Uint8Array): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

async function pbBlock(links: CID[]): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = dagPb.encode(dagPb.prepare({ Data: new Uint8Array([8, 1]), Links: links.map((Hash, i) => ({ Name: `l${i}`, Hash, Tsize: 1 })) }))
  return { cid: CID.createV1(dagPb.code, await sha256.digest(bytes)), bytes }
}

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a != null && Buffer.from(a).equals(b)
}

async function readAll(path: string): Promise<{ roots: CID[], blocks: Array<{ cid: CID, bytes: Uint8Array }> }> {
  const iterator = await CarBlockIterator.fromBytes(await readFile(path))
  const blocks: Array<{ cid: CID, bytes: Uint8Array }> = []
  for await (const block of iterator) blocks.push(block)
  return { roots: await iterator.getRoots(), blocks }
}

describe('encodeCarHeader', () => {
  it('matches @ipld/car byte for byte', async () => {
    const root = (await pbBlock([])).cid
    const { writer, out } = CarWriter.create([root])
    const chunks: Uint8Array[] = []
    const collecting = (async () => { for await (const chunk of out) chunks.push(chunk) })()
    await writer.close()
    await collecting
    expect(Buffer.from(encodeCarHeader([root])).equals(Buffer.concat(chunks))).toBe(true)
    const v0 = root.toV0()
    const { writer: w0, out: o0 } = CarWriter.create([v0])
    const c0: Uint8Array[] = []
    const p0 = (async () => { for await (const chunk of o0) c0.push(chunk) })()
    await w0.close()
    await p0
    expect(Buffer.from(encodeCarHeader([v0])).equals(Buffer.concat(c0))).toBe(true)
  })
})

describe('CarFileWriter', () => {
  it('writes every block once, with the root known only at the end', async () => {
    const leaves = await Promise.all(Array.from({ length: 50 }, async (_, i) => rawBlock(`leaf ${i} `.repeat(i * 100 + 1))))
    const big = await rawBlock(new Uint8Array(1024 * 1024 + 3).fill(7))
    const empty = await rawBlock(new Uint8Array(0))
    const root = await pbBlock([...leaves.map((l) => l.cid), big.cid, empty.cid])
    const path = join(dir, 'out.car')
    const car = await CarFileWriter.create(path)
    expect(existsSync(`${path}.partial`)).toBe(true)
    expect(existsSync(path)).toBe(false)
    // concurrent puts, with duplicates
    await Promise.all([...leaves, big, empty, ...leaves.slice(0, 10), root, big].map(async (b) => car.put(b.cid, b.bytes)))
    expect(car.blockCount).toBe(53)
    expect(car.has(big.cid)).toBe(true)
    const result = await car.close(root.cid)
    expect(existsSync(`${path}.partial`)).toBe(false)
    expect(result).toEqual({ path, blocks: 53, bytes: (await stat(path)).size })
    const { roots, blocks } = await readAll(path)
    expect(roots.map(String)).toEqual([root.cid.toString()])
    expect(blocks).toHaveLength(53)
    expect(new Set(blocks.map((b) => b.cid.toString())).size).toBe(53)
    for (const block of blocks) expect((await sha256.digest(block.bytes)).bytes).toEqual(block.cid.multihash.bytes)
    const reader = await CarReader.fromBytes(await readFile(path))
    expect(same((await reader.get(big.cid))?.bytes, big.bytes)).toBe(true)
    await expect(car.put(big.cid, big.bytes)).rejects.toThrow(/closed/)
  })

  it('rewrites the file when the root CID has another length (CIDv0)', async () => {
    const leaf = await rawBlock('x')
    const root = await pbBlock([leaf.cid])
    const path = join(dir, 'v0.car')
    const car = await CarFileWriter.create(path)
    await car.put(leaf.cid, leaf.bytes)
    await car.put(root.cid.toV0(), root.bytes)
    const result = await car.close(root.cid.toV0())
    const { roots, blocks } = await readAll(path)
    expect(roots[0]?.toString()).toBe(root.cid.toV0().toString())
    expect(blocks).toHaveLength(2)
    expect(result.bytes).toBe((await stat(path)).size)
    expect((await readdir(dir)).filter((f) => f.startsWith('v0.car'))).toEqual(['v0.car'])
  })

  it('calls onWritten once a block is written, and at once for a duplicate', async () => {
    const path = join(dir, 'written.car')
    const car = await CarFileWriter.create(path)
    const block = await rawBlock(new Uint8Array(64 * 1024).fill(3))
    const events: string[] = []
    let sizeWhenWritten = 0
    const first = { onWritten: () => { events.push('first'); sizeWhenWritten = statSync(`${path}.partial`).size } }
    await car.put(block.cid, block.bytes, first)
    await car.put(block.cid, block.bytes, { onWritten: () => { events.push('duplicate') } })
    // The duplicate is skipped at once; the first is reported once its bytes are in the file.
    expect(events).toContain('duplicate')
    await car.close(block.cid)
    expect(events.sort()).toEqual(['duplicate', 'first'])
    expect(sizeWhenWritten).toBeGreaterThan(block.bytes.length)
    const { blocks } = await readAll(path)
    expect(blocks.map((b) => b.cid.toString())).toEqual([block.cid.toString()])
  })

  it('abort leaves no file behind', async () => {
    const path = join(dir, 'aborted.car')
    const car = await CarFileWriter.create(path)
    const leaf = await rawBlock('y')
    await car.put(leaf.cid, leaf.bytes)
    await car.abort()
    await car.abort()
    expect(existsSync(path)).toBe(false)
    expect(existsSync(`${path}.partial`)).toBe(false)
    await expect(car.put(leaf.cid, leaf.bytes)).rejects.toThrow(/aborted/)
  })
})

describe('CarBlockSource', () => {
  it('indexes a CAR and reads verified blocks on demand', async () => {
    const blocks = await Promise.all(Array.from({ length: 200 }, async (_, i) => rawBlock(`block ${i}`.repeat(i * 50 + 1))))
    const root = await pbBlock(blocks.map((b) => b.cid))
    const path = join(dir, 'source.car')
    const car = await CarFileWriter.create(path)
    for (const b of [root, ...blocks]) await car.put(b.cid, b.bytes)
    await car.close(root.cid)
    const source = await CarBlockSource.open(path)
    try {
      expect(source.roots.map(String)).toEqual([root.cid.toString()])
      expect(source.blockCount).toBe(201)
      for (const b of blocks) expect(same(await source.get(b.cid), b.bytes)).toBe(true)
      // The index keeps each CID's own bytes, not the 64 KiB read window it was decoded from.
      for (const cid of source.cids()) expect(cid.multihash.bytes.buffer.byteLength).toBeLessThan(1024)
      for (const cid of source.roots) expect(cid.multihash.bytes.buffer.byteLength).toBeLessThan(1024)
      expect(await source.get(root.cid.toV0())).toEqual(root.bytes)
      const missing = await rawBlock('missing')
      await expect(source.get(missing.cid)).rejects.toThrow(BlockNotFoundError)
    } finally {
      await source.close()
    }
  })

  /** Writes a CAR holding just `block` (as its root) and returns the file's bytes. */
  async function oneBlockCar (path: string, block: { cid: CID, bytes: Uint8Array }): Promise<Buffer> {
    const car = await CarFileWriter.create(path)
    await car.put(block.cid, block.bytes)
    await car.close(block.cid)
    return await readFile(path)
  }

  it('reads CARv2 files', async () => {
    const leaf = await rawBlock('in a v2')
    const v1Path = join(dir, 'inner.car')
    const v1 = await oneBlockCar(v1Path, leaf)
    const pragma = Buffer.from('0aa16776657273696f6e02', 'hex')
    const header = Buffer.alloc(40)
    header.writeBigUInt64LE(BigInt(pragma.length + 40), 16)
    header.writeBigUInt64LE(BigInt(v1.length), 24)
    const v2Path = join(dir, 'v2.car')
    await writeFile(v2Path, Buffer.concat([pragma, header, v1, Buffer.alloc(16)]))
    const source = await CarBlockSource.open(v2Path)
    expect(source.roots[0]?.equals(leaf.cid)).toBe(true)
    expect(await source.get(leaf.cid)).toEqual(leaf.bytes)
    await source.close()
  })

  it('detects corrupted blocks and truncated or foreign files', async () => {
    const leaf = await rawBlock('will be corrupted')
    const path = join(dir, 'corrupt.car')
    const bytes = await oneBlockCar(path, leaf)
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff
    await writeFile(path, bytes)
    const source = await CarBlockSource.open(path)
    await expect(source.get(leaf.cid)).rejects.toThrow(DigestMismatchError)
    await source.close()
    await writeFile(path, bytes.subarray(0, bytes.length - 3))
    await expect(CarBlockSource.open(path)).rejects.toThrow(InputError)
    await writeFile(path, 'not a car at all')
    await expect(CarBlockSource.open(path)).rejects.toThrow(InputError)
  })

  it('refuses a block larger than the limit when it is read, before reading it', async () => {
    const big = await rawBlock('x'.repeat(MAX_BLOCK_BYTES + 1))
    const small = await rawBlock('small')
    const path = join(dir, 'big-block.car')
    const car = await CarFileWriter.create(path)
    await car.put(big.cid, big.bytes)
    await car.put(small.cid, small.bytes)
    await car.close(big.cid)
    const source = await CarBlockSource.open(path)
    try {
      await expect(source.get(big.cid)).rejects.toThrow(new InputError(path, `block ${big.cid} is ${MAX_BLOCK_BYTES + 1} bytes, more than the ${MAX_BLOCK_BYTES} a block may have`))
      expect(await source.get(small.cid)).toEqual(small.bytes)
    } finally {
      await source.close()
    }
    const roomy = await CarBlockSource.open(path, { maxBlockBytes: MAX_BLOCK_BYTES + 1 })
    expect((await roomy.get(big.cid)).length).toBe(MAX_BLOCK_BYTES + 1)
    await roomy.close()
  })
})
