import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../blocks/types.js'
import { verifyBlock } from '../blocks/verify.js'
import { BlockNotFoundError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { KuboError, type KuboRpc } from './rpc.js'

/** Blocks from a Kubo node (`block/get`), each verified against its CID. */
export class KuboBlockSource implements BlockSource {
  readonly label: string

  constructor (private readonly rpc: KuboRpc, private readonly options: { offline?: boolean } = {}) {
    this.label = rpc.label
  }

  async get (cid: CID, options: AbortOptions = {}): Promise<Uint8Array> {
    let bytes: Uint8Array
    try {
      // offline: answer from the node's own blockstore instead of searching the network.
      const args = this.options.offline === true ? { offline: true } : {}
      bytes = await this.rpc.call(`block/get ${cid}`, async (signal) => await this.rpc.client.block.get(cid, { signal, ...args }), options)
    } catch (err) {
      if (err instanceof KuboError && err.status != null && err.status < 600) {
        throw new BlockNotFoundError(`${this.label} does not have block ${cid}: ${err.message}`, { cause: err })
      }
      throw err
    }
    verifyBlock(cid, bytes)
    return bytes
  }
}
