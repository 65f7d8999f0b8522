import { importer } from 'ipfs-unixfs-importer'
import type { CID } from 'multiformats/cid'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import type { BlockSource } from '../../src/core/blocks/types.js'
import type { AbortOptions } from '../../src/core/logger.js'
import { buildDirectory, type DirEntry } from '../../src/core/unixfs/directory.js'
import { importBytes, type DagNode } from '../../src/core/unixfs/file.js'

/** A directory tree: names to file bytes or sub-trees. */
export interface TreeSpec { [name: string]: Uint8Array | TreeSpec }

/** Deterministic pseudo-random bytes (xorshift), fast enough for megabytes. */
export function bytesOf(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

export function text(value: string): Uint8Array {
  return new TextEncoder().encode(value)
}

/** The files (and empty directories) of a spec, as importer candidates. */
export function candidates(spec: TreeSpec, prefix = ''): Array<{ path: string, content?: Uint8Array }> {
  const out: Array<{ path: string, content?: Uint8Array }> = []
  for (const [name, value] of Object.entries(spec)) {
    const path = prefix === '' ? name : `${prefix}/${name}`
    if (value instanceof Uint8Array) out.push({ path, content: value })
    else if (Object.keys(value).length === 0) out.push({ path })
    else out.push(...candidates(value, path))
  }
  return out
}

/** Root of the spec imported in one go by ipfs-unixfs-importer (the reference), and its blocks. */
export async function importTree(spec: TreeSpec): Promise<{ cid: CID, size: number, store: MemoryBlockStore }> {
  const store = new MemoryBlockStore()
  const blockstore = { put: async (cid: CID, bytes: any) => { await store.put(cid, bytes); return cid } }
  let last: { cid: CID, size: bigint, path?: string } | undefined
  for await (const entry of importer(candidates(spec), blockstore, { profile: 'unixfs-v1-2025', wrapWithDirectory: true })) last = entry
  if (last == null || last.path !== '') throw new Error('importer did not yield the wrapping root')
  return { cid: last.cid, size: Number(last.size), store }
}

/** The spec built bottom-up with our importBytes + buildDirectory. */
export async function buildTree(spec: TreeSpec, store: MemoryBlockStore): Promise<DagNode> {
  const entries: DirEntry[] = []
  for (const [name, value] of Object.entries(spec)) {
    const node = value instanceof Uint8Array ? await importBytes(value, store) : await buildTree(value, store)
    entries.push({ name, cid: node.cid, size: node.size })
  }
  return buildDirectory(entries, store)
}

/** A source that records every CID it is asked for. */
export class CountingSource implements BlockSource {
  readonly label = 'counting'
  readonly requested: CID[] = []
  private readonly inner: BlockSource
  constructor(inner: BlockSource) {
    this.inner = inner
  }

  async get(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    this.requested.push(cid)
    return this.inner.get(cid, options)
  }
}

/** `count` files named by `name(i)` with small distinct contents. */
export function manyFiles(count: number, name: (i: number) => string, contentLength = 100): TreeSpec {
  const spec: TreeSpec = {}
  for (let i = 0; i < count; i++) {
    const content = new Uint8Array(contentLength)
    content.set(text(`file ${i} `).subarray(0, contentLength))
    spec[name(i)] = content
  }
  return spec
}
