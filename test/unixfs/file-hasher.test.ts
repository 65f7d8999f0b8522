import { describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { BlobHasher } from '../../src/core/hash-worker.js'
import { importFile } from '../../src/core/unixfs/file.js'

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
