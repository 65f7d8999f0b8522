import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../blocks/types.js'
import { TreeError } from '../errors.js'
import { formatSize } from '../size.js'
import type { AbortOptions } from '../logger.js'

/**
 * Bounds on reading a DAG that comes from outside (a CAR, a gateway, a Kubo node): every
 * traversal of such a DAG is bounded in blocks, bytes and entries, whatever the DAG claims.
 */
export interface DagLimits {
  /** Block reads (a block read twice counts twice). */
  maxBlocks: number
  /** Bytes of the blocks read. */
  maxBlockBytes: number
  /** Directory entries listed, over every directory read. */
  maxEntries: number
  /** Entries one directory may hold, over all its HAMT shards. */
  maxDirectoryEntries: number
}

/**
 * Structural bounds that no valid UnixFS DAG reaches. A HAMT with 64-bit hashes needs two names
 * whose murmur3 hashes agree on more than 8 bytes to go past depth 8; files built by importers
 * are a few levels deep (balanced: 4 levels of 1024 links reach 1 PiB; trickle: about 10).
 */
export const MAX_HAMT_DEPTH = 64
export const MAX_FILE_DEPTH = 32
/** Nested directories an export writes; Linux paths stop at 4096 bytes, about 2048 levels of one-letter names. */
export const MAX_DIRECTORY_DEPTH = 1024

/**
 * Reading a previous registry root: its catalog, a repository's tags and recent blob folders,
 * and the directories an edit rewrites (all kept in memory while publishing). A catalog.json
 * is at most 32 MiB; a folder of 1,000,000 entries is about 100 MiB of HAMT shards; a registry
 * of 100,000 repositories, or of 100,000 tags per repository, reads a few MiB of directories.
 */
export const PREVIOUS_ROOT_LIMITS: DagLimits = {
  maxBlocks: 1_000_000,
  maxBlockBytes: 256 * 1024 * 1024,
  maxEntries: 4_000_000,
  maxDirectoryEntries: 1_000_000
}

/** What an export (`ipcr get`) may write; checked before writing where the DAG declares sizes, and while writing. */
export interface ExportLimits {
  /** File bytes written. */
  maxBytes: number
  /** Files and directories written (the root counts). */
  maxEntries: number
  /** Block reads. */
  maxBlocks: number
}

/**
 * The largest public images are tens of GiB (large ML images), with at most 127 layers (the
 * overlay limit) and a few dozen other files: 64 GiB and 1,000,000 entries fit any image and
 * most whole registries. 4,194,304 block reads cover 64 GiB read in 16 KiB blocks, where the
 * importers' chunks are 256 KiB or 1 MiB.
 */
export const EXPORT_LIMITS: ExportLimits = {
  maxBytes: 64 * 1024 * 1024 * 1024,
  maxEntries: 1_000_000,
  maxBlocks: 4_194_304
}

/** walkDag (the full-scope CAR copy): a registry of 4 TiB in 1 MiB leaves; its set of blocks seen grows by about 100 bytes a block. */
export const WALK_MAX_BLOCKS = 4_194_304

/** Limit names as the user sets them (e.g. a CLI flag), for error messages. */
export type LimitNames<T> = Partial<Record<keyof T, string>>

/** Counts the work of one traversal against its limits; TreeError naming the limit when one is passed. */
export class DagBudget {
  readonly limits: DagLimits
  private readonly names: LimitNames<DagLimits>
  blocks = 0
  blockBytes = 0
  entries = 0

  constructor(limits: Partial<DagLimits> = {}, names: LimitNames<DagLimits> = {}) {
    this.limits = { ...PREVIOUS_ROOT_LIMITS, ...limits }
    this.names = names
  }

  /** Counts one block read of `length` bytes. */
  block(cid: CID, length: number): void {
    this.blocks++
    this.blockBytes += length
    if (this.blocks > this.limits.maxBlocks) throw this.exceeded('maxBlocks', `more than ${this.limits.maxBlocks} block reads (at ${cid})`)
    if (this.blockBytes > this.limits.maxBlockBytes) throw this.exceeded('maxBlockBytes', `more than ${formatSize(this.limits.maxBlockBytes)} of blocks (at ${cid})`)
  }

  /** Counts `count` directory entries listed in the directory `cid`. */
  listed(cid: CID, count: number): void {
    this.entries += count
    if (this.entries > this.limits.maxEntries) throw this.exceeded('maxEntries', `more than ${this.limits.maxEntries} directory entries (at ${cid})`)
  }

  /** The TreeError for a directory (read from shard or block `cid`) holding more entries than allowed. */
  directoryTooLarge(cid: CID): TreeError {
    return this.exceeded('maxDirectoryEntries', `a directory holds more than ${this.limits.maxDirectoryEntries} entries (at ${cid})`)
  }

  /** A BlockSource over `source` that counts every block it returns. */
  source(source: BlockSource): BlockSource {
    return {
      label: source.label,
      get: async (cid, options) => {
        const bytes = await source.get(cid, options)
        this.block(cid, bytes.length)
        return bytes
      }
    }
  }

  private exceeded(limit: keyof DagLimits, message: string): TreeError {
    return new TreeError(`${message}: over the limit ${this.names[limit] ?? limit}`)
  }
}

/** Options of the functions that read a DAG from outside. */
export interface ReadOptions extends AbortOptions {
  /** Counts entries listed (blocks are counted by a source from `budget.source()`); per-directory limits come from it. */
  budget?: DagBudget
}

/** Entries one directory may hold under `options`. */
export function directoryLimit(options?: ReadOptions): number {
  return options?.budget?.limits.maxDirectoryEntries ?? PREVIOUS_ROOT_LIMITS.maxDirectoryEntries
}

/** The TreeError for a directory holding more entries than `options` allow. */
export function directoryTooLarge(cid: CID, options?: ReadOptions): TreeError {
  return (options?.budget ?? new DagBudget()).directoryTooLarge(cid)
}

