import { describe, expect, it } from '@jest/globals'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import type { BlockSource } from '../../src/core/blocks/types.js'
import { TreeError } from '../../src/core/errors.js'
import { findEntry, readDirectory } from '../../src/core/unixfs/directory.js'
import { editTree } from '../../src/core/unixfs/edit.js'
import { NameHash } from '../../src/core/unixfs/hamt.js'
import { DagBudget, MAX_HAMT_DEPTH } from '../../src/core/unixfs/limits.js'
import { parseSize } from '../../src/core/size.js'
import { readFileBytes, walkDag } from '../../src/core/unixfs/tree.js'

interface Block { cid: CID, size: number }

async function put (store: MemoryBlockStore, unixfs: UnixFS, links: dagPb.PBLink[]): Promise<Block> {
  const bytes = dagPb.encode(dagPb.prepare({ Data: unixfs.marshal(), Links: links }))
  const cid = CID.createV1(dagPb.code, await sha256.digest(bytes))
  await store.put(cid, bytes)
  return { cid, size: bytes.length + links.reduce((sum, l) => sum + (l.Tsize ?? 0), 0) }
}

async function putRaw (store: MemoryBlockStore, bytes: Uint8Array): Promise<Block> {
  const cid = CID.createV1(raw.code, await sha256.digest(bytes))
  await store.put(cid, bytes)
  return { cid, size: bytes.length }
}

const prefix = (slot: number): string => slot.toString(16).toUpperCase().padStart(2, '0')
const shard = (): UnixFS => new UnixFS({ type: 'hamt-sharded-directory', data: new Uint8Array(32).fill(0xff), fanout: 256n, hashType: 0x22n })

/**
 * A HAMT whose root links all 256 slots to one shard of 256 entries: 65,536 entries in two
 * blocks. The entry 'target' sits on its own hash path.
 */
async function sharedShardHamt (store: MemoryBlockStore): Promise<{ root: Block, inner: Block }> {
  const leaf = await putRaw(store, new TextEncoder().encode('x'))
  const target = await new NameHash('target').slot(1)
  const inner = await put(store, shard(), Array.from({ length: 256 }, (_, i) => ({ Name: `${prefix(i)}${i === target ? 'target' : `name-${i}`}`, Hash: leaf.cid, Tsize: leaf.size })))
  const root = await put(store, shard(), Array.from({ length: 256 }, (_, i) => ({ Name: prefix(i), Hash: inner.cid, Tsize: inner.size })))
  return { root, inner }
}

class CountingSource implements BlockSource {
  readonly label = 'counting'
  reads = 0
  constructor (private readonly inner: BlockSource) {}
  async get (cid: CID): Promise<Uint8Array> {
    this.reads++
    return await this.inner.get(cid)
  }
}

