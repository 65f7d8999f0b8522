import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { FirstSource } from '../../src/core/blocks/multi.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import type { BlockSink, BlockSource } from '../../src/core/blocks/types.js'
import { TreeError } from '../../src/core/errors.js'
import { publish, publishWithPatch, type PublishResult } from '../../src/core/publish.js'
import { CATALOG_LIMITS, parseCatalog, type Catalog } from '../../src/core/registry/catalog.js'
import { applyPatch, hasTags, type RegistryPatch } from '../../src/core/registry/patch.js'
import { buildDirectory } from '../../src/core/unixfs/directory.js'
import { editTree } from '../../src/core/unixfs/edit.js'
import { importBytes } from '../../src/core/unixfs/file.js'
import { readFileBytes, resolvePath } from '../../src/core/unixfs/tree.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { carContents } from './helpers.js'

const RAW = 0x55
const DAG_PB = 0x70

let dir: string
let layout: string

/** One publish of image `image` (a ref in the layout) as `tags` of team/app; its new blocks go to `store`. */
interface Run {
  result: PublishResult
  patch: RegistryPatch
  root: CID
  store: MemoryBlockStore
}

async function run (image: string, tags: string[], previous: Run | null, now: string, extra: { description?: string, carPath?: string, sources?: BlockSource[] } = {}): Promise<Run> {
  const store = new MemoryBlockStore()
  const { result, patch } = await publishWithPatch({
    image: { kind: 'file', path: `${layout}:${image}` },
    name: 'team/app',
    tags,
    previousRoot: previous?.root ?? null,
    sources: extra.sources ?? (previous != null ? [previous.store, ...stores] : []),
    sinks: [store],
    tempDir: dir,
    now: new Date(now),
    ...(extra.description != null ? { description: extra.description } : {}),
    ...(extra.carPath != null ? { carPath: extra.carPath } : {})
  })
  stores.push(store)
  return { result, patch, root: CID.parse(result.rootCid), store }
}

/** Every store a publish wrote to: enough to read any root of this file. */
const stores: MemoryBlockStore[] = []
const everything = (): BlockSource => new FirstSource([...stores])

/** Counts the blocks read through it. */
function counting (source: BlockSource): BlockSource & { reads: CID[] } {
  const reads: CID[] = []
  return { label: 'counting', reads, get: async (cid, options) => { reads.push(cid); return await source.get(cid, options) } }
}

async function catalogBytes (root: CID, source: BlockSource): Promise<Uint8Array> {
  const node = await resolvePath(root, ['catalog.json'], source)
  if (node == null) throw new Error(`no catalog.json in ${root}`)
  return await readFileBytes(node.cid, source, { maxBytes: 1 << 20 })
}

async function catalogOf (root: CID): Promise<Catalog> {
  return parseCatalog(await catalogBytes(root, everything()))
}

async function tagFolder (root: CID, tag: string): Promise<string | undefined> {
  return (await resolvePath(root, ['team', 'app', 'tags', tag], everything()))?.cid.toString()
}

const folderOf = (r: Run, tag: string): string => r.result.tags.find((t) => t.tag === tag)?.cid as string

// R0 holds team/app:0. A and B start from R0 at once: A publishes 1 and latest, B publishes 2.
let r0: Run
let a: Run
let b: Run
let bCar: string

