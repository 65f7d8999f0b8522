import { IpcrError, RedirectError, ResponseTooLargeError, throwIfAborted } from '../errors.js'
import { httpFetch, readBody, readText } from '../http.js'
import { silentLogger, type AbortOptions, type Logger } from '../logger.js'
import { redact, remoteMessage } from '../redact.js'
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

/** An HTTP error answer; `message` is the remote message, summarised and redacted. */
export class KuboStatusError extends Error {
  constructor (message: string, readonly status: number, readonly fromKubo: boolean) {
    super(message)
    this.name = 'KuboStatusError'
  }
}

export interface CallOptions extends AbortOptions {
  /** Overrides the endpoint's per-request timeout. */
  timeoutMs?: number
  /** Overall deadline across every attempt and backoff; none unless given. */
  deadlineMs?: number
}

export interface RpcRequest {
  /** `arg` parameters, in order. */
  args?: string[]
  /** Other query parameters; undefined ones are left out. */
  params?: Record<string, string | number | boolean | undefined>
  /** A multipart body (key/import). */
  body?: FormData
  signal: AbortSignal
}

/** Largest JSON answer read from Kubo (key lists, pin lists and the like are far smaller). */
export const MAX_RPC_JSON = 16 * 1024 * 1024

/**
 * Kubo's RPC API (`POST /api/v0/<command>`) through ipcr's HTTP layer (no
 * redirect to another origin, bounded bodies), with what a release pipeline
 * needs around it: a timeout and an AbortSignal on every call, bounded
 * retries with backoff and jitter on network errors and 5xx (none on other
 * 4xx), and errors that name the endpoint and the command, with whatever the
 * endpoint answered summarised and stripped of secrets.
 */
export class KuboRpc {
  readonly label: string

  constructor (readonly config: KuboConfig, private readonly logger: Logger = silentLogger) {
    this.label = `Kubo RPC ${config.label}`
  }

  /** The URL of a command, e.g. `key/import`, with its query. */
  commandUrl (command: string, args: string[] = [], params: RpcRequest['params'] = {}): URL {
    const url = new URL(`${this.config.url.href.replace(/\/+$/, '')}/api/v0/${command}`)
    for (const arg of args) url.searchParams.append('arg', arg)
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, String(value))
    return url
  }

  /** POSTs one command; a non-2xx answer throws KuboStatusError. The caller reads the body. */
  async post (command: string, request: RpcRequest): Promise<Response> {
    const response = await httpFetch(this.commandUrl(command, request.args, request.params), {
      label: this.label,
      method: 'POST',
      headers: this.config.headers,
      ...(request.body != null ? { body: request.body } : {}),
      signal: request.signal
    })
    if (response.ok) return response
    const contentType = response.headers.get('content-type') ?? ''
    const text = await readText(response)
    let message = text
    if (contentType.startsWith('application/json')) {
      try {
        const parsed = JSON.parse(text)
        message = String(parsed?.Message ?? parsed?.message ?? text)
      } catch {}
    }
    throw new KuboStatusError(remoteMessage(message !== '' ? message : response.statusText), response.status, contentType.startsWith('application/json'))
  }

  /** One command whose answer is a JSON object (or nothing), with retries; `description` names it in errors (default: command and args). */
  async json<T>(command: string, request: Omit<RpcRequest, 'signal'> = {}, options: CallOptions & { description?: string } = {}): Promise<T> {
    const description = options.description ?? [command, ...(request.args ?? [])].join(' ')
    return await this.call(description, async (signal) => {
      const response = await this.post(command, { ...request, signal })
      const bytes = await readBody(response, MAX_RPC_JSON, `the answer to ${command}`)
      // Commands without output (files/cp, files/rm, …) answer with an empty body.
      const text = new TextDecoder().decode(bytes).trim()
      return (text === '' ? undefined : JSON.parse(text)) as T
    }, options)
  }

  /**
   * Runs `fn` with retries. Every call is bounded: at most retries + 1 attempts of
   * timeoutMs each, plus backoff (defaults: 4 × 120 s); `deadlineMs` bounds it tighter
   * (block reads: 60 s per block).
   */
  async call<T>(command: string, fn: (signal: AbortSignal) => Promise<T>, options: CallOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.config.timeoutMs
    const deadline = options.deadlineMs != null ? AbortSignal.timeout(options.deadlineMs) : undefined
    const outer = [options.signal, deadline].filter((s): s is AbortSignal => s != null)
    const overall = outer.length === 0 ? undefined : AbortSignal.any(outer)
    for (let attempt = 0; ; attempt++) {
      const fail = (reason: string, status?: number, cause?: unknown): KuboError =>
        new KuboError(redact(redactUrl(`${this.label}: ${command} failed: ${reason}`)), status, { cause })
      try {
        throwIfAborted(overall)
        const timeout = AbortSignal.timeout(timeoutMs)
        const signal = overall == null ? timeout : AbortSignal.any([overall, timeout])
        try {
          return await fn(signal)
        } catch (err) {
          throwIfAborted(overall)
          const failure = describe(err, timeout.aborted, timeoutMs, this.label)
          if (!failure.retryable || attempt >= this.config.retries) throw fail(failure.reason, failure.status, err)
          this.logger.warn(`${fail(failure.reason).message}; retrying (${attempt + 1} of ${this.config.retries})`)
        }
        await sleep(backoffDelay(attempt, this.config.retryDelayMs), overall)
      } catch (err) {
        if (deadline?.aborted === true && options.signal?.aborted !== true) {
          throw fail(`no answer within the overall deadline of ${duration(options.deadlineMs as number)}`, undefined, err)
        }
        throw err
      }
    }
  }
}

