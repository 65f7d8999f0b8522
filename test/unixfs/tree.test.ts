import { describe, expect, it } from '@jest/globals'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { InputError, TreeError } from '../../src/core/errors.js'
import { readDirectory } from '../../src/core/unixfs/directory.js'
import { importBytes, type DagNode } from '../../src/core/unixfs/file.js'
import { editTree, type TreeEdit } from '../../src/core/unixfs/edit.js'
import { readFileBytes, resolvePath, walkDag } from '../../src/core/unixfs/tree.js'
import { buildTree, bytesOf, candidates, CountingSource, importTree, manyFiles, text, type TreeSpec } from './fixtures.js'

function registrySpec(): TreeSpec {
  return {
    'catalog.json': text('{"images":[]}'),
    app: {
      README: text('an app\n'),
      tags: {
        v1: { 'index.json': text('{"tag":"v1"}'), 'oci-layout': text('{}') },
        v2: { 'index.json': text('{"tag":"v2"}'), 'oci-layout': text('{}') }
      },
      blobs: { sha256: manyFiles(2600, (i) => String(i * 104729).padStart(64, 'f')) }
    },
    other: { tags: { latest: { 'index.json': text('other'), layer: bytesOf(1_300_000, 5) } } }
  }
}

/** Edits that put every file of a spec into a tree. */
async function editsFor(spec: TreeSpec, store: MemoryBlockStore): Promise<TreeEdit[]> {
  const edits: TreeEdit[] = []
  for (const { path, content } of candidates(spec)) {
    if (content == null) continue
    edits.push({ path: path.split('/'), node: await importBytes(content, store) })
  }
  return edits
}

function clone(spec: TreeSpec): TreeSpec {
  const out: TreeSpec = {}
  for (const [name, value] of Object.entries(spec)) out[name] = value instanceof Uint8Array ? value : clone(value)
  return out
}

async function unixfsType(cid: CID, store: MemoryBlockStore): Promise<string> {
  if (cid.code !== dagPb.code) return 'raw'
  return UnixFS.unmarshal(dagPb.decode(await store.get(cid)).Data as Uint8Array).type
}

