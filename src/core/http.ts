import { RedirectError, ResponseTooLargeError } from './errors.js'

/**
 * The one HTTP layer every provider sends through (Kubo RPC, gateways, and the
 * pinning services and DNS APIs to come). Its policy:
 *
 * - Redirects are followed by this layer, never by fetch(): at most
 *   `maxRedirects` (default 3), and only within the origin (scheme, host, port)
 *   of the request. A redirect to another origin is refused with a
 *   RedirectError naming the endpoint's label and the other origin only, so
 *   no request, header, credential or key is ever sent to another origin.
 *   The one exception is a request marked `anonymous` (it carries nothing
 *   secret, e.g. a block read from a public gateway, verified by its CID):
 *   it may follow a redirect to another http(s) origin, never from https to http.
 * - Bodies are read with a size limit (readBody, readText).
 *
 * Callers give a `label`: origin and path of the endpoint, safe to print.
 */

export interface HttpRequest {
  /** The endpoint as it may be printed: origin and path, no credentials. */
  label: string
  /** Default GET. */
  method?: string
  headers?: Record<string, string>
  /** A body that can be sent again after a same-origin 307/308 (no streams). */
  body?: string | Uint8Array | Blob | FormData | URLSearchParams
  signal?: AbortSignal
  /** Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch
  /** Same-origin redirects followed before giving up; default 3. */
  maxRedirects?: number
  /** The request carries no secret (no credentials, no custom headers): it may follow a redirect to another origin. */
  anonymous?: boolean
}

export const DEFAULT_MAX_REDIRECTS = 3
const REDIRECTS = new Set([301, 302, 303, 307, 308])

/** Sends a request under the policy above; returns the final response (any status but a followed redirect). */
export async function httpFetch (url: URL | string, request: HttpRequest): Promise<Response> {
  const fetch = request.fetch ?? globalThis.fetch
  const maxRedirects = request.maxRedirects ?? DEFAULT_MAX_REDIRECTS
  let target = new URL(url)
  let method = request.method ?? 'GET'
  let body = request.body
  for (let redirects = 0; ; redirects++) {
    const response = await fetch(target, {
      method,
      headers: request.headers,
      body: body as RequestInit['body'],
      signal: request.signal,
      redirect: 'manual'
    })
    const next = redirectTarget(request.label, target, response.status, response.headers.get('location'), redirects, maxRedirects, request.anonymous === true)
    if (next == null) return response
    await response.body?.cancel().catch(() => {})
    // As fetch() does: 303, and 301/302 after a POST, continue as a GET without a body.
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
      method = 'GET'
      body = undefined
    }
    target = next
  }
}

/**
 * Where a response sends the request next: null when it is no redirect (or has
 * no Location), the target URL for a same-origin redirect within the limit.
 * Throws RedirectError for another origin or too many redirects.
 * For callers that send without fetch() (streamed uploads through node:http).
 */
export function redirectTarget (label: string, from: URL, status: number, location: string | null | undefined, redirects: number, maxRedirects = DEFAULT_MAX_REDIRECTS, anonymous = false): URL | null {
  if (!REDIRECTS.has(status) || location == null || location === '') return null
  let next: URL
  try {
    next = new URL(location, from)
  } catch {
    throw new RedirectError(`${label}: answered HTTP ${status} with a redirect that is not a URL; not followed`)
  }
  const followable = anonymous && (next.protocol === 'https:' || (next.protocol === 'http:' && from.protocol === 'http:'))
  if ((next.origin !== from.origin && !followable) || next.username !== '' || next.password !== '') {
    // Only the origin is named: the Location's path, query and userinfo may hold secrets.
    const where = next.origin === 'null' ? next.protocol : next.origin
    throw new RedirectError(`${label}: answered HTTP ${status} with a redirect to another origin (${where}); ipcr sends no request to another origin (check the URL)`)
  }
  if (redirects >= maxRedirects) {
    throw new RedirectError(`${label}: more than ${maxRedirects} redirects; not followed`)
  }
  return next
}

/** The whole body, refused (ResponseTooLargeError) as soon as it passes `max` bytes; `what` names it in the error. */
export async function readBody (response: Response, max: number, what = 'response'): Promise<Uint8Array> {
  const tooLarge = (): ResponseTooLargeError => new ResponseTooLargeError(`${what} larger than ${max} bytes`)
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (declared > max) {
    await response.body?.cancel().catch(() => {})
    throw tooLarge()
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
      throw tooLarge()
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array
  return Buffer.concat(chunks, length)
}

/** Longest error body read (the rest is dropped unread). */
export const MAX_ERROR_BODY = 64 * 1024

/** At most `max` bytes of the body as text (for error bodies: never throws on size, drops the rest). */
export async function readText (response: Response, max = MAX_ERROR_BODY): Promise<string> {
  if (response.body == null) return ''
  const chunks: Uint8Array[] = []
  let length = 0
  const reader = response.body.getReader()
  try {
    while (length < max) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value.subarray(0, max - length))
      length += Math.min(value.byteLength, max - length)
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  return Buffer.concat(chunks, length).toString('utf8')
}
