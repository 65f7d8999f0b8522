import type { CID } from 'multiformats/cid'

/**
 * An in-memory blockstore with the interface Helia 5 expects (interface-blockstore 5:
 * get returns the bytes). blockstore-core at the top of node_modules is a later major
 * whose get streams, so tests give the pinning service's node this one.
 */
export class MemoryBlocks {
  private readonly blocks = new Map<string, { cid: CID, block: Uint8Array }>()

  private key (cid: CID): string {
    return Buffer.from(cid.multihash.bytes).toString('hex')
  }

  hasSync (cid: CID): boolean {
    return this.blocks.has(this.key(cid))
  }

  get size (): number {
    return this.blocks.size
  }

  async has (cid: CID): Promise<boolean> {
    return this.hasSync(cid)
  }

  async put (cid: CID, block: Uint8Array): Promise<CID> {
    this.blocks.set(this.key(cid), { cid, block })
    return cid
  }

  async * putMany (source: Iterable<{ cid: CID, block: Uint8Array }> | AsyncIterable<{ cid: CID, block: Uint8Array }>): AsyncGenerator<CID> {
    for await (const { cid, block } of source) yield await this.put(cid, block)
  }

  async get (cid: CID): Promise<Uint8Array> {
    const block = this.blocks.get(this.key(cid))?.block
    if (block == null) {
      const err = new Error(`block ${cid} not found`)
      err.name = 'NotFoundError'
      throw err
    }
    return block
  }

  async * getMany (source: Iterable<CID> | AsyncIterable<CID>): AsyncGenerator<{ cid: CID, block: Uint8Array }> {
    for await (const cid of source) yield { cid, block: await this.get(cid) }
  }

  async delete (cid: CID): Promise<void> {
    this.blocks.delete(this.key(cid))
  }

  async * deleteMany (source: Iterable<CID> | AsyncIterable<CID>): AsyncGenerator<CID> {
    for await (const cid of source) {
      await this.delete(cid)
      yield cid
    }
  }

  async * getAll (): AsyncGenerator<{ cid: CID, block: Uint8Array }> {
    yield * this.blocks.values()
  }
}
