import { unlink } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { BlockNotFoundError, DigestMismatchError, throwIfAborted } from '../errors.js'
import type { AbortOptions, Logger } from '../logger.js'
import { silentLogger } from '../logger.js'
import { FsBlockStore } from './fs-store.js'
import { blockKey } from './key.js'
import type { BlockSource, BlockStore, PutOptions } from './types.js'
import { SharedCalls } from '../shared-calls.js'

/** ipcr's cache by default: `${XDG_CACHE_HOME:-~/.cache}/ipcr` (blocks/, and blobs/ for `ipcr serve`). */
export function defaultCacheDir (env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME != null && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache')
  return join(base, 'ipcr')
}

/** Where verified blocks are kept by default: `${XDG_CACHE_HOME:-~/.cache}/ipcr/blocks`. */
export function defaultBlockCacheDir (env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultCacheDir(env), 'blocks')
}

/**
 * A content cache of blocks on disk, one file per block by CID (FsBlockStore's layout). Only
 * blocks verified against their CIDs are put in; every read is verified again, and a file that
 * no longer matches its CID (changed on disk) is removed and reported as absent, so it is
 * fetched again. Nothing is ever evicted.
 */
export class DiskBlockCache implements BlockStore {
  readonly label: string
  readonly dir: string
  private readonly store: FsBlockStore

  constructor (dir: string, private readonly logger: Logger = silentLogger) {
    this.store = new FsBlockStore(dir)
    this.dir = dir
    this.label = `block cache ${dir}`
  }

  async get (cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    try {
      return await this.store.get(cid, options)
    } catch (err) {
      if (!(err instanceof DigestMismatchError)) throw err
      this.logger.warn(`${this.label}: the file of block ${cid} does not match its CID; removed, fetching it again`)
      await unlink(this.store.pathOf(cid)).catch(() => {})
      throw new BlockNotFoundError(`Block ${cid} in ${this.label} did not match its CID`, { cause: err })
    }
  }

  async has (cid: CID): Promise<boolean> {
    return await this.store.has(cid)
  }

  /** Callers put only blocks they verified (every BlockSource verifies what it returns). */
  async put (cid: CID, bytes: Uint8Array, options?: PutOptions): Promise<void> {
    await this.store.put(cid, bytes, options)
  }
}

/**
 * Blocks from `cache` when it has them, else from `source` (verified there), put into `cache`
 * on their way. Concurrent reads of one missing block share one fetch.
 */
export class CachedSource implements BlockSource {
  readonly label: string
  private readonly fetching = new SharedCalls<Uint8Array>()
  /** Blocks and bytes read from `source` (not from the cache). */
  fetched = { blocks: 0, bytes: 0 }

  /** `keep`: which fetched blocks go into the cache (default all); the others are only passed on. */
  constructor (readonly cache: BlockStore, readonly source: BlockSource, private readonly keep: (cid: CID, bytes: Uint8Array) => boolean = () => true) {
    this.label = `${cache.label}, then ${source.label}`
  }

  async get (cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    throwIfAborted(options?.signal)
    try {
      return await this.cache.get(cid, options)
    } catch (err) {
      if (!(err instanceof BlockNotFoundError)) throw err
    }
    return await this.fetching.run(blockKey(cid), async () => {
      const bytes = await this.source.get(cid, options)
      this.fetched.blocks++
      this.fetched.bytes += bytes.length
      if (this.keep(cid, bytes)) await this.cache.put(cid, bytes, { signal: options?.signal })
      return bytes
    })
  }
}
