import type { CID } from 'multiformats/cid'
import { BlockNotFoundError, DigestMismatchError, InputError, throwIfAborted } from '../errors.js'
import { silentLogger, type AbortOptions, type Logger } from '../logger.js'
import type { BlockSource } from './types.js'
import { verifyBlock } from './verify.js'
import { backoffDelay, sleep } from '../retry.js'
import { parseServiceUrl, type ServiceUrl } from '../url.js'

export interface GatewayOptions {
  /** Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch
  /** Per request; default 30 s. */
  timeoutMs?: number
  /** Extra attempts per gateway after a 5xx, 429, timeout or network error; default 2. */
  retries?: number
  /** First backoff delay, doubled each retry, with jitter; default 250 ms. */
  retryDelayMs?: number
  /** Largest block accepted; default 4 MiB. */
  maxBlockBytes?: number
  logger?: Logger
}

type Gateway = ServiceUrl

/** Reads blocks from trustless HTTP gateways (`/ipfs/{cid}?format=raw`), verifying every block. */
export class GatewayBlockSource implements BlockSource {
  readonly label: string
  private readonly gateways: Gateway[]
  private readonly fetch: typeof globalThis.fetch
  private readonly timeoutMs: number
  private readonly retries: number
  private readonly retryDelayMs: number
  private readonly maxBlockBytes: number
  private readonly logger: Logger

  constructor(urls: string[], options: GatewayOptions = {}) {
    if (urls.length === 0) throw new InputError('gateways', 'at least one gateway URL is required')
    this.gateways = urls.map(parseGateway)
    this.label = `gateways ${this.gateways.map((g) => g.label).join(', ')}`
    this.fetch = options.fetch ?? globalThis.fetch
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.retries = options.retries ?? 2
    this.retryDelayMs = options.retryDelayMs ?? 250
    this.maxBlockBytes = options.maxBlockBytes ?? 4 * 1024 * 1024
    this.logger = options.logger ?? silentLogger
  }

  async get(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    const failures: string[] = []
    for (const gateway of this.gateways) {
      const result = await this.getFrom(gateway, cid, options?.signal)
      if (result instanceof Uint8Array) return result
      failures.push(`${gateway.label} (${result})`)
      this.logger.debug(`block ${cid} not fetched from ${gateway.label}: ${result}`)
    }
    throw new BlockNotFoundError(`Block ${cid} not found on gateways: ${failures.join(', ')}`)
  }

  /** The verified block, or why this gateway failed. Throws only when aborted. */
  private async getFrom(gateway: Gateway, cid: CID, signal?: AbortSignal): Promise<Uint8Array | string> {
    const url = new URL(gateway.url)
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/ipfs/${cid.toString()}`
    url.searchParams.set('format', 'raw')
    const headers: Record<string, string> = { accept: 'application/vnd.ipld.raw' }
    if (gateway.authorization != null) headers.authorization = gateway.authorization
    let reason = ''
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt - 1, this.retryDelayMs), signal)
      throwIfAborted(signal)
      const timeout = AbortSignal.timeout(this.timeoutMs)
      const requestSignal = signal == null ? timeout : AbortSignal.any([signal, timeout])
      let retryable = false
      try {
        const response = await this.fetch(url, { headers, signal: requestSignal, redirect: 'follow' })
        if (response.ok) {
          const bytes = await readBody(response, this.maxBlockBytes)
          verifyBlock(cid, bytes)
          return bytes
        }
        await response.body?.cancel().catch(() => {})
        reason = `HTTP ${response.status}`
        retryable = response.status >= 500 || response.status === 429
      } catch (err: any) {
        throwIfAborted(signal)
        if (err instanceof DigestMismatchError) return 'digest mismatch'
        if (err?.code === 'ERR_UNSUPPORTED_HASH') throw err
        if (err instanceof BodyTooLargeError) return err.message
        reason = timeout.aborted ? `timeout after ${this.timeoutMs} ms` : `network error: ${err?.cause?.message ?? err?.message ?? err}`
        retryable = true
      }
      if (!retryable) break
      if (attempt < this.retries) this.logger.debug(`${gateway.label}: ${reason} for ${cid}, retrying`)
    }
    return reason
  }
}

function parseGateway(input: string): Gateway {
  return parseServiceUrl(input, 'gateways')
}

class BodyTooLargeError extends Error {}

async function readBody(response: Response, max: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (declared > max) {
    await response.body?.cancel().catch(() => {})
    throw new BodyTooLargeError(`block larger than ${max} bytes`)
  }
  if (response.body == null) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let length = 0
  const reader = response.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    length += value.byteLength
    if (length > max) {
      await reader.cancel().catch(() => {})
      throw new BodyTooLargeError(`block larger than ${max} bytes`)
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array
  return Buffer.concat(chunks, length)
}