function duration (ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`
}

function describe (err: any, timedOut: boolean, timeoutMs: number, label: string): { reason: string, retryable: boolean, status?: number } {
  if (timedOut || err?.name === 'TimeoutError') {
    return { reason: `no answer within ${duration(timeoutMs)}`, retryable: true }
  }
  if (err instanceof RedirectError || err instanceof ResponseTooLargeError) {
    const message = err.message.startsWith(`${label}: `) ? err.message.slice(label.length + 2) : err.message
    return { reason: message, retryable: false }
  }
  if (err instanceof KuboStatusError) {
    const status = err.status
    if (status === 401 || status === 403) {
      return { reason: `HTTP ${status}: the endpoint refused the credentials (check kubo-rpc-headers)`, retryable: false, status }
    }
    // Kubo's RPC API answers every command it has; a 404 (a Kubo gateway says "404 page
    // not found") means the URL points somewhere else.
    if (status === 404) {
      return { reason: `HTTP 404${err.message !== '' ? ` (${err.message})` : ''}: this URL does not serve the Kubo RPC API; it looks like a gateway or another web server (the RPC API listens on port 5001 by default, see Addresses.API in the node's config)`, retryable: false, status }
    }
    // Kubo answers a failed command with 500 and a JSON message: that is final. A 5xx
    // without one comes from the server or a proxy in front of it, and may pass.
    const detail = err.message !== '' ? `: ${err.message}` : ''
    return { reason: `HTTP ${status}${detail}`, retryable: status === 429 || (status >= 500 && !err.fromKubo), status }
  }
  // fetch() rejects with a TypeError whose cause is the socket error (checked by name:
  // undici's TypeError is not this realm's when the code runs in a vm context, as under jest).
  if (err?.name === 'TypeError' && err.message === 'fetch failed') {
    const cause = err.cause as any
    return { reason: `endpoint unreachable (${remoteMessage(String(cause?.code ?? cause?.message ?? 'network error'), 100)})`, retryable: true }
  }
  return { reason: remoteMessage(String(err?.message ?? err)), retryable: false }
}
