import { describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { BufferPool } from '../../src/core/buffer-pool.js'
import { CarFileWriter } from '../../src/core/car/writer.js'
import { BlobHasher } from '../../src/core/hash-worker.js'
import { importFile } from '../../src/core/unixfs/file.js'
import { readFileBytes } from '../../src/core/unixfs/tree.js'

async function * chunks (bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
  if (bytes.length === 0) yield bytes
}

/** Input in separate 1 MiB buffers, each owning its memory, as file reads deliver them: these move to the worker and back. */
async function * ownedChunks (bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += 1024 * 1024) yield Uint8Array.from(bytes.subarray(i, i + 1024 * 1024))
}

describe('leaves hashed on the worker thread', () => {
  it.each([0, 1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024 + 5])('give the importer\'s own CIDs and blocks, and the blob digest, for %i bytes', async (size) => {
    const bytes = randomBytes(size)
    const own = new MemoryBlockStore()
    const expected = await importFile(chunks(bytes, 1024 * 1024), own)
    const hasher = new BlobHasher()
    const offloaded = new MemoryBlockStore()
    try {
      // Odd-sized input chunks: the importer's chunker still cuts 1 MiB leaves.
      const node = await importFile(chunks(bytes, 300_000), offloaded, { hashLeaf: hasher.hashChunk })
      expect(node.cid.toString()).toBe(expected.cid.toString())
      expect(node.size).toBe(expected.size)
      expect(offloaded.size).toBe(own.size)
      expect(await hasher.digest()).toBe(createHash('sha256').update(bytes).digest('hex'))
    } finally {
      hasher.close()
    }
    // Moved rather than copied: same CID, and every block's bytes intact.
    const moving = new BlobHasher(true)
    const moved = new MemoryBlockStore()
    try {
      const node = await importFile(ownedChunks(bytes), moved, { hashLeaf: moving.hashChunk })
      expect(node.cid.toString()).toBe(expected.cid.toString())
      for (const { cid, bytes: block } of own.entries()) expect(Buffer.compare(await moved.get(cid), block)).toBe(0)
      expect(await moving.digest()).toBe(createHash('sha256').update(bytes).digest('hex'))
    } finally {
      moving.close()
    }
  })
})

describe('leaves in pooled buffers', () => {
  it('go back to the pool only once the CAR holds them: every block intact, at most one write-behind and one importer batch of buffers', async () => {
    const size = 48 * 1024 * 1024 + 5
    const bytes = randomBytes(size)
    const expected = await importFile(chunks(bytes, 1024 * 1024), new MemoryBlockStore())
    let allocated = 0
    let out = 0
    let peak = 0
    class CountingPool extends BufferPool {
      override take (): Uint8Array {
        if (this.held === 0) allocated++
        peak = Math.max(peak, ++out)
        return super.take()
      }

      override give (buffer: Uint8Array): void {
        if (buffer.buffer.byteLength === this.size) out--
        super.give(buffer)
      }
    }
    const pool = new CountingPool(1024 * 1024, 64)
    // As the archive reader does: full chunks in pooled buffers, the tail in its own.
    async function * pooled (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < size; i += pool.size) {
        const n = Math.min(pool.size, size - i)
        const buffer = n === pool.size ? pool.take() : new Uint8Array(n)
        buffer.set(bytes.subarray(i, i + n))
        yield buffer
      }
    }
    const dir = await mkdtemp(join(tmpdir(), 'ipcr-pool-'))
    const hasher = new BlobHasher(true)
    try {
      const car = await CarFileWriter.create(join(dir, 'pooled.car'))
      const node = await importFile(pooled(), car, { hashLeaf: hasher.hashChunk, releaseLeaf: (leaf) => { pool.give(leaf) } })
      await car.close(node.cid)
      expect(node.cid.toString()).toBe(expected.cid.toString())
      expect(await hasher.digest()).toBe(createHash('sha256').update(bytes).digest('hex'))
      // A buffer reused before its write finished would leave wrong bytes in the CAR.
      const source = await CarBlockSource.open(join(dir, 'pooled.car'))
      try {
        const out = await readFileBytes(node.cid, source, { maxBytes: size })
        expect(Buffer.compare(out, bytes)).toBe(0)
      } finally {
        await source.close()
      }
      // How many buffers are out at once depends on how far the disk lags behind, so the test
      // asserts what holds under any scheduling. The pool allocates only when every buffer it
      // made is out: allocations are the peak in use, and every buffer came back.
      expect(out).toBe(0)
      expect(allocated).toBe(peak)
      // That peak is bounded by construction: between importer batches the CAR writer may still
      // be writing up to 16 MiB (its write-behind: 15 leaves of 1 MiB plus CID and length), and
      // a batch takes 10 more (the importer's blockWriteConcurrency). 48 leaves, 25 buffers at most.
      expect(peak).toBeLessThanOrEqual(15 + 10)
    } finally {
      hasher.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('a cancelled blob', () => {
  it('fails its pending hashes with the abort reason; the next blob gets a working worker', async () => {
    const controller = new AbortController()
    const reason = new Error('Cancelled by SIGTERM')
    const hasher = new BlobHasher(false, controller.signal)
    try {
      const pending = hasher.hashChunk(randomBytes(4 * 1024 * 1024))
      // The worker cannot answer before this: replies come through the event loop.
      controller.abort(reason)
      await expect(pending).rejects.toBe(reason)
      await expect(hasher.hashChunk(randomBytes(16))).rejects.toBe(reason)
      await expect(hasher.digest()).rejects.toBe(reason)
    } finally {
      hasher.close()
    }
    const next = new BlobHasher()
    try {
      const bytes = randomBytes(1000)
      const { digest } = await next.hashChunk(bytes)
      expect(Buffer.from(digest).toString('hex')).toBe(createHash('sha256').update(bytes).digest('hex'))
      expect(await next.digest()).toBe(createHash('sha256').update(bytes).digest('hex'))
    } finally {
      next.close()
    }
  })
})
