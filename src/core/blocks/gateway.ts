import type { CID } from 'multiformats/cid'
import { BlockNotFoundError, DigestMismatchError, InputError, RedirectError, ResponseTooLargeError, throwIfAborted } from '../errors.js'
import { httpFetch, readBody } from '../http.js'
import { silentLogger, type AbortOptions, type Logger } from '../logger.js'
import { MAX_BLOCK_BYTES, type BlockSource } from './types.js'
import { verifyBlock } from './verify.js'
import { backoffDelay, sleep } from '../retry.js'
import { parseServiceUrl, type ServiceUrl, urlUnder } from '../url.js'

export interface GatewayOptions {
  /** Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch
  /** Per request; default 30 s. */
  timeoutMs?: number
  /** Overall, per block, across every attempt, backoff and gateway; default 60 s. */
  deadlineMs?: number
  /** Extra attempts per gateway after a 5xx, 429, timeout or network error; default 2. */
  retries?: number
  /** First backoff delay, doubled each retry, with jitter; default 250 ms. */
  retryDelayMs?: number
  /** Largest block accepted; default 4 MiB. */
  maxBlockBytes?: number
  /**
   * Timeouts or network errors in a row (over the whole run) after which a gateway
   * is asked nothing more; default 4. Any HTTP answer resets the count.
   */
  maxConsecutiveFailures?: number
  logger?: Logger
}

interface Gateway extends ServiceUrl {
  /** Timeouts and network errors in a row. */
  failures: number
  down: boolean
}

/**
 * Reads blocks from trustless HTTP gateways (`/ipfs/{cid}?format=raw`), verifying every block.
 * A redirect to another origin (as subdomain gateways answer) is followed only for a gateway
 * configured without credentials (see http.ts).
 */
export class GatewayBlockSource implements BlockSource {
  readonly label: string
  private readonly gateways: Gateway[]
  private readonly fetch: typeof globalThis.fetch
  private readonly timeoutMs: number
  private readonly deadlineMs: number
  private readonly retries: number
  private readonly retryDelayMs: number
  private readonly maxBlockBytes: number
  private readonly maxConsecutiveFailures: number
  private readonly logger: Logger

  constructor(urls: string[], options: GatewayOptions = {}) {
    if (urls.length === 0) throw new InputError('gateways', 'at least one gateway URL is required')
    this.gateways = urls.map((url) => ({ ...parseServiceUrl(url, 'gateways'), failures: 0, down: false }))
    this.label = `gateways ${this.gateways.map((g) => g.label).join(', ')}`
    this.fetch = options.fetch ?? globalThis.fetch
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.deadlineMs = options.deadlineMs ?? 60_000
    this.retries = options.retries ?? 2
    this.retryDelayMs = options.retryDelayMs ?? 250
    this.maxBlockBytes = options.maxBlockBytes ?? MAX_BLOCK_BYTES
    this.maxConsecutiveFailures = options.maxConsecutiveFailures ?? 4
    this.logger = options.logger ?? silentLogger
  }

  async get(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    const failures: string[] = []
    const deadline = AbortSignal.timeout(this.deadlineMs)
    const signal = options?.signal == null ? deadline : AbortSignal.any([options.signal, deadline])
    for (const gateway of this.gateways) {
      if (gateway.down) {
        failures.push(`${gateway.label} (not asked: ${gateway.failures} timeouts or network errors in a row)`)
        continue
      }
      let result: Uint8Array | string
      try {
        result = await this.getFrom(gateway, cid, signal, options?.signal)
      } catch (err) {
        if (deadline.aborted && options?.signal?.aborted !== true) {
          failures.push(`${gateway.label} (no block before the deadline)`)
          throw new BlockNotFoundError(`Block ${cid} not fetched within ${this.deadlineMs / 1000} s (the deadline per block) from gateways: ${failures.join(', ')}`, { cause: err })
        }
        throw err
      }
      if (result instanceof Uint8Array) return result
      failures.push(`${gateway.label} (${result})`)
      this.logger.debug(`block ${cid} not fetched from ${gateway.label}: ${result}`)
    }
    throw new BlockNotFoundError(`Block ${cid} not found on gateways: ${failures.join(', ')}`)
  }

  /** The verified block, or why this gateway failed. Throws only when `signal` aborts (the caller's or the deadline). */
  private async getFrom(gateway: Gateway, cid: CID, signal: AbortSignal, callerSignal?: AbortSignal): Promise<Uint8Array | string> {
    const url = urlUnder(gateway.url, `/ipfs/${cid.toString()}`)
    url.searchParams.set('format', 'raw')
    const headers: Record<string, string> = { accept: 'application/vnd.ipld.raw' }
    if (gateway.authorization != null) headers.authorization = gateway.authorization
    let reason = ''
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (gateway.down) return reason
      if (attempt > 0) await sleep(backoffDelay(attempt - 1, this.retryDelayMs), signal)
      throwIfAborted(signal)
      const timeout = AbortSignal.timeout(this.timeoutMs)
      const requestSignal = AbortSignal.any([signal, timeout])
      let retryable = false
      try {
        const response = await httpFetch(url, { label: gateway.label, headers, signal: requestSignal, fetch: this.fetch, anonymous: gateway.authorization == null })
        gateway.failures = 0
        if (response.ok) {
          const bytes = await readBody(response, this.maxBlockBytes, 'block')
          verifyBlock(cid, bytes)
          return bytes
        }
        await response.body?.cancel().catch(() => {})
        reason = `HTTP ${response.status}`
        retryable = response.status >= 500 || response.status === 429
      } catch (err: any) {
        if (err instanceof DigestMismatchError) return 'digest mismatch'
        if (err?.code === 'ERR_UNSUPPORTED_HASH') throw err
        if (err instanceof ResponseTooLargeError) return err.message
        if (err instanceof RedirectError) return err.message.slice(gateway.label.length + 2)
        // Silence until the deadline counts as this gateway's timeout; the caller's abort does not.
        if (callerSignal?.aborted !== true) this.failed(gateway)
        throwIfAborted(signal)
        reason = timeout.aborted ? `timeout after ${this.timeoutMs} ms` : `network error: ${err?.cause?.code ?? err?.cause?.message ?? err?.message ?? err}`
        retryable = true
      }
      if (!retryable) break
      if (attempt < this.retries) this.logger.debug(`${gateway.label}: ${reason} for ${cid}, retrying`)
    }
    return reason
  }

  private failed(gateway: Gateway): void {
    gateway.failures++
    if (!gateway.down && gateway.failures >= this.maxConsecutiveFailures) {
      gateway.down = true
      this.logger.warn(`${gateway.label}: ${gateway.failures} timeouts or network errors in a row; not asking this gateway again in this run`)
    }
  }
}
