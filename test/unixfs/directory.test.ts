import { describe, expect, it } from '@jest/globals'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { InputError, TreeError } from '../../src/core/errors.js'
import { buildDirectory, findEntry, readDirectory, SHARD_THRESHOLD_BYTES, type DirEntry } from '../../src/core/unixfs/directory.js'
import { importBytes } from '../../src/core/unixfs/file.js'
import { buildTree, bytesOf, CountingSource, importTree, manyFiles, text, type TreeSpec } from './fixtures.js'

/** Encoded size of the basic directory block for these entries. */
function basicSize(entries: DirEntry[]): number {
  return dagPb.encode(dagPb.prepare({
    Data: new UnixFS({ type: 'directory' }).marshal(),
    Links: entries.map((e) => ({ Name: e.name, Hash: e.cid, Tsize: e.size }))
  })).length
}

async function entriesOf(spec: TreeSpec, store: MemoryBlockStore): Promise<DirEntry[]> {
  const entries: DirEntry[] = []
  for (const [name, value] of Object.entries(spec)) {
    const node = await importBytes(value as Uint8Array, store)
    entries.push({ name, cid: node.cid, size: node.size })
  }
  return entries
}

async function typeOf(cid: DirEntry['cid'], store: MemoryBlockStore): Promise<string> {
  return UnixFS.unmarshal(dagPb.decode(await store.get(cid)).Data as Uint8Array).type
}

/** A flat spec whose basic directory block is exactly `target` bytes. */
async function specOfSize(target: number): Promise<TreeSpec> {
  const long = (i: number): string => `entry-${String(i).padStart(6, '0')}-`.padEnd(200, 'x')
  const base = manyFiles(1065, long)
  const store = new MemoryBlockStore()
  const entries = await entriesOf(base, store)
  const lastContent = text('last file, 100 bytes'.padEnd(100, '.'))
  const last = await importBytes(lastContent, store)
  for (let length = 1; length < 400; length++) {
    const name = 'last-'.padEnd(length, 'y')
    const size = basicSize([...entries, { name, cid: last.cid, size: last.size }])
    if (size === target) return { ...base, [name]: lastContent }
    if (size > target) break
  }
  throw new Error(`cannot make a directory of exactly ${target} bytes`)
}

describe('buildDirectory', () => {
  it('matches the importer for small directories', async () => {
    const specs: TreeSpec[] = [
      {},
      { 'a.txt': text('a') },
      { b: text('b'), a: text('a'), 'Z-upper': text('z'), 'ünïcode': text('u'), 'big.bin': bytesOf(2_500_000, 9) },
      { nested: { deeper: { file: text('deep') }, empty: {} }, top: text('top') }
    ]
    for (const spec of specs) {
      const expected = await importTree(spec)
      const node = await buildTree(spec, new MemoryBlockStore())
      expect(node.cid.toString()).toBe(expected.cid.toString())
      expect(node.size).toBe(expected.size)
    }
  })

  it('shards a directory of > 1000 entries and > 256 KiB into a HAMT identical to the importer', async () => {
    const spec = manyFiles(3000, (i) => `sha256-${String(i * 7919).padStart(64, '0')}`)
    const expected = await importTree(spec)
    const store = new MemoryBlockStore()
    const node = await buildTree(spec, store)
    expect(node.cid.toString()).toBe(expected.cid.toString())
    expect(node.size).toBe(expected.size)
    expect(await typeOf(node.cid, store)).toBe('hamt-sharded-directory')
    // every block we wrote is one the importer wrote
    for (const { cid } of store.entries()) expect(await expected.store.has(cid)).toBe(true)
  })

  it('keeps a directory of many entries basic while its block fits (entry count alone does not shard)', async () => {
    const spec = manyFiles(2000, (i) => `f${i}`)
    const store = new MemoryBlockStore()
    const node = await buildTree(spec, store)
    expect(await typeOf(node.cid, store)).toBe('directory')
    expect(node.cid.toString()).toBe((await importTree(spec)).cid.toString())
  })

  it('stays basic at exactly 262144 bytes and shards at 262145, like the importer', async () => {
    for (const [target, type] of [[SHARD_THRESHOLD_BYTES, 'directory'], [SHARD_THRESHOLD_BYTES + 1, 'hamt-sharded-directory']] as const) {
      const spec = await specOfSize(target)
      const store = new MemoryBlockStore()
      const node = await buildTree(spec, store)
      expect(await typeOf(node.cid, store)).toBe(type)
      if (type === 'directory') expect((await store.get(node.cid)).length).toBe(target)
      const expected = await importTree(spec)
      expect(node.cid.toString()).toBe(expected.cid.toString())
      expect(node.size).toBe(expected.size)
    }
  })

  it('matches the importer for nested trees with a HAMT below basic directories', async () => {
    const spec: TreeSpec = {
      'catalog.json': text('{}'),
      app: {
        tags: { v1: { 'index.json': text('{"v":1}') }, v2: { 'index.json': text('{"v":2}') } },
        blobs: { sha256: manyFiles(1500, (i) => `${String(i).padStart(64, 'a')}`) }
      }
    }
    const expected = await importTree(spec)
    const node = await buildTree(spec, new MemoryBlockStore())
    expect(node.cid.toString()).toBe(expected.cid.toString())
  })

  it('counts subdirectory links towards the threshold (as Kubo does; the JS importer does not)', async () => {
    const spec: TreeSpec = {}
    for (let i = 0; i < 2500; i++) spec[`sub-${String(i).padStart(6, '0')}-`.padEnd(111, '0')] = { f: text(`f${i}`) }
    const store = new MemoryBlockStore()
    const node = await buildTree(spec, store)
    expect(await typeOf(node.cid, store)).toBe('hamt-sharded-directory')
    // the same CID as `ipfs add -r` in Kubo 0.43.1 (see kubo.test.ts)
    expect(node.cid.toString()).toBe('bafybeihoksbr2be3d2ntjo7xkmhk4ntebphd7oqmto2ya6urbfrodwvo7i')
  })

  it('rejects invalid and duplicate names', async () => {
    const { cid } = await importBytes(text('x'), new MemoryBlockStore())
    for (const name of ['', '.', '..', 'a/b', 'nul\0']) {
      await expect(buildDirectory([{ name, cid, size: 1 }], new MemoryBlockStore())).rejects.toThrow(InputError)
    }
    await expect(buildDirectory([{ name: 'a', cid, size: 1 }, { name: 'a', cid, size: 1 }], new MemoryBlockStore())).rejects.toThrow(/duplicate/)
  })
})

