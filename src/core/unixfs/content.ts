import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import type { BlockBufferOptions } from '../blocks/car-source.js'
import type { BlockSource } from '../blocks/types.js'
import { BufferPool } from '../buffer-pool.js'
import { throwIfAborted, TreeError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { decodeUnixFS } from './hamt.js'
import { MAX_FILE_DEPTH } from './limits.js'

const IDENTITY = 0x00

/** Blocks of a file read ahead of the one being yielded; with 1 MiB leaves, 16 MiB. */
export const READ_AHEAD = 16

/** A block's bytes: an identity CID carries them, any other comes from `source`. */
export async function readBlock(cid: CID, source: BlockSource, options?: AbortOptions): Promise<Uint8Array> {
  if (cid.multihash.code === IDENTITY) return cid.multihash.digest
  return await source.get(cid, options)
}

/**
 * The size a file node declares (for dag-pb, its data plus its links' block sizes), or
 * undefined when the node is not a file (a directory, a symlink, another codec).
 */
export function declaredFileSize(cid: CID, bytes: Uint8Array): number | undefined {
  if (cid.code === raw.code) return bytes.length
  if (cid.code !== dagPb.code) return undefined
  const { unixfs } = decodeUnixFS(cid, bytes)
  if (unixfs.type !== 'file' && unixfs.type !== 'raw') return undefined
  return Number(unixfs.fileSize())
}

export interface ContentOptions extends AbortOptions {
  /** The root block's bytes, when the caller has read them already. */
  block?: Uint8Array
  /** Blocks read ahead; default READ_AHEAD. */
  readAhead?: number
  /**
   * The caller is done with each chunk when it asks for the next one: raw leaves are then read
   * into reused buffers (where the source supports it), sparing a fresh allocation per block.
   */
  reuseChunks?: boolean
}

const LEAF_BUFFER_BYTES = 1024 * 1024

/** 1 MiB buffers lent to a source for raw leaves, and taken back only if they were lent. */
class LeafBuffers {
  private readonly pool: BufferPool
  private readonly lent = new WeakSet<ArrayBufferLike>()

  constructor(keep: number) {
    this.pool = new BufferPool(LEAF_BUFFER_BYTES, keep)
  }

  take = (length: number): Uint8Array => {
    if (length > LEAF_BUFFER_BYTES) return new Uint8Array(length)
    const buffer = this.pool.take()
    this.lent.add(buffer.buffer)
    return buffer.subarray(0, length)
  }

  giveBack(bytes: Uint8Array): void {
    if (!this.lent.has(bytes.buffer)) return
    this.lent.delete(bytes.buffer)
    this.pool.give(new Uint8Array(bytes.buffer, 0, LEAF_BUFFER_BYTES))
  }
}

/** A dag-pb node of a file, checked: its links, their block sizes, and its own bytes. */
export interface FileNode {
  node: dagPb.PBNode
  sizes: number[]
  data: Uint8Array
}

/**
 * Checks one block of a file against what its parent says of it (`expected` bytes, at `depth`):
 * a raw leaf of that length (null), or a dag-pb UnixFS file node whose block sizes match its links
 * and whose size is `expected`, no deeper than MAX_FILE_DEPTH. TreeError otherwise.
 */
export function checkFileBlock(cid: CID, bytes: Uint8Array, expected: number | undefined, depth: number): FileNode | null {
  if (cid.code === raw.code) {
    if (expected != null && bytes.length !== expected) throw new TreeError(`file block ${cid} holds ${bytes.length} bytes where its parent says ${expected}`)
    return null
  }
  if (cid.code !== dagPb.code) throw new TreeError(`file block ${cid} has codec 0x${cid.code.toString(16)}, not dag-pb or raw`)
  const { node, unixfs } = decodeUnixFS(cid, bytes)
  if (unixfs.type !== 'file' && unixfs.type !== 'raw') throw new TreeError(`file block ${cid} is a UnixFS ${unixfs.type}, not part of a file`)
  const sizes = unixfs.blockSizes.map(Number)
  if (sizes.length !== node.Links.length) throw new TreeError(`file block ${cid} has ${node.Links.length} links but ${sizes.length} block sizes`)
  if (expected != null && Number(unixfs.fileSize()) !== expected) throw new TreeError(`file block ${cid} holds ${unixfs.fileSize()} bytes where its parent says ${expected}`)
  if (node.Links.length > 0 && depth >= MAX_FILE_DEPTH) throw new TreeError(`file block ${cid} is more than ${MAX_FILE_DEPTH} levels deep`)
  return { node, sizes, data: unixfs.data ?? new Uint8Array(0) }
}

/**
 * The content of the UnixFS file at `cid`, chunk by chunk, in order. Memory stays bounded at
 * any file size: each level of the file's tree holds its node and reads ahead one block; the
 * level whose children are leaves reads ahead up to `readAhead` blocks in all. Every node must
 * agree with its parent's block size for it (TreeError otherwise), so the bytes yielded are
 * exactly the size the root declares.
 */
export async function * fileContent(cid: CID, source: BlockSource, options?: ContentOptions): AsyncGenerator<Uint8Array> {
  const signal = options?.signal
  const readAhead = Math.max(1, options?.readAhead ?? READ_AHEAD)
  const buffers = options?.reuseChunks === true ? new LeafBuffers(readAhead + 2) : undefined
  const leafOptions: BlockBufferOptions = { signal, buffers }
  let ahead = 0

  async function * walk(cid: CID, bytes: Uint8Array, expected: number | undefined, depth: number): AsyncGenerator<Uint8Array, boolean> {
    throwIfAborted(signal)
    const checked = checkFileBlock(cid, bytes, expected, depth)
    if (checked == null) {
      if (bytes.length > 0) yield bytes
      buffers?.giveBack(bytes)
      return true
    }
    const { node, sizes, data } = checked
    if (data.length > 0) yield data
    const links = node.Links
    // One block ahead on every level; up to readAhead in all once this level's children are leaves.
    let window = 1
    let next = 0
    const pending: Array<Promise<Uint8Array>> = []
    try {
      for (let i = 0; i < links.length; i++) {
        while (next < links.length && (pending.length === 0 || (pending.length < window && ahead < readAhead))) {
          const link = (links[next] as dagPb.PBLink).Hash
          const read = readBlock(link, source, link.code === raw.code ? leafOptions : { signal })
          read.catch(() => {})
          pending.push(read)
          ahead++
          next++
        }
        const block = await (pending.shift() as Promise<Uint8Array>)
        ahead--
        const leaf = yield * walk((links[i] as dagPb.PBLink).Hash, block, sizes[i], depth + 1)
        if (i === 0 && leaf) window = readAhead
      }
    } finally {
      ahead -= pending.length
    }
    return links.length === 0
  }

  const root = options?.block ?? await readBlock(cid, source, { signal })
  yield * walk(cid, root, undefined, 0)
}
