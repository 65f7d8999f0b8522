import type { CID } from 'multiformats/cid'
import { BlockNotFoundError, throwIfAborted } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { blockKey } from './key.js'
import type { BlockStore } from './types.js'
import { verifyBlock } from './verify.js'

/** An in-memory block store; verifies blocks when they are put. */
export class MemoryBlockStore implements BlockStore {
  readonly label = 'memory'
  private readonly blocks = new Map<string, { cid: CID, bytes: Uint8Array }>()

  async put(cid: CID, bytes: Uint8Array, options?: AbortOptions): Promise<void> {
    throwIfAborted(options?.signal)
    const key = blockKey(cid)
    if (this.blocks.has(key)) return
    verifyBlock(cid, bytes)
    this.blocks.set(key, { cid, bytes })
  }

  async get(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    throwIfAborted(options?.signal)
    const block = this.blocks.get(blockKey(cid))
    if (block == null) throw new BlockNotFoundError(`Block ${cid} not found in ${this.label}`)
    return block.bytes
  }

  async has(cid: CID): Promise<boolean> {
    return this.blocks.has(blockKey(cid))
  }

  get size(): number {
    return this.blocks.size
  }

  /** Every stored block, in insertion order. */
  * entries(): IterableIterator<{ cid: CID, bytes: Uint8Array }> {
    yield * this.blocks.values()
  }
}
