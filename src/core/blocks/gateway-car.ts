import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { DigestMismatchError, throwIfAborted } from '../errors.js'
import { quote } from '../escape.js'
import { httpFetch } from '../http.js'
import type { AbortOptions } from '../logger.js'
import { urlUnder } from '../url.js'
import { StreamedAnswerSource, type StreamedAnswerOptions } from './streamed-answer.js'
import { CarStreamError, carStreamBlocks } from './car-stream.js'
import { blockKey } from './key.js'
import type { BlockSink } from './types.js'
import { verifyBlock } from './verify.js'

export interface GatewayCarOptions extends StreamedAnswerOptions {
  /** Most blocks in one response; default 4,194,304 (64 GiB of 16 KiB blocks). */
  maxBlocks?: number
  /** Most block bytes in one response; default 64 GiB. */
  maxBytes?: number
}

/** What one CAR request gave: blocks verified and put, and whether the DAG is complete. */
export interface CarFetchResult {
  blocks: number
  bytes: number
  /** Every block the DAG links to arrived (for `dag-scope=all`). */
  complete: boolean
  /** Why the response stopped short, when it did. */
  reason?: string
}

/** `dag-scope` of the trustless gateway spec: `all` (the whole DAG), `entity` (a file whole, a directory's own blocks), `block`. */
export type DagScope = 'all' | 'entity' | 'block'

/**
 * Whole DAGs from one trustless gateway as a CAR stream (`GET /ipfs/<cid>?format=car&dag-scope=…`,
 * asking for depth-first order without duplicates). Every block is verified against its CID and
 * must be the root or linked from a block received before it (so a gateway cannot fill the sink
 * with blocks the DAG does not hold); each is put into `sink` as it arrives. The response is
 * bounded in bytes, blocks and time. Never throws for what the gateway does (it returns why the
 * response stopped short): the caller keeps the blocks that arrived and fetches the rest elsewhere.
 */
export class GatewayCarSource extends StreamedAnswerSource {
  private readonly maxBlocks: number
  private readonly maxBytes: number
  /** Why this gateway is asked for no more CARs in this run: it sent a block that did not verify or was not asked for. */
  distrusted?: string

  constructor (url: string, options: GatewayCarOptions = {}) {
    super(url, 'CAR', options)
    this.maxBlocks = options.maxBlocks ?? 4_194_304
    this.maxBytes = options.maxBytes ?? 64 * 1024 ** 3
  }

  async fetchDag (root: CID, sink: BlockSink, options: AbortOptions & { scope?: DagScope, maxBytes?: number } = {}): Promise<CarFetchResult> {
    throwIfAborted(options.signal)
    if (this.distrusted != null) return { blocks: 0, bytes: 0, complete: false, reason: `not asked: earlier in this run ${this.distrusted}` }
    const scope = options.scope ?? 'all'
    const url = urlUnder(this.gateway.url, `/ipfs/${root.toString()}`)
    url.searchParams.set('format', 'car')
    url.searchParams.set('dag-scope', scope)
    const headers: Record<string, string> = { accept: 'application/vnd.ipld.car; version=1; order=dfs; dups=n' }
    if (this.gateway.authorization != null) headers.authorization = this.gateway.authorization
    const clock = this.clock(options.signal)
    const signal = clock.signal
    // Blocks linked from a block received (or the root) and not yet received.
    const expected = new Map<string, CID>([[blockKey(root), root]])
    const received = new Set<string>()
    const result: CarFetchResult = { blocks: 0, bytes: 0, complete: false }
    const stop = (reason: string): CarFetchResult => {
      this.logger.debug(`${this.label}: CAR of ${root} stopped after ${result.blocks} blocks: ${reason}`)
      return { ...result, reason }
    }
    const distrust = (reason: string): CarFetchResult => {
      this.distrusted = `it sent a bad block (${reason})`
      return stop(reason)
    }
    try {
      const response = await httpFetch(url, { label: this.gateway.label, headers, signal, fetch: this.fetch, anonymous: this.gateway.authorization == null })
      if (!response.ok || response.body == null) {
        await response.body?.cancel().catch(() => {})
        return stop(`HTTP ${response.status}`)
      }
      const type = response.headers.get('content-type') ?? ''
      if (!type.startsWith('application/vnd.ipld.car')) {
        await response.body.cancel().catch(() => {})
        return stop(`answered ${type === '' ? 'no content type' : quote(type, 80)}, not a CAR`)
      }
      const body = response.body
      async function * chunks (): AsyncGenerator<Uint8Array> {
        for await (const chunk of body) {
          clock.touch()
          yield chunk
        }
      }
      for await (const { cid, bytes } of carStreamBlocks(chunks(), { maxBlockBytes: this.maxBlockBytes })) {
        const key = blockKey(cid)
        if (received.has(key)) continue
        if (!expected.has(key)) return distrust(`block ${cid} is not linked from any block before it`)
        verifyBlock(cid, bytes)
        result.blocks++
        result.bytes += bytes.length
        if (result.blocks > this.maxBlocks) return stop(`more than ${this.maxBlocks} blocks`)
        const maxBytes = Math.min(this.maxBytes, options.maxBytes ?? Infinity)
        if (result.bytes > maxBytes) return stop(`more than ${maxBytes} bytes of blocks`)
        expected.delete(key)
        received.add(key)
        if (scope !== 'block' && cid.code === dagPb.code) {
          for (const link of dagPb.decode(bytes).Links) {
            const linked = blockKey(link.Hash)
            if (link.Hash.multihash.code !== 0x00 && !received.has(linked)) expected.set(linked, link.Hash)
          }
        } else if (cid.code !== raw.code && cid.code !== dagPb.code) {
          return stop(`block ${cid} has codec 0x${cid.code.toString(16)}, not dag-pb or raw`)
        }
        await sink.put(cid, bytes, { signal: options.signal })
      }
      if (expected.size > 0 && scope === 'all') return stop(`the response ended with ${expected.size} linked blocks missing (e.g. ${expected.values().next().value?.toString() ?? '?'})`)
      result.complete = true
      return result
    } catch (err: any) {
      throwIfAborted(options.signal)
      if (err instanceof DigestMismatchError) return distrust(err.message)
      if (err instanceof CarStreamError) return stop(err.message)
      if (err?.code === 'ERR_UNSUPPORTED_HASH') return stop(err.message)
      const expired = clock.expired()
      if (expired != null) return stop(expired)
      return stop(`network error: ${err?.cause?.code ?? err?.cause?.message ?? err?.message ?? err}`)
    } finally {
      clock.stop()
    }
  }
}