describe('editTree', () => {
  it('builds a whole tree from nothing, equal to a full import', async () => {
    const spec = registrySpec()
    const store = new MemoryBlockStore()
    const root = await editTree(null, await editsFor(spec, store), null, store)
    const expected = await importTree(spec)
    expect(root.cid.toString()).toBe(expected.cid.toString())
    expect(root.size).toBe(expected.size)
  })

  it('patches a tree reading only the directories on the edited paths; equals a full re-import', async () => {
    const spec = registrySpec()
    const store = new MemoryBlockStore()
    const original = await buildTree(spec, store)
    expect(original.cid.toString()).toBe((await importTree(spec)).cid.toString())

    // the new tree, described in full
    const edited = clone(spec)
    const app = edited.app as TreeSpec
    const tags = app.tags as TreeSpec
    const sha256 = (app.blobs as TreeSpec).sha256 as TreeSpec
    const v3: TreeSpec = { 'index.json': text('{"tag":"v3"}'), 'oci-layout': text('{}') }
    tags.v3 = v3
    delete tags.v1
    edited['catalog.json'] = text('{"images":["app"]}')
    const newBlob = 'e'.repeat(64)
    sha256[newBlob] = text('a new blob')
    delete sha256[String(104729).padStart(64, 'f')]

    // the same change as edits: a prebuilt v3 folder, a replaced file, deletions, an added blob
    const v3Node = await buildTree(v3, store)
    const edits: TreeEdit[] = [
      { path: ['app', 'tags', 'v3'], node: v3Node },
      { path: ['app', 'tags', 'v1'], node: null },
      { path: ['catalog.json'], node: await importBytes(edited['catalog.json'] as Uint8Array, store) },
      { path: ['app', 'blobs', 'sha256', newBlob], node: await importBytes(sha256[newBlob] as Uint8Array, store) },
      { path: ['app', 'blobs', 'sha256', String(104729).padStart(64, 'f')], node: null }
    ]

    const source = new CountingSource(store)
    const sink = new MemoryBlockStore()
    const root = await editTree(original.cid, edits, source, sink)
    const expected = await importTree(edited)
    expect(root.cid.toString()).toBe(expected.cid.toString())
    expect(root.size).toBe(expected.size)

    // reads: root, app, app/tags, app/blobs, and the blocks of the HAMT app/blobs/sha256; nothing else
    const onPath = new Set<string>()
    for (const path of [[], ['app'], ['app', 'tags'], ['app', 'blobs']]) {
      onPath.add(((await resolvePath(original.cid, path, store)) as DagNode).cid.toString())
    }
    const requested = source.requested.map((cid) => cid.toString())
    expect(new Set(requested).size).toBe(requested.length)
    for (const cid of source.requested) {
      if (!onPath.has(cid.toString())) expect(await unixfsType(cid, store)).toBe('hamt-sharded-directory')
    }
    for (const cid of onPath) expect(requested).toContain(cid)
    const sha256Dir = (await resolvePath(original.cid, ['app', 'blobs', 'sha256'], store)) as DagNode
    expect(await unixfsType(sha256Dir.cid, store)).toBe('hamt-sharded-directory')
    expect(requested).toContain(sha256Dir.cid.toString())
    const v2 = (await resolvePath(original.cid, ['app', 'tags', 'v2'], store)) as DagNode
    expect(requested).not.toContain(v2.cid.toString())

    // only new directory blocks were written, and together with the old store they form the full tree
    for (const { cid } of sink.entries()) expect(await store.has(cid)).toBe(false)
    for (const { cid } of sink.entries()) expect(await unixfsType(cid, sink)).toMatch(/directory/)
    const both = new MemoryBlockStore()
    for (const s of [store, sink]) for (const { cid, bytes } of s.entries()) await both.put(cid, bytes)
    const walked = new Set<string>()
    for await (const block of walkDag(root.cid, both)) walked.add(block.cid.toString())
    const reference = new Set([...expected.store.entries()].map((b) => b.cid.toString()))
    expect(walked).toEqual(reference)
  })

  it('turns a basic directory into a HAMT and back as it crosses the threshold', async () => {
    const store = new MemoryBlockStore()
    const files = manyFiles(3000, (i) => `blob-${i}`.padEnd(80, '-'))
    const edits = await editsFor({ d: files }, store)
    const small = await editTree(null, edits.slice(0, 100), null, store)
    const big = await editTree(small.cid, edits.slice(100), store, store)
    const d = (await resolvePath(big.cid, ['d'], store)) as DagNode
    expect(await unixfsType(d.cid, store)).toBe('hamt-sharded-directory')
    expect(big.cid.toString()).toBe((await importTree({ d: files })).cid.toString())
    const deletes = edits.slice(100).map((e) => ({ path: e.path, node: null }))
    const shrunk = await editTree(big.cid, deletes, store, store)
    expect(shrunk.cid.equals(small.cid)).toBe(true)
  })

  it('adds to a HAMT reading only the shards on the new names\' hash paths; a shrinking edit reads it whole', async () => {
    // 200-byte files: their links' Tsize takes two bytes, a 1-byte file's one.
    const spec = { d: manyFiles(3000, (i) => `blob-${i}`.padEnd(80, '-'), 200) }
    const store = new MemoryBlockStore()
    const original = await buildTree(spec, store)
    const shards: string[] = []
    for await (const { cid } of walkDag(original.cid, store)) if (await unixfsType(cid, store) === 'hamt-sharded-directory') shards.push(cid.toString())
    expect(shards.length).toBeGreaterThan(200)

    // Two new names and one replaced with content of the same size: the HAMT only grows.
    const grown = clone(spec)
    const d = grown.d as TreeSpec
    d['new-a'] = text('a new file')
    d['new-b'] = text('another new file')
    const replaced = 'blob-7'.padEnd(80, '-')
    d[replaced] = new Uint8Array(200).fill(9)
    const source = new CountingSource(store)
    const sink = new MemoryBlockStore()
    const edits: TreeEdit[] = []
    for (const name of ['new-a', 'new-b', replaced]) edits.push({ path: ['d', name], node: await importBytes(d[name] as Uint8Array, sink) })
    const root = await editTree(original.cid, edits, source, sink)
    expect(root.cid.toString()).toBe((await importTree(grown)).cid.toString())
    const requested = source.requested.map(String)
    expect(new Set(requested).size).toBe(requested.length)
    // the root, the HAMT's root shard, and at most two more shards on each of three hash paths
    expect(requested.length).toBeLessThanOrEqual(2 + 3 * 2)

    // Replacing an entry with a smaller one could take the directory under the threshold:
    // every entry is read and the directory built anew, still equal to a full import.
    const shrunk = clone(spec)
    ;(shrunk.d as TreeSpec)[replaced] = text('x')
    const whole = new CountingSource(store)
    const small = await editTree(original.cid, [{ path: ['d', replaced], node: await importBytes(text('x'), store) }], whole, new MemoryBlockStore())
    expect(small.cid.toString()).toBe((await importTree(shrunk)).cid.toString())
    const readWhole = new Set(whole.requested.map(String))
    for (const shard of shards) expect(readWhole.has(shard)).toBe(true)
  })

  it('handles no-op deletes, replaced subtrees and repeated paths (last edit wins)', async () => {
    const store = new MemoryBlockStore()
    const a = await importBytes(text('a'), store)
    const b = await importBytes(text('b'), store)
    const start = await editTree(null, [{ path: ['x', 'file'], node: a }], null, store)
    const same = await editTree(start.cid, [{ path: ['nope', 'deeper'], node: null }, { path: ['x', 'missing'], node: null }], store, store)
    expect(same.cid.equals(start.cid)).toBe(true)
    const twice = await editTree(start.cid, [{ path: ['x', 'file'], node: b }, { path: ['x', 'file'], node: a }], store, store)
    expect(twice.cid.equals(start.cid)).toBe(true)
    const replaced = await editTree(start.cid, [{ path: ['x'], node: b }], store, store)
    expect((await readDirectory(replaced.cid, store)).map((e) => [e.name, e.cid.toString()])).toEqual([['x', b.cid.toString()]])
  })

  it('refuses bad paths and paths through files', async () => {
    const store = new MemoryBlockStore()
    const a = await importBytes(text('a'), store)
    const root = await editTree(null, [{ path: ['file'], node: a }], null, store)
    await expect(editTree(root.cid, [{ path: ['file', 'inside'], node: a }], store, store)).rejects.toThrow(TreeError)
    await expect(editTree(root.cid, [{ path: [], node: a }], store, store)).rejects.toThrow(InputError)
    await expect(editTree(root.cid, [{ path: ['..'], node: a }], store, store)).rejects.toThrow(InputError)
    await expect(editTree(root.cid, [{ path: ['a/b'], node: a }], store, store)).rejects.toThrow(InputError)
    await expect(editTree(root.cid, [{ path: ['new'], node: a }], null, store)).rejects.toThrow(InputError)
  })
})

