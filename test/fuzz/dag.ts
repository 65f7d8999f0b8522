// DAG target: generated dag-pb/UnixFS DAGs (directories with hostile names, HAMT shards that
// may link one sub-shard many times, files whose links repeat, symlinks, nodes of the wrong type,
// codecs, identity and missing blocks), served from a memory block source that counts reads;
// driven through resolvePath, readDirectory, walkDag, exportToDirectory and editTree.
import * as dagPb from '@ipld/dag-pb'
import fc from 'fast-check'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { sha256 } from 'multiformats/hashes/sha2'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { FirstSource } from '../../src/core/blocks/multi.js'
import { readDirectory } from '../../src/core/unixfs/directory.js'
import { editTree, type TreeEdit } from '../../src/core/unixfs/edit.js'
import { exportToDirectory } from '../../src/core/unixfs/export.js'
import { importBytes, type DagNode } from '../../src/core/unixfs/file.js'
import { buildShardedDirectory, NameHash } from '../../src/core/unixfs/hamt.js'
import { resolvePath, walkDag } from '../../src/core/unixfs/tree.js'
import { CountingSource, sometimes, step, tryStep, Violation, type Target } from './harness.js'
import { nastyName } from './tar.js'

type Ref = number
type NodeSpec =
  | { kind: 'raw', bytes: Uint8Array }
  | { kind: 'file', links: Ref[], sizes: 'ok' | 'wrong' | 'none', data: Uint8Array | null }
  | { kind: 'dir', links: Array<{ ref: Ref, name: string }> }
  | { kind: 'hamt', fanout: number, entries: Array<{ ref: Ref, name: string, hashed: boolean }>, sub: Array<{ ref: Ref, slot: number, fan: number }> }
  | { kind: 'hamtChain', levels: number, fan: number, leaf: Ref }
  | { kind: 'symlink', target: string }
  | { kind: 'garbage', data: Uint8Array, links: Ref[] }
  | { kind: 'cbor', bytes: Uint8Array }
  | { kind: 'identity', ref: Ref }
  | { kind: 'missing', seed: number }
  | { kind: 'bigHamt' }

const ref = fc.nat(12)
const name = fc.oneof({ arbitrary: fc.constantFrom('a', 'b', 'c', 'tags', 'latest', 'catalog.json', 'blobs', 'sha256'), weight: 3 }, nastyName)

const nodeSpec: fc.Arbitrary<NodeSpec> = fc.oneof(
  fc.record({ kind: fc.constant('raw' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ kind: fc.constant('file' as const), links: fc.array(ref, { maxLength: 40 }), sizes: fc.constantFrom('ok' as const, 'wrong' as const, 'none' as const), data: sometimes(fc.uint8Array({ maxLength: 16 }), 4) }),
  { arbitrary: fc.record({ kind: fc.constant('dir' as const), links: fc.array(fc.record({ ref, name }), { maxLength: 8 }) }), weight: 3 },
  { arbitrary: fc.record({
    kind: fc.constant('hamt' as const),
    fanout: fc.oneof({ arbitrary: fc.constant(256), weight: 5 }, fc.constantFrom(0, 1, 2, 3, 16, 2 ** 32, 2 ** 40)),
    entries: fc.array(fc.record({ ref, name, hashed: fc.boolean() }), { maxLength: 6 }),
    sub: fc.array(fc.record({ ref, slot: fc.nat(255), fan: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 256 })) }), { maxLength: 3 })
  }), weight: 2 },
  fc.record({ kind: fc.constant('hamtChain' as const), levels: fc.integer({ min: 1, max: 4 }), fan: fc.integer({ min: 1, max: 256 }), leaf: ref }),
  fc.record({ kind: fc.constant('symlink' as const), target: fc.oneof(nastyName, fc.constantFrom('/etc/passwd', '../../..', '.')) }),
  fc.record({ kind: fc.constant('garbage' as const), data: fc.uint8Array({ maxLength: 24 }), links: fc.array(ref, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('cbor' as const), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ kind: fc.constant('identity' as const), ref }),
  fc.record({ kind: fc.constant('missing' as const), seed: fc.nat() }),
  fc.constant({ kind: 'bigHamt' as const })
)

