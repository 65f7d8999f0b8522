import type { CID } from 'multiformats/cid'
import { throwIfAborted } from '../errors.js'
import type { BlockBufferOptions } from './car-source.js'
import { blockKey } from './key.js'
import type { BlockSource } from './types.js'
import { SharedCalls } from '../shared-calls.js'

/** Bytes of blocks a run keeps by default: the directories and file nodes of a large registry (a 1,000,000-entry folder is about 100 MiB of shards; its recent ones are what a run re-reads). */
export const BLOCK_CACHE_BYTES = 64 * 1024 * 1024

/**
 * Keeps the blocks a run reads more than once: dag-pb nodes (directories, HAMT shards, file
 * nodes). Raw leaves (file content) are read once by every traversal, so need no room.
 */
export function dagPbOnly (cid: CID): boolean {
  return cid.code === DAG_PB
}

/** Largest raw block treeBlocks keeps. */
export const SMALL_RAW_BYTES = 64 * 1024

/**
 * Keeps what a registry server reads on every request: dag-pb nodes, and raw blocks of at most
 * SMALL_RAW_BYTES (a tag folder's index.json, manifests and configs), but not the 1 MiB leaves
 * of layers.
 */
export function treeBlocks (cid: CID, bytes: Uint8Array): boolean {
  return cid.code === DAG_PB || bytes.byteLength <= SMALL_RAW_BYTES
}

const DAG_PB = 0x70

export interface BlockCacheOptions {
  /** Bytes of blocks kept; the least recently used go first. Default BLOCK_CACHE_BYTES. */
  maxBytes?: number
  /** Which blocks are kept (default: all); others are still fetched once when asked for at the same time. */
  keep?: (cid: CID, bytes: Uint8Array) => boolean
}

/**
 * A run-scoped cache in front of a source, so each block is fetched at most once per run
 * (while it fits): blocks come from `source`, which verifies them against their CIDs, and are
 * kept by multihash up to `maxBytes`, least recently used first out. Concurrent reads of one
 * block share one fetch. A read into a caller's lent buffer (`buffers`) is not kept, since the
 * caller reuses that memory. Kept bytes are shared: readers must not modify them.
 */
export class BlockCache implements BlockSource {
  readonly label: string
  private readonly maxBytes: number
  private readonly keep: (cid: CID, bytes: Uint8Array) => boolean
  private readonly blocks = new Map<string, Uint8Array>()
  private readonly fetching = new SharedCalls<Uint8Array>()
  private held = 0
  /** Blocks asked of the wrapped source. */
  fetches = 0

  constructor (private readonly source: BlockSource, options: BlockCacheOptions = {}) {
    this.label = source.label
    this.maxBytes = options.maxBytes ?? BLOCK_CACHE_BYTES
    this.keep = options.keep ?? (() => true)
  }

  async get (cid: CID, options?: BlockBufferOptions): Promise<Uint8Array> {
    throwIfAborted(options?.signal)
    const key = blockKey(cid)
    const kept = this.blocks.get(key)
    if (kept != null) {
      // Most recently used last.
      this.blocks.delete(key)
      this.blocks.set(key, kept)
      return kept
    }
    if (options?.buffers != null) {
      // Into the caller's lent buffer: not kept, and not shared with later callers.
      const running = this.fetching.running(key)
      if (running != null) return await running
      this.fetches++
      return await this.source.get(cid, options)
    }
    return await this.fetching.run(key, async () => {
      this.fetches++
      const bytes = await this.source.get(cid, options)
      this.add(key, cid, bytes)
      return bytes
    })
  }

  /** Bytes of blocks held now. */
  get bytes (): number {
    return this.held
  }

  private add (key: string, cid: CID, bytes: Uint8Array): void {
    if (!this.keep(cid, bytes) || bytes.byteLength > this.maxBytes || this.blocks.has(key)) return
    this.blocks.set(key, bytes)
    this.held += bytes.byteLength
    for (const [oldest, old] of this.blocks) {
      if (this.held <= this.maxBytes) break
      this.blocks.delete(oldest)
      this.held -= old.byteLength
    }
  }
}
