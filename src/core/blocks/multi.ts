import type { CID } from 'multiformats/cid'
import { BlockNotFoundError, throwIfAborted } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import type { BlockSource } from './types.js'

/** Tries each source in order; the first that returns a (verified) block wins. */
export class FirstSource implements BlockSource {
  readonly label: string
  private readonly sources: BlockSource[]

  constructor(sources: BlockSource[]) {
    this.sources = [...sources]
    this.label = this.sources.map((source) => source.label).join(', ')
  }

  async get(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    const failures: Error[] = []
    for (const source of this.sources) {
      throwIfAborted(options?.signal)
      try {
        return await source.get(cid, options)
      } catch (err) {
        throwIfAborted(options?.signal)
        failures.push(err instanceof Error ? err : new Error(String(err)))
      }
    }
    const reasons = failures.map((err) => err.message).join('; ')
    throw new BlockNotFoundError(`Block ${cid} not found in any source${reasons === '' ? '' : `: ${reasons}`}`, { cause: failures.length === 1 ? failures[0] : new AggregateError(failures) })
  }
}
