import * as dagPb from '@ipld/dag-pb'
import * as raw from 'multiformats/codecs/raw'
import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../blocks/types.js'
import { throwIfAborted, TreeError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { findEntry } from './directory.js'
import type { DagNode } from './file.js'
import { cumulativeSize } from './hamt.js'
import { declaredFileSize, fileContent, readBlock } from './content.js'
import { WALK_MAX_BLOCKS, type ReadOptions } from './limits.js'

/**
 * The node at `path` under `root` (its size is the parent link's Tsize), or undefined when
 * some name is missing. In HAMT directories only the shards on the name's hash path are read.
 */
export async function resolvePath(root: CID, path: string[], source: BlockSource, options?: ReadOptions): Promise<DagNode | undefined> {
  if (path.length === 0) return { cid: root, size: await dagSize(root, source, options) }
  let cid = root
  let size = 0
  for (let i = 0; i < path.length; i++) {
    const name = path[i] as string
    if (cid.code !== dagPb.code) throw new TreeError(`/${path.slice(0, i).join('/')} is not a directory`)
    const entry = await findEntry(cid, name, source, options)
    if (entry == null) return undefined
    cid = entry.cid
    size = entry.size
  }
  return { cid, size }
}

/** The cumulative DAG size of a node, from its own block: what a parent link's Tsize would be. */
export async function dagSize(cid: CID, source: BlockSource, options?: AbortOptions): Promise<number> {
  if (cid.multihash.code === 0x00) return cid.multihash.digest.length
  const bytes = await source.get(cid, options)
  if (cid.code !== dagPb.code) return bytes.length
  return cumulativeSize(bytes.length, dagPb.decode(bytes).Links)
}

/** The whole content of a (small) file, read and verified through `source`; TreeError if larger than maxBytes. */
export async function readFileBytes(cid: CID, source: BlockSource, options: AbortOptions & { maxBytes: number }): Promise<Uint8Array> {
  const block = await readBlock(cid, source, options)
  const size = declaredFileSize(cid, block)
  if (size == null) throw new TreeError(`${cid} is not a file`)
  if (size > options.maxBytes) throw new TreeError(`${cid} is ${size} bytes, more than the ${options.maxBytes} allowed`)
  const chunks: Uint8Array[] = []
  let length = 0
  for await (const chunk of fileContent(cid, source, { signal: options.signal, block })) {
    length += chunk.byteLength
    if (length > options.maxBytes) throw new TreeError(`${cid} is more than the ${options.maxBytes} bytes allowed`)
    chunks.push(chunk)
  }
  return chunks.length === 1 ? chunks[0] as Uint8Array : Buffer.concat(chunks, length)
}

export interface WalkOptions extends AbortOptions {
  /** Blocks read ahead; default 8. */
  concurrency?: number
  /** Blocks for which this returns true are neither read, yielded nor descended into. */
  skip?: (cid: CID) => boolean
  /** Most distinct blocks to yield (TreeError past it); default WALK_MAX_BLOCKS. */
  maxBlocks?: number
}

/**
 * Every block of the DAG under `root`, each once, depth-first from the root (the order a CAR
 * wants). Reads ahead up to `concurrency` blocks. Identity-hashed CIDs carry their data and are skipped.
 */
export async function * walkDag(root: CID, source: BlockSource, options?: WalkOptions): AsyncGenerator<{ cid: CID, bytes: Uint8Array }> {
  const concurrency = options?.concurrency ?? 8
  const skip = options?.skip
  const maxBlocks = options?.maxBlocks ?? WALK_MAX_BLOCKS
  const seen = new Set<string>()
  let yielded = 0
  const inflight = new Map<string, Promise<Uint8Array>>()
  const stack: CID[] = [root]
  try {
    while (stack.length > 0) {
      throwIfAborted(options?.signal)
      for (let i = stack.length - 1; i >= 0 && i >= stack.length - concurrency; i--) {
        const cid = stack[i] as CID
        const key = cid.toString()
        if (seen.has(key) || inflight.has(key) || cid.multihash.code === 0x00 || skip?.(cid) === true) continue
        const pending = source.get(cid, { signal: options?.signal })
        pending.catch(() => {})
        inflight.set(key, pending)
      }
      const cid = stack.pop() as CID
      const key = cid.toString()
      if (seen.has(key) || cid.multihash.code === 0x00 || skip?.(cid) === true) {
        seen.add(key)
        continue
      }
      const bytes = await (inflight.get(key) ?? source.get(cid, { signal: options?.signal }))
      inflight.delete(key)
      seen.add(key)
      if (++yielded > maxBlocks) throw new TreeError(`the DAG under ${root} has more than ${maxBlocks} blocks`)
      yield { cid, bytes }
      if (cid.code === dagPb.code) {
        const links = dagPb.decode(bytes).Links
        // A link repeated within one block is pushed once, where it first appears: the stack
        // grows by at most one block's distinct links.
        const distinct = new Map<string, CID>()
        for (const link of links) if (!seen.has(link.Hash.toString())) distinct.set(link.Hash.toString(), link.Hash)
        const add = [...distinct.values()]
        for (let i = add.length - 1; i >= 0; i--) stack.push(add[i] as CID)
      } else if (cid.code !== raw.code) {
        throw new TreeError(`cannot walk ${cid}: codec 0x${cid.code.toString(16)} is not dag-pb or raw`)
      }
    }
  } finally {
    inflight.clear()
  }
}
