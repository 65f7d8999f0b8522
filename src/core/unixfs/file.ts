import { importer, type BufferImporter } from 'ipfs-unixfs-importer'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import type { BlockSink } from '../blocks/types.js'
import { throwIfAborted, TreeError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { writableStorage, type WritableStorage } from './storage.js'

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
export interface ImportFileOptions extends AbortOptions {
  /** Computes each leaf's sha256 elsewhere (e.g. a worker thread), called in file order; the importer's own hashing otherwise. */
  hashLeaf?: LeafHasher
  /** With hashLeaf: called with a leaf's bytes once every sink is done with them, so they can be reused. */
  releaseLeaf?: (bytes: Uint8Array) => void
}

/** sha256 of a leaf, and its bytes (which may come back as a new view if the hasher moved them). */
export type LeafHasher = (chunk: Uint8Array) => Promise<{ digest: Uint8Array, bytes: Uint8Array }>

export async function importFile(content: AsyncIterable<Uint8Array>, sink: BlockSink, options?: ImportFileOptions): Promise<DagNode & { bytes: number }> {
  const signal = options?.signal
  let bytes = 0
  async function * counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of content) {
      throwIfAborted(signal)
      bytes += chunk.byteLength
      yield chunk
    }
  }
  const node = await importOne(counted(), sink, signal, options ?? {})
  return { ...node, bytes }
}

/** Imports a file held in memory. */
export async function importBytes(bytes: Uint8Array, sink: BlockSink, options?: AbortOptions): Promise<DagNode & { bytes: number }> {
  const node = await importOne(bytes, sink, options?.signal, {})
  return { ...node, bytes: bytes.byteLength }
}

/**
 * Raw leaves exactly as the importer makes them under the profile (CIDv1, raw
 * codec, sha256), hashed by `hashLeaf`, which sees the chunks in file order.
 */
function rawLeaves(hashLeaf: LeafHasher, release?: (bytes: Uint8Array) => void): BufferImporter {
  return async function * (file, blockstore) {
    const storage = blockstore as WritableStorage
    for await (const chunk of file.content) {
      // Hash as soon as the chunk is read: the importer starts these tasks only
      // a batch at a time, which would leave the hasher idle while a batch is read.
      const hashed = hashLeaf(chunk)
      hashed.catch(() => {})
      yield async () => {
        const { digest, bytes } = await hashed
        const cid = CID.createV1(raw.code, Digest.create(sha256.code, digest))
        await storage.put(cid, bytes, release != null ? { onWritten: () => { release(bytes) } } : undefined)
        return { cid, size: BigInt(bytes.byteLength), block: bytes }
      }
    }
  }
}

async function importOne(content: Uint8Array | AsyncIterable<Uint8Array>, sink: BlockSink, signal: AbortSignal | undefined, leaves: Pick<ImportFileOptions, 'hashLeaf' | 'releaseLeaf'>): Promise<DagNode> {
  throwIfAborted(signal)
  let result: DagNode | undefined
  const { hashLeaf, releaseLeaf } = leaves
  const options = hashLeaf != null ? { profile: PROFILE, bufferImporter: rawLeaves(hashLeaf, releaseLeaf) } as const : { profile: PROFILE } as const
  for await (const entry of importer([{ content }], writableStorage(sink, signal), options)) {
    result = { cid: entry.cid, size: Number(entry.size) }
  }
  if (result == null) throw new TreeError('the importer produced no file')
  return result
}