export interface DagInput {
  nodes: NodeSpec[]
  paths: string[][]
  edits: Array<{ path: string[], node: Ref | null }>
}

const path = fc.array(name, { minLength: 0, maxLength: 4 })
export const dagInput: fc.Arbitrary<DagInput> = fc.record({
  nodes: fc.array(nodeSpec, { minLength: 1, maxLength: 14 }),
  paths: fc.array(path, { maxLength: 3 }),
  edits: fc.array(fc.record({ path, node: sometimes(ref, 1) }), { maxLength: 4 })
})

interface Built extends DagNode { content: number }

const HAMT_DATA = (fanout: number, slots: number[]): Uint8Array => {
  const length = Math.floor(Math.max(0, ...slots) / 8) + 1
  const bitfield = new Uint8Array(length)
  for (const slot of slots) bitfield[length - 1 - Math.floor(slot / 8)]! |= 1 << (slot % 8)
  return new UnixFS({ type: 'hamt-sharded-directory', data: bitfield, fanout: BigInt(fanout), hashType: 0x22n }).marshal()
}
const hexSlot = (slot: number): string => slot.toString(16).toUpperCase().padStart(2, '0')

let bigHamt: { root: Built, store: MemoryBlockStore } | undefined

const BIG_HAMT_ENTRIES = 300

/** A HAMT as publish writes it (fanout 256, murmur3 slots), of 300 entries: some slots hold sub-shards. */
async function buildBigHamt (): Promise<{ root: Built, store: MemoryBlockStore }> {
  const store = new MemoryBlockStore()
  const leaf = await importBytes(new TextEncoder().encode('x'), store)
  const entries = Array.from({ length: BIG_HAMT_ENTRIES }, (_, i) => ({ name: `entry-${i}`, cid: leaf.cid, size: leaf.size }))
  const root = await buildShardedDirectory(entries, store)
  return { root: { ...root, content: 0 }, store }
}

/**
 * The nodes a correct reader visits to export the tree node 0 describes (a node reached by two
 * paths counts twice), capped at 1e9. A HAMT's sub-shards count once each, however often a
 * directory links them: reusing a shard within one directory is what a reader must refuse.
 */
export function expandedSize (input: DagInput): number {
  const memo = new Map<number, number>()
  const count = input.nodes.length
  const at = (i: number, r: Ref): number | undefined => i + 1 >= count ? undefined : i + 1 + (r % (count - i - 1))
  const size = (i: number): number => {
    const known = memo.get(i)
    if (known != null) return known
    const spec = input.nodes[i] as NodeSpec
    const sum = (refs: Ref[]): number => refs.reduce((s, r) => { const j = at(i, r); return j == null ? s : s + size(j) }, 0)
    let n = 1
    switch (spec.kind) {
      case 'file': n += sum(spec.links); break
      case 'dir': n += sum(spec.links.map((l) => l.ref)); break
      case 'garbage': n += sum(spec.links); break
      case 'hamt': n += sum(spec.entries.map((e) => e.ref)) + sum([...new Set(spec.sub.map((s) => at(i, s.ref)))].filter((j): j is number => j != null).map((j) => j - i - 1)); break
      case 'hamtChain': { const j = at(i, spec.leaf); n = spec.levels + spec.fan * (j == null ? 0 : size(j)); break }
      case 'identity': { const j = at(i, spec.ref); n = j == null ? 1 : size(j); break }
      case 'bigHamt': n = 2 * BIG_HAMT_ENTRIES; break
    }
    n = Math.min(n, 1e9)
    memo.set(i, n)
    return n
  }
  return size(0)
}

async function put (store: MemoryBlockStore, codec: number, bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(codec, await sha256.digest(bytes))
  await store.put(cid, bytes)
  return cid
}

async function pbNode (store: MemoryBlockStore, data: Uint8Array | undefined, links: dagPb.PBLink[]): Promise<Built> {
  // Repeated links make cumulative sizes grow fast: keep them encodable.
  const capped = links.map((l) => ({ ...l, Tsize: Math.min(l.Tsize ?? 0, 2 ** 52) }))
  const bytes = dagPb.encode(dagPb.prepare({ ...(data != null ? { Data: data } : {}), Links: capped }))
  const cid = await put(store, dagPb.code, bytes)
  return { cid, size: Math.min(2 ** 52, bytes.length + capped.reduce((sum, l) => sum + l.Tsize, 0)), content: 0 }
}

