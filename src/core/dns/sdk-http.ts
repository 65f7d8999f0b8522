import { InputError, IpcrError } from '../errors.js'
import type { Logger, OperationOptions } from '../logger.js'
import { remoteMessage } from '../redact.js'
import { ServiceError, callService } from '../service.js'
import { parseServiceUrl } from '../url.js'

/**
 * Glue between the DNS providers' SDKs and service.ts: the SDKs send through
 * a fetch (or handler) built here, so every request has our policy (timeouts,
 * retries with backoff, bounded bodies, no cross-origin redirects). A non-2xx
 * answer becomes a ServiceError naming the provider's label (the SDKs' own
 * retries are turned off; service.ts retries 5xx and 429).
 */

/** How a hosted provider's requests are sent, as its configuration may set it (else service.ts's defaults). */
export interface SdkHttpConfig {
  /** Per attempt. */
  timeoutMs?: number
  /** Retries after network errors, 5xx and 429. */
  retries?: number
  retryDelayMs?: number
  /** Tests. */
  fetch?: typeof globalThis.fetch
}

export interface SdkHttpOptions extends SdkHttpConfig {
  label: string
  logger?: Logger
  signal?: AbortSignal
  maxBytes?: number
}

/** The options of one operation's requests. */
export function sdkHttpOptions (label: string, config: SdkHttpConfig, options: OperationOptions): SdkHttpOptions {
  return {
    label,
    logger: options.logger,
    signal: options.signal,
    timeoutMs: config.timeoutMs,
    retries: config.retries,
    retryDelayMs: config.retryDelayMs,
    fetch: config.fetch
  }
}

function headerRecord (headers: ConstructorParameters<typeof Headers>[0]): Record<string, string> {
  const out: Record<string, string> = {}
  new Headers(headers).forEach((value, key) => { out[key] = value })
  return out
}

/** A fetch() for an SDK that sends through callService. */
export function serviceFetch (options: SdkHttpOptions): typeof globalThis.fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : input
    const body = init?.body
    if (body != null && typeof body !== 'string' && !(body instanceof Uint8Array) && !(body instanceof URLSearchParams)) {
      throw new ServiceError(`${options.label}: the SDK sent a request body ipcr cannot resend (${typeof body})`)
    }
    const response = await callService(url, {
      label: options.label,
      method: init?.method ?? 'GET',
      headers: headerRecord(init?.headers),
      body: body ?? undefined,
      signal: init?.signal ?? undefined,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      retryDelayMs: options.retryDelayMs,
      maxBytes: options.maxBytes,
      logger: options.logger,
      fetch: options.fetch
    })
    const empty = response.status === 204 || response.status === 205 || response.status === 304
    return new Response(empty ? null : response.body as Uint8Array<ArrayBuffer>, { status: response.status, headers: response.headers })
  }
}

/** The error to throw for what an SDK threw: ours (found in the cause chain) or one naming the provider. */
export function sdkError (label: string, err: unknown): Error {
  for (let e: unknown = err, depth = 0; e != null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof IpcrError) return e
  }
  const message = err instanceof Error ? err.message : String(err)
  return new ServiceError(`${label}: ${remoteMessage(message, 300)}`, undefined, { cause: err })
}

/** Runs an SDK call, turning what it throws into sdkError. */
export async function viaSdk<T> (label: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw sdkError(label, err)
  }
}

/** An SDK's base URL given in configuration (tests, private endpoints): http(s), no credentials, no trailing slash. */
export function apiBaseUrl (value: string, input: string): string {
  const url = parseServiceUrl(value, input)
  if (url.authorization != null) throw new InputError(input, 'the URL must not carry credentials')
  return url.url.href.replace(/\/+$/, '')
}
