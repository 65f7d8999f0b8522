import { IpcrError, IpnsRecordError, RedirectError, ResponseTooLargeError, throwIfAborted } from '../errors.js'
import { httpFetch, readBody, readText } from '../http.js'
import { silentLogger, type AbortOptions, type Logger } from '../logger.js'
import { remoteMessage } from '../redact.js'
import { backoffDelay, sleep } from '../retry.js'
import type { IpnsName } from './name.js'
import { MAX_RECORD_BYTES } from './record.js'

/** The media type of a marshalled IPNS record (routing V1 API, trustless gateways). */
export const IPNS_RECORD_TYPE = 'application/vnd.ipfs.ipns-record'

export interface HttpRecordOptions {
  /** Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch
  /** Per request; default 30 s. */
  timeoutMs?: number
  /** Extra attempts of a GET after a network error, timeout, 5xx or 429; default 2. PUTs are sent once. */
  retries?: number
  /** First backoff delay, doubled each retry, with jitter; default 250 ms. */
  retryDelayMs?: number
  logger?: Logger
}

/** A store's failure to answer (not a refused record): names the endpoint. */
export function storeError (label: string, reason: string, cause?: unknown): IpcrError {
  return new IpcrError('ERR_IPNS_STORE', `${label}: ${reason}`, cause != null ? { cause } : undefined)
}

/** A record larger than any IPNS record may be, refused without reading it all. */
export function tooLargeRecord (name: IpnsName, source: string): IpnsRecordError {
  return new IpnsRecordError(`IPNS record for /ipns/${name.text} from ${source}: more than the ${MAX_RECORD_BYTES} bytes an IPNS record may have`)
}

/** The record in a response body, read with a cap of MAX_RECORD_BYTES + 1; a larger one is refused. */
export async function readRecordBody (response: Response, name: IpnsName, source: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await readBody(response, MAX_RECORD_BYTES + 1, 'IPNS record')
  } catch (err) {
    if (err instanceof ResponseTooLargeError) throw tooLargeRecord(name, source)
    throw err
  }
  if (bytes.byteLength > MAX_RECORD_BYTES) throw tooLargeRecord(name, source)
  return bytes
}

/** Longest error body read from a record endpoint. */
export const MAX_ERROR_TEXT = 4096

/** What an HTTP endpoint of records is called with. */
export interface HttpEndpoint {
  label: string
  headers: Record<string, string>
  /** May follow a redirect to another origin (it carries no credentials). */
  anonymous: boolean
}

/** What an answer means: a value, or an error status (with the body's text when `accept` read it). */
export type Answer<T> = { value: T } | { error: true, text?: string }

/**
 * One request with its timeout. For a GET, retried after network errors,
 * timeouts, 5xx and 429 with backoff; `accept` decides what an answer means.
 */
export async function requestRecord<T> (endpoint: HttpEndpoint, url: URL, request: { method: 'GET' | 'PUT', body?: Uint8Array, headers?: Record<string, string>, what: string }, accept: (response: Response) => Promise<Answer<T>>, settings: HttpRecordOptions, options: AbortOptions = {}): Promise<T> {
  const timeoutMs = settings.timeoutMs ?? 30_000
  const retries = request.method === 'GET' ? settings.retries ?? 2 : 0
  const logger = settings.logger ?? silentLogger
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(options.signal)
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = options.signal == null ? timeout : AbortSignal.any([options.signal, timeout])
    let reason: string
    let retryable: boolean
    let cause: unknown
    try {
      const response = await httpFetch(url, {
        label: endpoint.label,
        method: request.method,
        headers: { ...endpoint.headers, ...request.headers },
        ...(request.body != null ? { body: request.body } : {}),
        signal,
        ...(settings.fetch != null ? { fetch: settings.fetch } : {}),
        anonymous: endpoint.anonymous
      })
      const answer = await accept(response)
      if ('value' in answer) return answer.value
      const text = remoteMessage(answer.text ?? await readText(response, MAX_ERROR_TEXT), 200)
      reason = `HTTP ${response.status}${text !== '' ? ` (${text})` : ''}`
      retryable = response.status >= 500 || response.status === 429
    } catch (err: any) {
      throwIfAborted(options.signal)
      if (err instanceof IpcrError) {
        if (err instanceof RedirectError || err instanceof ResponseTooLargeError) throw storeError(endpoint.label, `${request.what} failed: ${err.message.replace(`${endpoint.label}: `, '')}`, err)
        throw err
      }
      cause = err
      retryable = true
      reason = timeout.aborted || err?.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : `unreachable (${remoteMessage(String(err?.cause?.code ?? err?.cause?.message ?? err?.message ?? err), 100)})`
    }
    if (!retryable || attempt >= retries) throw storeError(endpoint.label, `${request.what} failed: ${reason}`, cause)
    logger.debug(`${endpoint.label}: ${request.what}: ${reason}; retrying (${attempt + 1} of ${retries})`)
    await sleep(backoffDelay(attempt, settings.retryDelayMs ?? 250), options.signal)
  }
}