/** Builds the nodes from the last to the first (links point forward only); node 0 is the root. */
export async function buildDag (input: DagInput): Promise<{ nodes: Built[], store: MemoryBlockStore }> {
  const store = new MemoryBlockStore()
  const nodes: Built[] = new Array(input.nodes.length)
  const target = (i: number, r: Ref): Built | undefined => i + 1 >= nodes.length ? undefined : nodes[i + 1 + (r % (nodes.length - i - 1))]
  for (let i = input.nodes.length - 1; i >= 0; i--) {
    const spec = input.nodes[i] as NodeSpec
    const links = (refs: Ref[]): Built[] => refs.map((r) => target(i, r)).filter((b): b is Built => b != null)
    switch (spec.kind) {
      case 'raw': {
        const cid = await put(store, raw.code, spec.bytes)
        nodes[i] = { cid, size: spec.bytes.length, content: spec.bytes.length }
        break
      }
      case 'file': {
        const children = links(spec.links)
        const unixfs = new UnixFS({ type: 'file', ...(spec.data != null ? { data: spec.data } : {}) })
        if (spec.sizes !== 'none') for (const child of children) unixfs.addBlockSize(BigInt(spec.sizes === 'ok' ? child.content : child.content * 3 + 1))
        const built = await pbNode(store, unixfs.marshal(), children.map((c) => ({ Hash: c.cid, Tsize: c.size })))
        nodes[i] = { ...built, content: (spec.data?.length ?? 0) + children.reduce((s, c) => s + c.content, 0) }
        break
      }
      case 'dir': {
        const links = spec.links.flatMap(({ ref, name }) => { const t = target(i, ref); return t == null ? [] : [{ Name: name, Hash: t.cid, Tsize: t.size }] })
        nodes[i] = await pbNode(store, new UnixFS({ type: 'directory' }).marshal(), links)
        break
      }
      case 'hamt': {
        const pbLinks: dagPb.PBLink[] = []
        for (const e of spec.entries) {
          const t = target(i, e.ref)
          if (t == null) continue
          const slot = e.hashed ? await new NameHash(e.name).slot(0) : e.name.length % 256
          pbLinks.push({ Name: hexSlot(slot) + e.name, Hash: t.cid, Tsize: t.size })
        }
        for (const s of spec.sub) {
          const t = target(i, s.ref)
          if (t == null) continue
          for (let k = 0; k < s.fan; k++) pbLinks.push({ Name: hexSlot((s.slot + k) % 256), Hash: t.cid, Tsize: t.size })
        }
        const slots = pbLinks.map((l) => Number.parseInt((l.Name ?? '').slice(0, 2), 16)).filter((n) => Number.isInteger(n))
        nodes[i] = await pbNode(store, HAMT_DATA(spec.fanout, slots), pbLinks)
        break
      }
      case 'hamtChain': {
        // `levels` shards, each linking `fan` slots to the same next shard: fan^levels entries from a few blocks.
        let next = target(i, spec.leaf)
        const leafName = 'leaf'
        let node: Built | undefined
        for (let level = 0; level < spec.levels; level++) {
          const pbLinks: dagPb.PBLink[] = []
          for (let k = 0; k < spec.fan; k++) {
            if (level === 0) {
              if (next != null) pbLinks.push({ Name: hexSlot(k) + `${leafName}${k}`, Hash: next.cid, Tsize: next.size })
            } else if (node != null) {
              pbLinks.push({ Name: hexSlot(k), Hash: node.cid, Tsize: node.size })
            }
          }
          node = await pbNode(store, HAMT_DATA(256, pbLinks.map((_, k) => k)), pbLinks)
          next = node
        }
        nodes[i] = node as Built
        break
      }
      case 'symlink':
        nodes[i] = await pbNode(store, new UnixFS({ type: 'symlink', data: new TextEncoder().encode(spec.target) }).marshal(), [])
        break
      case 'garbage':
        nodes[i] = await pbNode(store, spec.data, links(spec.links).map((c) => ({ Hash: c.cid, Tsize: c.size })))
        break
      case 'cbor': {
        const cid = await put(store, 0x71, spec.bytes)
        nodes[i] = { cid, size: spec.bytes.length, content: 0 }
        break
      }
      case 'identity': {
        const t = target(i, spec.ref)
        const bytes = t == null ? new Uint8Array(0) : await store.get(t.cid).catch(() => new Uint8Array(0))
        const cid = CID.createV1(t?.cid.code ?? raw.code, identity.digest(bytes))
        nodes[i] = { cid, size: bytes.length, content: t?.content ?? 0 }
        break
      }
      case 'missing': {
        const cid = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`missing ${spec.seed}`)))
        nodes[i] = { cid, size: 10, content: 10 }
        break
      }
      case 'bigHamt': {
        bigHamt ??= await buildBigHamt()
        for (const block of bigHamt.store.entries()) await store.put(block.cid, block.bytes)
        nodes[i] = bigHamt.root
        break
      }
    }
  }
  return { nodes, store }
}

