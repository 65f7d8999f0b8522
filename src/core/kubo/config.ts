import { InputError } from '../errors.js'
import { addHeaderSecret } from '../redact.js'
import { parseServiceUrl } from '../url.js'

/** Kubo RPC endpoint settings, checked before any network call. */
export interface KuboConfig {
  /** Base URL without credentials, e.g. http://127.0.0.1:5001. */
  url: URL
  /** Safe for logs: origin and path only. */
  label: string
  /** Sent with every request (Authorization and the like); never logged. */
  headers: Record<string, string>
  /** Per request; default 120 s (imports of large CARs take long). */
  timeoutMs: number
  /** Extra attempts after network errors and 5xx; default 3. */
  retries: number
  retryDelayMs: number
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Parses `Name: value` lines (newline-separated), as the kubo-rpc-headers input takes them. */
export function parseHeaderLines (text: string, input = 'kubo-rpc-headers'): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim()
    if (line === '') continue
    const colon = line.indexOf(':')
    const name = colon > 0 ? line.slice(0, colon).trim() : ''
    if (!HEADER_NAME.test(name)) {
      throw new InputError(input, `line ${index + 1} is not a header (expected 'Name: value', e.g. 'Authorization: Bearer …')`)
    }
    headers[name] = line.slice(colon + 1).trim()
    addHeaderSecret(headers[name] as string)
  }
  return headers
}

export function kuboConfig (options: { url: string, headers?: Record<string, string>, timeoutMs?: number, retries?: number, retryDelayMs?: number }, input = 'kubo-rpc-url'): KuboConfig {
  const service = parseServiceUrl(options.url, input)
  const headers = { ...(options.headers ?? {}) }
  // Every header value is treated as a secret: redacted from anything ipcr prints.
  for (const value of Object.values(headers)) addHeaderSecret(value)
  if (service.authorization != null && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
    headers.Authorization = service.authorization
    addHeaderSecret(service.authorization)
  }
  const timeoutMs = options.timeoutMs ?? 120_000
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new InputError('kubo-timeout', 'expected a positive number of seconds')
  return { url: service.url, label: service.label, headers, timeoutMs, retries: options.retries ?? 3, retryDelayMs: options.retryDelayMs ?? 500 }
}
