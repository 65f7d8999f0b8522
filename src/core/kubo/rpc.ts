import { create, type KuboRPCClient } from 'kubo-rpc-client'
import { IpcrError, throwIfAborted } from '../errors.js'
import { silentLogger, type AbortOptions, type Logger } from '../logger.js'
import { backoffDelay, sleep } from '../retry.js'
import { redactUrl } from '../url.js'
import type { KuboConfig } from './config.js'

/** A Kubo RPC call failed; the message names the endpoint, never its credentials. */
export class KuboError extends IpcrError {
  readonly status?: number
  constructor (message: string, status?: number, options?: ErrorOptions) {
    super('ERR_KUBO', message, options)
    this.status = status
  }
}

export interface CallOptions extends AbortOptions {
  /** Overrides the endpoint's per-request timeout. */
  timeoutMs?: number
}

/**
 * kubo-rpc-client with what a release pipeline needs around it: a timeout and
 * an AbortSignal on every call, bounded retries with backoff and jitter on
 * network errors and 5xx (none on other 4xx), and errors that name the
 * endpoint and the command.
 */
export class KuboRpc {
  readonly client: KuboRPCClient
  readonly label: string

  constructor (readonly config: KuboConfig, private readonly logger: Logger = silentLogger) {
    // A copy: kubo-rpc-client rewrites the URL object's path to /api/v0, and config.url is
    // also the base of the requests made without it (key/import).
    this.client = create({ url: new URL(config.url.href), headers: config.headers })
    this.label = `Kubo RPC ${config.label}`
  }

  async call<T>(command: string, fn: (signal: AbortSignal) => Promise<T>, options: CallOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.config.timeoutMs
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(options.signal)
      const timeout = AbortSignal.timeout(timeoutMs)
      const signal = options.signal == null ? timeout : AbortSignal.any([options.signal, timeout])
      try {
        return await fn(signal)
      } catch (err) {
        throwIfAborted(options.signal)
        const failure = describe(err, timeout.aborted, timeoutMs)
        const message = `${this.label}: ${command} failed: ${failure.reason}`
        if (!failure.retryable || attempt >= this.config.retries) {
          throw new KuboError(redactUrl(message), failure.status, { cause: err })
        }
        this.logger.warn(`${redactUrl(message)}; retrying (${attempt + 1} of ${this.config.retries})`)
        await sleep(backoffDelay(attempt, this.config.retryDelayMs), options.signal)
      }
    }
  }
}

function describe (err: any, timedOut: boolean, timeoutMs: number): { reason: string, retryable: boolean, status?: number } {
  if (timedOut || err?.name === 'TimeoutError') {
    const limit = timeoutMs < 10_000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`
    return { reason: `no answer within ${limit}`, retryable: true }
  }
  const status: number | undefined = err?.response?.status
  if (status != null) {
    if (status === 401 || status === 403) {
      return { reason: `HTTP ${status}: the endpoint refused the credentials (check kubo-rpc-headers)`, retryable: false, status }
    }
    // Kubo answers a failed command with 500 and a JSON message: that is final. A 5xx
    // without one comes from the server or a proxy in front of it, and may pass.
    const fromKubo = (err.response.headers?.get?.('content-type') ?? '').startsWith('application/json')
    const detail = typeof err.message === 'string' && err.message !== '' ? `: ${err.message}` : ''
    return { reason: `HTTP ${status}${detail}`, retryable: status === 429 || (status >= 500 && !fromKubo), status }
  }
  // fetch() rejects with a TypeError whose cause is the socket error (checked by name:
  // undici's TypeError is not this realm's when the code runs in a vm context, as under jest).
  if (err?.name === 'TypeError' && err.message === 'fetch failed') {
    const cause = err.cause as any
    return { reason: `endpoint unreachable (${cause?.code ?? cause?.message ?? 'network error'})`, retryable: true }
  }
  return { reason: err?.message ?? String(err), retryable: false }
}