describe('resolvePath, readFileBytes, walkDag', () => {
  it('resolves paths through basic and HAMT directories', async () => {
    const spec = registrySpec()
    const store = new MemoryBlockStore()
    const root = await buildTree(spec, store)
    const name = String(77 * 104729).padStart(64, 'f')
    const source = new CountingSource(store)
    const blob = await resolvePath(root.cid, ['app', 'blobs', 'sha256', name], source)
    const expected = await importBytes(((spec.app as TreeSpec).blobs as TreeSpec as any).sha256[name], new MemoryBlockStore())
    expect(blob?.cid.equals(expected.cid)).toBe(true)
    expect(blob?.size).toBe(expected.size)
    expect(source.requested.length).toBeLessThanOrEqual(6)
    expect(await resolvePath(root.cid, ['app', 'nothing'], store)).toBeUndefined()
    expect(await resolvePath(root.cid, ['app', 'blobs', 'sha256', 'nothing'], store)).toBeUndefined()
    await expect(resolvePath(root.cid, ['catalog.json', 'x'], store)).rejects.toThrow(TreeError)
    const top = await resolvePath(root.cid, [], store)
    expect(top).toEqual(root)
    const app = await resolvePath(root.cid, ['app'], store)
    expect(await resolvePath(app?.cid as CID, [], store)).toEqual(app)
  })

  it('reads small files whole, within maxBytes', async () => {
    const store = new MemoryBlockStore()
    const small = await importBytes(text('{"a":1}'), store)
    expect(new TextDecoder().decode(await readFileBytes(small.cid, store, { maxBytes: 100 }))).toBe('{"a":1}')
    const content = bytesOf(2_200_000, 4)
    const big = await importBytes(content, store)
    expect(Buffer.from(await readFileBytes(big.cid, store, { maxBytes: 3_000_000 })).equals(content)).toBe(true)
    await expect(readFileBytes(big.cid, store, { maxBytes: 1_000_000 })).rejects.toThrow(TreeError)
    const dir = await editTree(null, [{ path: ['f'], node: small }], null, store)
    await expect(readFileBytes(dir.cid, store, { maxBytes: 100 })).rejects.toThrow(TreeError)
  })

  it('walks every block of a DAG exactly once, root first', async () => {
    const spec = registrySpec()
    const shared = bytesOf(1_100_000, 8)
    ;(spec.other as TreeSpec).copy1 = shared
    ;(spec.other as TreeSpec).copy2 = shared
    const expected = await importTree(spec)
    const seen: string[] = []
    for await (const block of walkDag(expected.cid, expected.store, { concurrency: 4 })) seen.push(block.cid.toString())
    expect(seen[0]).toBe(expected.cid.toString())
    expect(new Set(seen).size).toBe(seen.length)
    expect(new Set(seen)).toEqual(new Set([...expected.store.entries()].map((b) => b.cid.toString())))
  })

  it('skips what `skip` selects without reading it', async () => {
    const spec = registrySpec()
    const expected = await importTree(spec)
    const source = new CountingSource(expected.store)
    const seen: CID[] = []
    for await (const block of walkDag(expected.cid, source, { skip: (cid) => cid.code === 0x55 })) seen.push(block.cid)
    expect(seen.every((cid) => cid.code === dagPb.code)).toBe(true)
    expect(source.requested.every((cid) => cid.code === dagPb.code)).toBe(true)
  })
})