describe('readDirectory', () => {
  it('reads back a basic directory, sorted by name', async () => {
    const store = new MemoryBlockStore()
    const entries = await entriesOf({ b: text('b'), a: text('a'), c: bytesOf(2_000_000) }, store)
    const node = await buildDirectory(entries, store)
    const read = await readDirectory(node.cid, store)
    expect(read.map((e) => e.name)).toEqual(['a', 'b', 'c'])
    for (const entry of read) {
      const original = entries.find((e) => e.name === entry.name) as DirEntry
      expect(entry.cid.equals(original.cid)).toBe(true)
      expect(entry.size).toBe(original.size)
    }
  })

  it('reads a HAMT from its shard blocks only, never the entries', async () => {
    const store = new MemoryBlockStore()
    const entries = await entriesOf(manyFiles(2500, (i) => `blob-${i}`.padEnd(90, '-')), store)
    const node = await buildDirectory(entries, store)
    const source = new CountingSource(store)
    const read = await readDirectory(node.cid, source)
    expect(read).toHaveLength(entries.length)
    expect(new Set(read.map((e) => e.name))).toEqual(new Set(entries.map((e) => e.name)))
    for (const cid of source.requested) expect(await typeOf(cid, store)).toBe('hamt-sharded-directory')
    const byName = new Map(entries.map((e) => [e.name, e]))
    for (const entry of read) expect(entry.cid.equals((byName.get(entry.name) as DirEntry).cid)).toBe(true)
    // rebuilding from what was read gives the same HAMT
    expect((await buildDirectory(read, new MemoryBlockStore())).cid.equals(node.cid)).toBe(true)
  })

  it('finds one HAMT entry reading only the shards on its hash path', async () => {
    const store = new MemoryBlockStore()
    const entries = await entriesOf(manyFiles(2500, (i) => `blob-${i}`.padEnd(90, '-')), store)
    const node = await buildDirectory(entries, store)
    const source = new CountingSource(store)
    const wanted = entries[1234] as DirEntry
    const found = await findEntry(node.cid, wanted.name, source)
    expect(found?.cid.equals(wanted.cid)).toBe(true)
    expect(source.requested.length).toBeLessThanOrEqual(3)
    expect(await findEntry(node.cid, 'missing', source)).toBeUndefined()
  })

  it('throws TreeError for a file', async () => {
    const store = new MemoryBlockStore()
    const small = await importBytes(text('x'), store)
    const big = await importBytes(bytesOf(1_500_000), store)
    await expect(readDirectory(small.cid, store)).rejects.toThrow(TreeError)
    await expect(readDirectory(big.cid, store)).rejects.toThrow(TreeError)
  })
})
