import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import type { GatewayCarSource } from '../blocks/gateway-car.js'
import { blockKey } from '../blocks/key.js'
import type { BlockSource, BlockStore } from '../blocks/types.js'
import { throwIfAborted, TreeError } from '../errors.js'
import { silentLogger, type AbortOptions, type Logger } from '../logger.js'
import { formatSize } from '../size.js'
import { WALK_MAX_BLOCKS } from '../unixfs/limits.js'

/** Bytes of blocks a pull may fetch or find in the cache, over all its DAGs; TreeError naming the limit past it. */
export class FetchBudget {
  bytes = 0
  constructor (readonly maxBytes: number, readonly limitName = 'maxBytes') {}

  get remaining (): number {
    return Math.max(0, this.maxBytes - this.bytes)
  }

  add (bytes: number, at: CID): void {
    this.bytes += bytes
    if (this.bytes > this.maxBytes) throw new TreeError(`more than ${formatSize(this.maxBytes)} of blocks to pull (at ${at}): over the limit ${this.limitName}`)
  }
}

export interface DagFetchOptions extends AbortOptions {
  /** Verified blocks on disk; what is here is not fetched. */
  cache: BlockStore
  /** Blocks from the cache, else from the block sources in order (verified, put into the cache). */
  source: BlockSource
  /** Gateways asked for the whole DAG as a CAR before any block is asked for one by one. */
  cars?: GatewayCarSource[]
  /** Blocks fetched at once by the walk; default 16. */
  concurrency?: number
  /** Most distinct blocks of the DAG; default WALK_MAX_BLOCKS. */
  maxBlocks?: number
  /** Counts the bytes of every block of the DAG once. */
  budget?: FetchBudget
  /** Called with the size of each block as it is known to be in the cache. */
  onBlock?: (bytes: number) => void
  logger?: Logger
}

export interface DagFetchResult {
  /** Blocks and bytes that came in CAR responses. */
  carBlocks: number
  carBytes: number
}

/**
 * Makes sure every block of the DAG under `root` is in `cache`. When the root is not cached,
 * the gateways are asked for the whole DAG as a CAR, in order, until one answers with blocks;
 * its blocks are kept as they arrive (each verified). Then, unless a CAR was complete, the DAG
 * is walked, `concurrency` blocks at a time: blocks already cached (from a CAR that stopped
 * short, or an earlier pull) are not fetched again, the rest come one by one from the block
 * sources with their fallback. Raw leaves already cached are not even read.
 */
export async function fetchDag (root: CID, options: DagFetchOptions): Promise<DagFetchResult> {
  const logger = options.logger ?? silentLogger
  const result: DagFetchResult = { carBlocks: 0, carBytes: 0 }
  if ((options.cars?.length ?? 0) > 0 && root.multihash.code !== 0x00 && await mostlyMissing(root, options)) {
    const counting = {
      put: async (cid: CID, bytes: Uint8Array, putOptions?: AbortOptions) => {
        await options.cache.put(cid, bytes, putOptions)
        options.onBlock?.(bytes.length)
      }
    }
    for (const car of options.cars ?? []) {
      const got = await car.fetchDag(root, counting, { signal: options.signal, maxBytes: options.budget?.remaining })
      result.carBlocks += got.blocks
      result.carBytes += got.bytes
      // A complete CAR is the whole DAG, counted here; otherwise the walk counts every block.
      if (got.complete) {
        options.budget?.add(got.bytes, root)
        return result
      }
      if (got.blocks > 0) {
        logger.info(`${car.label}: the CAR of ${root} stopped after ${got.blocks} blocks (${got.reason ?? 'incomplete'}); fetching the rest block by block`)
        break
      }
      logger.debug(`${car.label}: no CAR of ${root} (${got.reason ?? 'no blocks'})`)
    }
  }
  await walkInto(root, options)
  return result
}

/**
 * Whether a CAR of the whole DAG is worth asking for: the root is not cached, or more than
 * half of the blocks it links to are not (a cached file root alone, read to list its folder,
 * does not make the DAG cached; a DAG mostly fetched before is finished block by block).
 */
async function mostlyMissing (root: CID, options: DagFetchOptions): Promise<boolean> {
  if (!(await options.cache.has(root))) return true
  if (root.code !== dagPb.code) return false
  const links = dagPb.decode(await options.cache.get(root, options)).Links
  let missing = 0
  for (const link of links) if (!(await options.cache.has(link.Hash))) missing++
  return missing * 2 > links.length
}

interface Pending { cid: CID, size?: number }

/** The bounded-parallel walk of fetchDag. */
async function walkInto (root: CID, options: DagFetchOptions): Promise<void> {
  const concurrency = Math.max(1, options.concurrency ?? 16)
  const maxBlocks = options.maxBlocks ?? WALK_MAX_BLOCKS
  const seen = new Set<string>()
  const queue: Pending[] = [{ cid: root }]
  const visit = async ({ cid, size }: Pending): Promise<Pending[]> => {
    throwIfAborted(options.signal)
    if (cid.code === raw.code && size != null && await options.cache.has(cid)) {
      options.budget?.add(size, cid)
      options.onBlock?.(size)
      return []
    }
    const bytes = await options.source.get(cid, { signal: options.signal })
    options.budget?.add(bytes.length, cid)
    options.onBlock?.(bytes.length)
    if (cid.code === raw.code) return []
    if (cid.code !== dagPb.code) throw new TreeError(`cannot fetch the DAG under ${root}: block ${cid} has codec 0x${cid.code.toString(16)}, not dag-pb or raw`)
    // Reversed: the queue is taken from its end, so the first link is fetched first.
    return dagPb.decode(bytes).Links.map((link) => ({ cid: link.Hash, size: link.Tsize })).reverse()
  }
  await new Promise<void>((resolve, reject) => {
    let active = 0
    let failed = false
    const pump = (): void => {
      if (failed) return
      while (active < concurrency && queue.length > 0) {
        const next = queue.pop() as Pending
        const key = blockKey(next.cid)
        if (seen.has(key) || next.cid.multihash.code === 0x00) continue
        seen.add(key)
        if (seen.size > maxBlocks) {
          failed = true
          reject(new TreeError(`the DAG under ${root} has more than ${maxBlocks} blocks`))
          return
        }
        active++
        visit(next).then((links) => {
          active--
          for (const link of links) queue.push(link)
          pump()
        }, (err) => {
          failed = true
          reject(err)
        })
      }
      if (active === 0 && queue.length === 0) resolve()
    }
    pump()
  })
}
