import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../blocks/types.js'
import { throwIfAborted } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { checkFileBlock, readBlock, READ_AHEAD } from './content.js'

export interface SliceOptions extends AbortOptions {
  /** The root block's bytes, when the caller has read them already. */
  block?: Uint8Array
  /** Sibling blocks read ahead on each level; default READ_AHEAD. */
  readAhead?: number
}

/**
 * Bytes `start` (inclusive) to `end` (exclusive) of the UnixFS file at `cid`, chunk by chunk.
 * Children wholly outside the range are never read: the block sizes of each node say where
 * they lie. Each level holds its node and reads ahead up to `readAhead` of the children it
 * needs, so memory is bounded at any file size. A child whose size differs from what its
 * parent says is a TreeError, as in fileContent.
 */
export async function * fileSlice (cid: CID, source: BlockSource, start: number, end: number, options?: SliceOptions): AsyncGenerator<Uint8Array> {
  const signal = options?.signal
  const readAhead = Math.max(1, options?.readAhead ?? READ_AHEAD)
  if (end <= start) return

  // `offset` is where this node's bytes begin in the file.
  async function * walk (cid: CID, bytes: Uint8Array, offset: number, expected: number | undefined, depth: number): AsyncGenerator<Uint8Array> {
    throwIfAborted(signal)
    const checked = checkFileBlock(cid, bytes, expected, depth)
    if (checked == null) {
      const from = Math.max(0, start - offset)
      const to = Math.min(bytes.length, end - offset)
      if (to > from) yield bytes.subarray(from, to)
      return
    }
    const { node, sizes, data } = checked
    const from = Math.max(0, start - offset)
    const to = Math.min(data.length, end - offset)
    if (to > from) yield data.subarray(from, to)
    // The children the range touches, with where each begins.
    const wanted: Array<{ index: number, at: number }> = []
    let at = offset + data.length
    for (let i = 0; i < sizes.length; i++) {
      const size = sizes[i] as number
      if (at < end && at + size > start) wanted.push({ index: i, at })
      at += size
      if (at >= end) break
    }
    const pending: Array<Promise<Uint8Array>> = []
    let next = 0
    for (let i = 0; i < wanted.length; i++) {
      while (next < wanted.length && pending.length < readAhead) {
        const read = readBlock((node.Links[(wanted[next] as { index: number }).index] as dagPb.PBLink).Hash, source, { signal })
        read.catch(() => {})
        pending.push(read)
        next++
      }
      const block = await (pending.shift() as Promise<Uint8Array>)
      const { index, at } = wanted[i] as { index: number, at: number }
      yield * walk((node.Links[index] as dagPb.PBLink).Hash, block, at, sizes[index], depth + 1)
    }
  }

  const root = options?.block ?? await readBlock(cid, source, { signal })
  yield * walk(cid, root, 0, undefined, 0)
}
