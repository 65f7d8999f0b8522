import type { CID } from 'multiformats/cid'
import type { BlockSink, BlockSource } from '../blocks/types.js'

/** The `put` side of an interface-blockstore, over a BlockSink (for ipfs-unixfs-importer). */
export function writableStorage(sink: BlockSink, signal?: AbortSignal): { put(cid: CID, bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<CID> } {
  return {
    async put(cid, bytes) {
      await sink.put(cid, bytes instanceof Uint8Array ? bytes : await concat(bytes), { signal })
      return cid
    }
  }
}

/** The `get` side of an interface-blockstore, over a BlockSource (for ipfs-unixfs-exporter). */
export function readableStorage(source: BlockSource): { get(cid: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> } {
  return {
    async * get(cid, options) {
      yield await source.get(cid, { signal: options?.signal })
    }
  }
}

async function concat(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const list: Uint8Array[] = []
  for await (const chunk of chunks) list.push(chunk)
  return Buffer.concat(list)
}