/**
 * Limits for exportToDirectory below the fuzzer's read budget, so that a refusal by the export's own
 * limits is a pass and reads past them (the limits not holding) are a failure.
 */
export function exportLimits (budget: number): { maxBlocks: number, maxEntries: number, maxBytes: number } {
  return { maxBlocks: Math.floor(budget / 2), maxEntries: 10_000, maxBytes: 64 * 2 ** 20 }
}

/**
 * `maxExpansion`: only DAGs whose tree (expandedSize) is at most this large, e.g. to leave out trees
 * that a reader may refuse by its default limits on entries. Block reads per call are bounded by
 * 2 × expandedSize + 200 (and by the run's maxReads).
 */
export function dagTargetWith (maxExpansion = Infinity): Target<DagInput> {
  return {
    name: 'dag',
    arbitrary: Number.isFinite(maxExpansion) ? dagInput.filter((input) => expandedSize(input) <= maxExpansion) : dagInput,
    setup: async () => { bigHamt ??= await buildBigHamt() },
    save: (input) => ({ ext: 'dag.json', bytes: Buffer.from(JSON.stringify(input, (_, v) => v instanceof Uint8Array ? { bytes: Buffer.from(v).toString('base64') } : v, 1)) }),
    run: async (input, sandbox) => {
      sandbox.step = 'build'
      const { nodes, store } = await buildDag(input)
      const root = (nodes[0] as Built).cid
      const budget = Math.min(sandbox.limits.maxReads, 2 * expandedSize(input) + 200)
      const source = new CountingSource(store, budget)
      for (const p of input.paths) await tryStep(sandbox, 'resolvePath', source, async () => await resolvePath(root, p, source, { signal: sandbox.signal }))
      await tryStep(sandbox, 'readDirectory', source, async () => await readDirectory(root, source, { signal: sandbox.signal }))
      await tryStep(sandbox, 'walkDag', source, async () => {
        for await (const _ of walkDag(root, source, { signal: sandbox.signal })) { /* every block once */ }
      })
      await tryStep(sandbox, 'exportToDirectory', source, async () => await exportToDirectory(root, sandbox.out, source, { signal: sandbox.signal, limits: exportLimits(budget) }))

      const sink = new MemoryBlockStore()
      const edits: TreeEdit[] = input.edits.map((e) => ({ path: e.path, node: e.node == null ? null : nodes[e.node % nodes.length] as Built }))
      const edited = await tryStep(sandbox, 'editTree', source, async () => await editTree(root, edits, source, sink, { signal: sandbox.signal }))
      const last = edits[edits.length - 1]
      if (edited == null || last == null) return
      // The last edit of a path always wins: resolving it in the new tree gives its node.
      const both = new CountingSource(new FirstSource([sink, store]), budget)
      const found = await step(sandbox, 'resolvePath after editTree', both, async () => await resolvePath(edited.cid, last.path, both, { signal: sandbox.signal }))
      const expected = last.node?.cid.toString()
      if (found?.cid.toString() !== expected) {
        throw new Violation('edit-lost', `after editTree, /${last.path.join('/')} is ${found?.cid.toString() ?? 'missing'}, expected ${expected ?? 'missing'}`)
      }
    }
  }
}

export const dagTarget = dagTargetWith()