beforeAll(async () => {
  dir = await makeTempDir('ipcr-patch-')
  layout = join(dir, 'layout')
  // Layers of 1.5 MiB of random bytes: blobs of several raw leaves.
  for (const v of ['v0', 'v1', 'v2', 'v3']) {
    await buildOciLayout(layout, { tag: v, layers: [{ files: { 'app.txt': `${v}\n`, 'data.bin': randomBytes(1536 * 1024) } }] })
  }
  r0 = await run('v0', ['0'], null, '2026-01-01T00:00:00.000Z')
  a = await run('v1', ['1', 'latest'], r0, '2026-03-01T00:00:00.000Z')
  bCar = join(dir, 'b.car')
  // B's time is before A's: the catalog's `updated` must not go back when B lands on A's root.
  b = await run('v2', ['2'], r0, '2026-02-01T00:00:00.000Z', { description: 'second run', carPath: bCar })
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('applyPatch: a publish re-applied onto a root that moved', () => {
  test("B's patch on A's root holds both runs' tags, and equals publishing B after A", async () => {
    const out = new MemoryBlockStore()
    stores.push(out)
    const applied = await applyPatch(b.patch, a.root, { sources: [a.store, r0.store], sink: out })
    expect(await tagFolder(applied.root, '0')).toBe(folderOf(r0, '0'))
    expect(await tagFolder(applied.root, '1')).toBe(folderOf(a, '1'))
    expect(await tagFolder(applied.root, 'latest')).toBe(folderOf(a, 'latest'))
    expect(await tagFolder(applied.root, '2')).toBe(folderOf(b, '2'))
    const catalog = await catalogOf(applied.root)
    expect(catalog.images.map((i) => [i.name, i.description, i.tags.map((t) => [t.tag, t.cid])])).toEqual([
      ['team/app', 'second run', [['0', folderOf(r0, '0')], ['1', folderOf(a, '1')], ['2', folderOf(b, '2')], ['latest', folderOf(a, 'latest')]]]
    ])
    expect(catalog.updated).toBe('2026-03-01T00:00:00.000Z')

    // The same as if B had started after A, with the same time.
    const sequential = await run('v2', ['2'], a, '2026-02-01T00:00:00.000Z', { description: 'second run' })
    expect(applied.root.toString()).toBe(sequential.result.rootCid)
    expect(Buffer.from(await catalogBytes(applied.root, everything()))).toEqual(Buffer.from(await catalogBytes(sequential.root, everything())))
  })

  test("the other order (A's patch on B's root) gives the same tree", async () => {
    const out = new MemoryBlockStore()
    stores.push(out)
    const forward = await applyPatch(b.patch, a.root, { sources: [a.store, r0.store], sink: new MemoryBlockStore() })
    const reverse = await applyPatch(a.patch, b.root, { sources: [b.store, r0.store], sink: out })
    for (const [tag, run] of [['0', r0], ['1', a], ['latest', a], ['2', b]] as const) expect(await tagFolder(reverse.root, tag)).toBe(folderOf(run, tag))
    expect((await catalogOf(reverse.root)).images[0]?.tags.map((t) => t.tag)).toEqual(['0', '1', '2', 'latest'])
    expect(reverse.root.toString()).toBe(forward.root.toString())
  })

  test('onto no root, a patch gives the root its own publish would have given', async () => {
    const alone = await run('v2', ['2'], null, '2026-02-01T00:00:00.000Z', { description: 'second run' })
    const applied = await applyPatch(b.patch, null, { sources: [], sink: new MemoryBlockStore() })
    expect(applied.root.toString()).toBe(alone.result.rootCid)
  })

  test('writes only the rebuilt directories and catalog.json, and reads no block of any image', async () => {
    const out = new MemoryBlockStore()
    let puts = 0
    const sink: BlockSink = { put: async (cid, bytes) => { puts++; await out.put(cid, bytes) } }
    const source = counting(new FirstSource([a.store, r0.store]))
    const applied = await applyPatch(b.patch, a.root, { sources: [source], sink })

    // What changed: the root, team, team/app, team/app/tags, and catalog.json (one raw block).
    const all = new FirstSource([out, ...stores])
    const path = async (root: CID, p: string[]): Promise<string> => (await resolvePath(root, p, all))?.cid.toString() as string
    const changed = [[], ['team'], ['team', 'app'], ['team', 'app', 'tags'], ['catalog.json']]
    const written = [...out.entries()].map((e) => e.cid)
    expect(new Set(written.map(String))).toEqual(new Set(await Promise.all(changed.map(async (p) => await path(applied.root, p)))))
    expect(puts).toBe(5)
    expect(applied.blocks).toBe(5)
    expect(written.filter((cid) => cid.code === RAW).map(String)).toEqual([await path(applied.root, ['catalog.json'])])
    // Nothing B's own publish wrote (its image, its tag folder, its README) is written again.
    const bBlocks = (await carContents(bCar)).cids
    expect(written.filter((cid) => bBlocks.has(cid.toString()))).toEqual([])

    // Read: the same directories of A's root (each once) and A's catalog.json; no blob, no tag folder.
    expect(new Set(source.reads.map(String))).toEqual(new Set(await Promise.all(changed.map(async (p) => await path(a.root, p)))))
    expect(source.reads).toHaveLength(5)
    expect(source.reads.filter((cid) => cid.code === RAW).map(String)).toEqual([await path(a.root, ['catalog.json'])])
    expect(source.reads.every((cid) => cid.code === DAG_PB || cid.code === RAW)).toBe(true)
  })

  test("a tag both runs publish: the patch's folder and catalog entry win, other tags stay", async () => {
    // C starts from R0 too and publishes another image as `latest`, which A also wrote.
    const c = await run('v3', ['latest'], r0, '2026-02-15T00:00:00.000Z')
    const out = new MemoryBlockStore()
    stores.push(out)
    const kept = await applyPatch(c.patch, a.root, { sources: [a.store, r0.store], sink: out })
    expect(await tagFolder(kept.root, 'latest')).toBe(folderOf(c, 'latest'))
    expect(folderOf(c, 'latest')).not.toBe(folderOf(a, 'latest'))
    expect(await tagFolder(kept.root, '1')).toBe(folderOf(a, '1'))
    expect(await tagFolder(kept.root, '0')).toBe(folderOf(r0, '0'))
    const tags = (await catalogOf(kept.root)).images[0]?.tags ?? []
    const aTags = (await catalogOf(a.root)).images[0]?.tags ?? []
    expect(tags.find((t) => t.tag === 'latest')).toEqual(c.patch.catalog.tags[0])
    expect(tags.find((t) => t.tag === 'latest')?.digest).toBe(c.result.digest)
    expect(tags.find((t) => t.tag === '1')).toEqual(aTags.find((t) => t.tag === '1'))
    expect(tags.find((t) => t.tag === '0')).toEqual(aTags.find((t) => t.tag === '0'))
    // The read-back check sees that A's `latest` is gone from this root, and C's tags are there.
    expect(await hasTags(kept.root, a.patch, everything())).toBe(false)
    expect(await hasTags(kept.root, c.patch, everything())).toBe(true)

    // And the other way round, A's `latest` wins.
    const back = await applyPatch(a.patch, c.root, { sources: [c.store, r0.store], sink: out })
    expect(await tagFolder(back.root, 'latest')).toBe(folderOf(a, 'latest'))
  })
})

describe('hasTags', () => {
  test("is true on the patched root for both runs, and on each run's own root only for that run", async () => {
    const out = new MemoryBlockStore()
    stores.push(out)
    const applied = await applyPatch(b.patch, a.root, { sources: [a.store, r0.store], sink: out })
    expect(await hasTags(applied.root, b.patch, everything())).toBe(true)
    expect(await hasTags(applied.root, a.patch, everything())).toBe(true)
    expect(await hasTags(a.root, b.patch, everything())).toBe(false)
    expect(await hasTags(b.root, a.patch, everything())).toBe(false)
    expect(await hasTags(a.root, a.patch, everything())).toBe(true)
    expect(await hasTags(b.root, b.patch, everything())).toBe(true)
    expect(await hasTags(r0.root, a.patch, everything())).toBe(false)
  })
})

describe('applyPatch onto a hostile root', () => {
  /** A's root with catalog.json replaced by `content` (bytes, or a folder). */
  async function hostileRoot (content: Uint8Array | 'directory'): Promise<{ root: CID, store: MemoryBlockStore }> {
    const store = new MemoryBlockStore()
    const node = content === 'directory' ? await buildDirectory([], store) : await importBytes(content, store)
    const root = await editTree(a.root, [{ path: ['catalog.json'], node }], new FirstSource([a.store, r0.store]), store)
    return { root: root.cid, store }
  }

  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

  test.each([
    ['invalid JSON', bytes('{"schemaVersion":1,'), 'the file is not valid UTF-8 JSON'],
    ['a catalog of the wrong shape', bytes(JSON.stringify({ schemaVersion: 1, updated: '2026-01-01T00:00:00.000Z', images: [null] })), 'images[0] is not an object'],
    ['deep JSON', bytes('['.repeat(100_000) + ']'.repeat(100_000)), `nested deeper than ${CATALOG_LIMITS.depth} levels`],
    ['a file past the catalog limit', new Uint8Array(CATALOG_LIMITS.bytes + 1).fill(0x20), `more than the ${CATALOG_LIMITS.bytes} allowed`],
    ['a folder', 'directory' as const, 'is not a file']
  ])('%s is refused as publish refuses it for a previous root, and nothing is written', async (_what, content, message) => {
    const { root, store } = await hostileRoot(content)
    const sources = [store, a.store, r0.store]
    const failure = async (work: Promise<unknown>): Promise<Error> => await work.then(() => { throw new Error('no error') }, (err: Error) => err)
    const published = await failure(publish({ image: { kind: 'file', path: `${layout}:v2` }, name: 'team/app', tags: ['2'], previousRoot: root, sources, tempDir: dir }))
    expect(published).toBeInstanceOf(TreeError)
    expect(published.message).toContain(message)
    expect(published.message).toContain(`previous root ${root.toString()}`)

    let puts = 0
    const sink: BlockSink = { put: async () => { puts++ } }
    const applied = await failure(applyPatch(b.patch, root, { sources, sink }))
    expect(applied).toBeInstanceOf(TreeError)
    expect(applied.message).toBe(published.message)
    expect(puts).toBe(0)
  })
})
