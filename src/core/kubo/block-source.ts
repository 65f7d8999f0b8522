import type { CID } from 'multiformats/cid'
import { MAX_BLOCK_BYTES, type BlockSource } from '../blocks/types.js'
import { verifyBlock } from '../blocks/verify.js'
import { BlockNotFoundError } from '../errors.js'
import { readBody } from '../http.js'
import type { AbortOptions } from '../logger.js'
import { KuboError, type KuboRpc } from './rpc.js'

export interface KuboBlockSourceOptions {
  /** Answer from the node's own blockstore instead of searching the network. */
  offline?: boolean
  /** Largest block accepted; default 4 MiB, as for gateways. */
  maxBlockBytes?: number
  /** Per attempt; default 30 s (or the endpoint's timeout, when shorter). */
  timeoutMs?: number
  /** Overall, per block, across attempts and backoff; default 60 s. */
  deadlineMs?: number
}

/** Blocks from a Kubo node (`block/get`), each size-capped and verified against its CID. */
export class KuboBlockSource implements BlockSource {
  readonly label: string

  constructor (private readonly rpc: KuboRpc, private readonly options: KuboBlockSourceOptions = {}) {
    this.label = rpc.label
  }

  async get (cid: CID, options: AbortOptions = {}): Promise<Uint8Array> {
    const max = this.options.maxBlockBytes ?? MAX_BLOCK_BYTES
    let bytes: Uint8Array
    try {
      const params = this.options.offline === true ? { offline: true } : {}
      bytes = await this.rpc.call(`block/get ${cid}`, async (signal) => {
        const response = await this.rpc.post('block/get', { args: [cid.toString()], params, signal })
        return await readBody(response, max, `block ${cid}`)
      }, {
        ...options,
        timeoutMs: this.options.timeoutMs ?? Math.min(30_000, this.rpc.config.timeoutMs),
        deadlineMs: this.options.deadlineMs ?? 60_000
      })
    } catch (err) {
      if (err instanceof KuboError && err.status != null && err.status !== 404 && err.status < 600) {
        throw new BlockNotFoundError(`${this.label} does not have block ${cid}: ${err.message}`, { cause: err })
      }
      throw err
    }
    verifyBlock(cid, bytes)
    return bytes
  }
}
