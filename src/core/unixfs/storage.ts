import type { CID } from 'multiformats/cid'
import type { BlockSink, PutOptions } from '../blocks/types.js'

/** The `put` side of an interface-blockstore; `onWritten` as in BlockSink. */
export interface WritableStorage {
  put(cid: CID, bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<CID>
}

/** The `put` side of an interface-blockstore, over a BlockSink (for ipfs-unixfs-importer). */
export function writableStorage(sink: BlockSink, signal?: AbortSignal): WritableStorage {
  return {
    async put(cid, bytes, options) {
      const onWritten = options?.onWritten
      await sink.put(cid, bytes instanceof Uint8Array ? bytes : await concat(bytes), onWritten != null ? { signal, onWritten } : { signal })
      return cid
    }
  }
}

async function concat(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const list: Uint8Array[] = []
  for await (const chunk of chunks) list.push(chunk)
  return Buffer.concat(list)
}