describe('reading a DAG from outside is bounded', () => {
  it('refuses a HAMT that links one shard twice, after reading two blocks', async () => {
    const store = new MemoryBlockStore()
    const { root, inner } = await sharedShardHamt(store)
    const source = new CountingSource(store)
    await expect(readDirectory(root.cid, source)).rejects.toThrow(new TreeError(`HAMT shard ${inner.cid} is linked more than once in one directory (in shard ${root.cid})`))
    expect(source.reads).toBeLessThanOrEqual(3)
  })

  it('refuses a directory holding more entries than the limit, basic or HAMT', async () => {
    const store = new MemoryBlockStore()
    const leaf = await putRaw(store, new TextEncoder().encode('x'))
    const basic = await put(store, new UnixFS({ type: 'directory' }), Array.from({ length: 101 }, (_, i) => ({ Name: `f${String(i).padStart(3, '0')}`, Hash: leaf.cid, Tsize: 1 })))
    const hamt = await put(store, shard(), Array.from({ length: 101 }, (_, i) => ({ Name: `${prefix(i)}f${i}`, Hash: leaf.cid, Tsize: 1 })))
    const budget = new DagBudget({ maxDirectoryEntries: 100 }, { maxDirectoryEntries: '--max-dir' })
    await expect(readDirectory(basic.cid, store, { budget })).rejects.toThrow(/more than 100 entries.*--max-dir/)
    await expect(readDirectory(hamt.cid, store, { budget })).rejects.toThrow(/more than 100 entries.*--max-dir/)
    expect(await readDirectory(basic.cid, store, { budget: new DagBudget({ maxDirectoryEntries: 101 }) })).toHaveLength(101)
  })

  it('counts entries, blocks and bytes over a whole traversal', async () => {
    const store = new MemoryBlockStore()
    const leaf = await putRaw(store, new TextEncoder().encode('x'))
    const dir = await put(store, new UnixFS({ type: 'directory' }), Array.from({ length: 10 }, (_, i) => ({ Name: `f${i}`, Hash: leaf.cid, Tsize: 1 })))
    const entries = new DagBudget({ maxEntries: 25 })
    await readDirectory(dir.cid, store, { budget: entries })
    await readDirectory(dir.cid, store, { budget: entries })
    await expect(readDirectory(dir.cid, store, { budget: entries })).rejects.toThrow(/more than 25 directory entries/)
    const blocks = new DagBudget({ maxBlocks: 2 })
    const source = blocks.source(store)
    await readDirectory(dir.cid, source)
    await readDirectory(dir.cid, source)
    await expect(readDirectory(dir.cid, source)).rejects.toThrow(/more than 2 block reads/)
    const bytes = new DagBudget({ maxBlockBytes: 10 })
    await expect(readDirectory(dir.cid, bytes.source(store))).rejects.toThrow(/more than 10 bytes of blocks/)
  })

  it('refuses a HAMT lookup deeper than any valid HAMT', async () => {
    const store = new MemoryBlockStore()
    const name = 'wanted'
    const hash = new NameHash(name)
    const leaf = await putRaw(store, new TextEncoder().encode('x'))
    const depth = MAX_HAMT_DEPTH + 6
    let next = await put(store, shard(), [{ Name: `${prefix(await hash.slot(depth))}${name}`, Hash: leaf.cid, Tsize: 1 }])
    for (let d = depth - 1; d >= 0; d--) next = await put(store, shard(), [{ Name: prefix(await hash.slot(d)), Hash: next.cid, Tsize: next.size }])
    await expect(findEntry(next.cid, name, store)).rejects.toThrow(/more than 64 levels deep/)
  })

  it('editTree refuses to rebuild a HAMT that reuses a shard, naming the directory', async () => {
    const store = new MemoryBlockStore()
    const { root: hamt } = await sharedShardHamt(store)
    const top = await put(store, new UnixFS({ type: 'directory' }), [{ Name: 'blobs', Hash: hamt.cid, Tsize: hamt.size }])
    // Removing an entry makes the editor read the whole HAMT.
    await expect(editTree(top.cid, [{ path: ['blobs', 'target'], node: null }], store, new MemoryBlockStore()))
      .rejects.toThrow(/cannot edit \/blobs: HAMT shard .* is linked more than once/)
  })

  it('walkDag stops past its block limit', async () => {
    const store = new MemoryBlockStore()
    const leaves = await Promise.all([1, 2, 3, 4].map(async (i) => await putRaw(store, new Uint8Array([i]))))
    const dir = await put(store, new UnixFS({ type: 'directory' }), leaves.map((l, i) => ({ Name: `f${i}`, Hash: l.cid, Tsize: 1 })))
    const walk = async (maxBlocks: number): Promise<number> => {
      let n = 0
      for await (const _ of walkDag(dir.cid, store, { maxBlocks })) n++
      return n
    }
    expect(await walk(5)).toBe(5)
    await expect(walk(4)).rejects.toThrow(/more than 4 blocks/)
  })

  it('readFileBytes refuses a file whose block sizes disagree with its leaves', async () => {
    const store = new MemoryBlockStore()
    const leaf = await putRaw(store, new Uint8Array(1000))
    const file = await put(store, new UnixFS({ type: 'file', blockSizes: [10n, 10n] }), [{ Hash: leaf.cid, Tsize: 1000 }, { Hash: leaf.cid, Tsize: 1000 }])
    await expect(readFileBytes(file.cid, store, { maxBytes: 1 << 20 })).rejects.toThrow(/holds 1000 bytes where its parent says 10/)
  })

  it('parses sizes', () => {
    expect(parseSize('100GiB', '--max-bytes')).toBe(100 * 2 ** 30)
    expect(parseSize('512 MiB', '--max-bytes')).toBe(512 * 2 ** 20)
    expect(parseSize('2TB', '--max-bytes')).toBe(2e12)
    expect(parseSize('1048576', '--max-bytes')).toBe(1048576)
    expect(() => parseSize('lots', '--max-bytes')).toThrow("Input '--max-bytes'")
  })
})

describe('link sizes from outside', () => {
  it('a previous root whose link sizes add up past 2^53 is a TreeError when edited or sized, not a dag-pb error', async () => {
    const store = new MemoryBlockStore()
    const leaf = await putRaw(store, new Uint8Array([1]))
    // Each Tsize is a safe integer; their sum is not.
    const big = Number.MAX_SAFE_INTEGER - 10
    const root = await put(store, new UnixFS({ type: 'directory' }), [
      { Name: 'a', Hash: leaf.cid, Tsize: big },
      { Name: 'b', Hash: leaf.cid, Tsize: big }
    ])
    const edit = editTree(root.cid, [{ path: ['c'], node: leaf }], store, new MemoryBlockStore())
    await expect(edit).rejects.toThrow(TreeError)
    await expect(edit).rejects.toThrow('add up past 2^53 bytes')
    await expect(editTree(root.cid, [], store, new MemoryBlockStore())).rejects.toThrow(TreeError)
  })
})
