import { describe, expect, it } from '@jest/globals'
import * as raw from 'multiformats/codecs/raw'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { BlockCache } from '../../src/core/blocks/cache.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import type { BlockSource } from '../../src/core/blocks/types.js'

async function block (fill: number, length: number): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = new Uint8Array(length).fill(fill)
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

function counting (store: MemoryBlockStore): { source: BlockSource, asked: string[] } {
  const asked: string[] = []
  return { asked, source: { label: 'counting', get: async (cid, options) => { asked.push(cid.toString()); return await store.get(cid, options) } } }
}

describe('BlockCache', () => {
  it('fetches a block once, also when asked for concurrently', async () => {
    const store = new MemoryBlockStore()
    const a = await block(1, 100)
    await store.put(a.cid, a.bytes)
    const { source, asked } = counting(store)
    const cache = new BlockCache(source)
    await Promise.all([cache.get(a.cid), cache.get(a.cid), cache.get(a.cid)])
    expect(Buffer.compare(await cache.get(a.cid), a.bytes)).toBe(0)
    expect(asked).toHaveLength(1)
    expect(cache.fetches).toBe(1)
  })

  it('holds at most maxBytes, dropping the least recently used first', async () => {
    const store = new MemoryBlockStore()
    const blocks = await Promise.all([1, 2, 3].map(async (n) => await block(n, 400)))
    for (const b of blocks) await store.put(b.cid, b.bytes)
    const { source, asked } = counting(store)
    const cache = new BlockCache(source, { maxBytes: 1000 })
    const [a, b, c] = blocks as [typeof blocks[0], typeof blocks[0], typeof blocks[0]]
    await cache.get(a.cid)
    await cache.get(b.cid)
    await cache.get(a.cid) // a is now the most recently used
    await cache.get(c.cid) // over 1000 bytes: b goes
    expect(cache.bytes).toBe(800)
    await cache.get(a.cid)
    await cache.get(b.cid)
    expect(asked).toEqual([a.cid, b.cid, c.cid, b.cid].map(String))
  })

  it('keeps neither failures, blocks refused by keep, nor blocks read into a lent buffer', async () => {
    const store = new MemoryBlockStore()
    const a = await block(1, 10)
    const { source, asked } = counting(store)
    const cache = new BlockCache(source, { keep: (cid) => cid.code !== raw.code })
    await expect(cache.get(a.cid)).rejects.toThrow(/not found/)
    await store.put(a.cid, a.bytes)
    await cache.get(a.cid)
    await cache.get(a.cid)
    const lent = new BlockCache(source)
    await lent.get(a.cid, { buffers: { take: (n: number) => new Uint8Array(n) } } as never)
    await lent.get(a.cid)
    expect(asked).toHaveLength(5)
    expect(cache.bytes + lent.bytes).toBe(10)
  })
})
