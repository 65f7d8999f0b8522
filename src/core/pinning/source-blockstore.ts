import { CID } from 'multiformats/cid'
import { IpcrError } from '../errors.js'
import type { BlockSource } from '../blocks/types.js'
import { verifyBlock } from '../blocks/verify.js'
import type { Logger } from '../logger.js'

/** A CID from another copy of multiformats (bitswap's): anything with the CID bytes. */
interface AnyCid { bytes: Uint8Array }

/** What bitswap reads a block through (interface-blockstore 5): `get` throws an error named NotFoundError when the block is not served. */
export interface ServingBlockstore {
  get(cid: AnyCid, options?: { signal?: AbortSignal }): Promise<Uint8Array>
  has(cid: AnyCid, options?: { signal?: AbortSignal }): Promise<boolean>
  put(cid: AnyCid): Promise<never>
}

/** Bitswap's "I do not have it": the peer may be told DONT_HAVE; nothing is sent. */
class NotFoundError extends IpcrError {
  constructor(message: string) {
    super('ERR_BLOCK_NOT_FOUND', message)
    this.name = 'NotFoundError'
  }
}

/**
 * A read-only blockstore over a BlockSource for the bitswap server. Every block is verified
 * against its CID before it is handed out (again, even when the source verifies): a block the
 * source cannot give, or gives wrong bytes for, is "not found" and is never sent. Puts are refused.
 */
export function sourceBlockstore(source: BlockSource, logger?: Logger): ServingBlockstore {
  // Peers ask again for what they did not get: say it once per block.
  const refused = new Set<string>()
  const read = async (cid: AnyCid, signal?: AbortSignal): Promise<Uint8Array> => {
    const ours = CID.decode(cid.bytes)
    let bytes: Uint8Array
    try {
      bytes = await source.get(ours, { signal })
      verifyBlock(ours, bytes)
    } catch (err: any) {
      const key = ours.toString()
      if (err?.code !== 'ERR_BLOCK_NOT_FOUND' && !refused.has(key)) {
        refused.add(key)
        logger?.warn(`Not serving block ${ours}: ${err?.message ?? err}`)
      }
      throw new NotFoundError(`Block ${ours} is not served`)
    }
    return bytes
  }
  return {
    async get(cid, options) {
      return await read(cid, options?.signal)
    },
    async has(cid, options) {
      try {
        await read(cid, options?.signal)
        return true
      } catch {
        return false
      }
    },
    async put(cid) {
      throw new IpcrError('ERR_READ_ONLY', `The origin node serves blocks and takes none (refused ${CID.decode(cid.bytes)})`)
    }
  }
}
