import type { CID } from 'multiformats/cid'
import type { BlockSink, PutOptions } from './types.js'

/** Passes blocks on and counts the distinct ones. */
export class CountingSink implements BlockSink {
  private readonly seen = new Set<string>()
  bytes = 0
  constructor (private readonly sink: BlockSink) {}
  get blocks (): number {
    return this.seen.size
  }

  async put (cid: CID, bytes: Uint8Array, options?: PutOptions): Promise<void> {
    if (!this.seen.has(cid.toString())) {
      this.seen.add(cid.toString())
      this.bytes += bytes.byteLength
    }
    await this.sink.put(cid, bytes, options)
  }
}
