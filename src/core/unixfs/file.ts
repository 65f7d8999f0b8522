import { importer } from 'ipfs-unixfs-importer'
import type { CID } from 'multiformats/cid'
import type { BlockSink } from '../blocks/types.js'
import { throwIfAborted, TreeError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { writableStorage } from './storage.js'

export interface DagNode {
  cid: CID
  /** Cumulative DAG bytes: what a parent link's Tsize must be. */
  size: number
}

/** Profile `unixfs-v1-2025`: CIDv1, raw leaves, 1 MiB chunks, 1024 links per node. */
const PROFILE = 'unixfs-v1-2025'

/**
 * Imports one file as `ipfs add` with the unixfs-v1-2025 profile would, writing its blocks to `sink`.
 * Streams: memory stays bounded whatever the file size. Chunks of exactly 1 MiB avoid a copy in the chunker.
 */
export async function importFile(content: AsyncIterable<Uint8Array>, sink: BlockSink, options?: AbortOptions): Promise<DagNode & { bytes: number }> {
  const signal = options?.signal
  let bytes = 0
  async function * counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of content) {
      throwIfAborted(signal)
      bytes += chunk.byteLength
      yield chunk
    }
  }
  const node = await importOne(counted(), sink, signal)
  return { ...node, bytes }
}

/** Imports a file held in memory. */
export async function importBytes(bytes: Uint8Array, sink: BlockSink, options?: AbortOptions): Promise<DagNode & { bytes: number }> {
  const node = await importOne(bytes, sink, options?.signal)
  return { ...node, bytes: bytes.byteLength }
}

async function importOne(content: Uint8Array | AsyncIterable<Uint8Array>, sink: BlockSink, signal?: AbortSignal): Promise<DagNode> {
  throwIfAborted(signal)
  let result: DagNode | undefined
  for await (const entry of importer([{ content }], writableStorage(sink, signal), { profile: PROFILE })) {
    result = { cid: entry.cid, size: Number(entry.size) }
  }
  if (result == null) throw new TreeError('the importer produced no file')
  return result
}
