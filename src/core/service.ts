import { IpcrError, RedirectError, ResponseTooLargeError, throwIfAborted } from './errors.js'
import { httpFetch, readBody, readText, type HttpRequest } from './http.js'
import type { AbortOptions, Logger } from './logger.js'
import { remoteMessage } from './redact.js'
import { backoffDelay, sleep } from './retry.js'

/**
 * Calls to remote services' HTTP APIs (pinning services, cluster, DNS providers),
 * through http.ts: a timeout per attempt, bounded bodies, and retries with
 * backoff and jitter for network errors, timeouts, 5xx and 429 (honouring
 * Retry-After, capped), never for other 4xx. Errors name the service's label
 * and carry what it answered, summarised and without secrets.
 */

export interface ServiceRequest extends AbortOptions {
  /** How the endpoint is named in messages: service and URL, no credentials. */
  label: string
  method?: string
  headers?: Record<string, string>
  body?: HttpRequest['body']
  /** Per attempt; default 30 s. */
  timeoutMs?: number
  /** Retries after the first attempt; default 4. */
  retries?: number
  /** First backoff; default 500 ms (doubling, with jitter). */
  retryDelayMs?: number
  /** Longest wait before a retry, Retry-After included; default 30 s. */
  maxDelayMs?: number
  /** Largest response body read; default 1 MiB. */
  maxBytes?: number
  /** Statuses that are answers, not errors (e.g. 404 for "not there"). */
  accept?: number[]
  logger?: Logger
  fetch?: typeof globalThis.fetch
}

/** A service call failed: `status` is the HTTP status when there was an answer; `retryAfterMs` the wait it asked for. */
export class ServiceError extends IpcrError {
  readonly status?: number
  readonly retryAfterMs?: number
  constructor (message: string, status?: number, options?: ErrorOptions & { retryAfterMs?: number }) {
    super('ERR_SERVICE', message, options)
    if (status != null) this.status = status
    if (options?.retryAfterMs != null) this.retryAfterMs = options.retryAfterMs
  }
}

export interface ServiceResponse {
  status: number
  headers: Headers
  body: Uint8Array
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs (value: string | null, now = Date.now()): number | undefined {
  if (value == null || value.trim() === '') return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined
}

function retryable (status: number): boolean {
  return status === 429 || status >= 500
}

/** An error answer of `label`: its status, what it said (summarised), and the wait its Retry-After asks for. */
export function answerError (label: string, status: number, text: string, retryAfter: string | null): ServiceError {
  const wait = retryAfterMs(retryAfter)
  return new ServiceError(`${label}: HTTP ${status}${text.trim() !== '' ? `: ${remoteMessage(text, 300)}` : ''}`, status, wait != null ? { retryAfterMs: wait } : {})
}

/** How often a service call is tried again, and how long it waits in between. */
export interface RetryPolicy extends AbortOptions {
  /** Retries after the first attempt. */
  retries: number
  /** First backoff (doubling, with jitter). */
  retryDelayMs: number
  /** Longest wait, Retry-After included. */
  maxDelayMs: number
  logger?: Logger
}

/**
 * Runs `attempt` until it returns. A ServiceError with no answer (no status), a 5xx or a 429 is
 * tried again, after the wait it asked for or a backoff (capped), up to `retries` times; any other
 * error, and the last one, is thrown.
 */
export async function withRetries<T> (policy: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    throwIfAborted(policy.signal)
    try {
      return await attempt()
    } catch (err) {
      if (!(err instanceof ServiceError) || (err.status != null && !retryable(err.status)) || n >= policy.retries) throw err
      const delay = Math.min(policy.maxDelayMs, err.retryAfterMs ?? backoffDelay(n, policy.retryDelayMs))
      policy.logger?.warn(`${err.message}; retrying in ${(delay / 1000).toFixed(1)} s (${n + 1} of ${policy.retries})`)
      await sleep(delay, policy.signal)
    }
  }
}

/** One request with the policy above; the body of a 2xx (or accepted) answer. */
export async function callService (url: URL | string, request: ServiceRequest): Promise<ServiceResponse> {
  const policy = { retries: request.retries ?? 4, retryDelayMs: request.retryDelayMs ?? 500, maxDelayMs: request.maxDelayMs ?? 30_000, signal: request.signal, logger: request.logger }
  return await withRetries(policy, async () => {
    const timeout = AbortSignal.timeout(request.timeoutMs ?? 30_000)
    const signal = request.signal != null ? AbortSignal.any([request.signal, timeout]) : timeout
    try {
      const response = await httpFetch(url, { label: request.label, method: request.method, headers: request.headers, body: request.body, signal, fetch: request.fetch })
      if ((response.status >= 200 && response.status < 300) || request.accept?.includes(response.status) === true) {
        const body = await readBody(response, request.maxBytes ?? 1024 * 1024, `${request.label}: the answer`)
        return { status: response.status, headers: response.headers, body }
      }
      throw answerError(request.label, response.status, await readText(response, 4096), response.headers.get('retry-after'))
    } catch (err) {
      if (err instanceof ServiceError || err instanceof RedirectError || err instanceof ResponseTooLargeError) throw err
      throwIfAborted(request.signal)
      throw new ServiceError(`${request.label}: ${timeout.aborted ? `no answer within ${Math.round((request.timeoutMs ?? 30_000) / 1000)} s` : `unreachable (${remoteMessage((err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message, 120)})`}`, undefined, { cause: err })
    }
  })
}

/** callService for a JSON answer (an empty body reads as null). */
export async function callServiceJson<T> (url: URL | string, request: ServiceRequest): Promise<{ status: number, json: T | null }> {
  const response = await callService(url, { ...request, headers: { Accept: 'application/json', ...request.headers } })
  const text = new TextDecoder().decode(response.body)
  if (text.trim() === '') return { status: response.status, json: null }
  try {
    return { status: response.status, json: JSON.parse(text) as T }
  } catch {
    throw new ServiceError(`${request.label}: answered HTTP ${response.status} with something that is not JSON: ${remoteMessage(text, 120)}`, response.status)
  }
}
