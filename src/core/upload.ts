import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { RedirectError, ResponseTooLargeError, throwIfAborted } from './errors.js'
import { redirectTarget } from './http.js'
import type { AbortOptions, Logger } from './logger.js'
import { Progress } from './progress.js'
import { remoteMessage } from './redact.js'
import { ServiceError, answerError, withRetries } from './service.js'

/**
 * A file POSTed as one multipart/form-data part, streamed from disk through node:http(s)
 * (Kubo's dag import, IPFS Cluster's add): fetch() would keep every chunk of a streamed
 * request body until the request ends, so a large CAR would sit in memory; a piped request
 * lets each chunk go once written, and waits while the server does not read. Redirects are
 * followed as http.ts follows them (same origin only, the file sent again). uploadFile also
 * retries network errors, 5xx and 429 with service.ts's withRetries (Retry-After).
 */

export interface FileUpload extends AbortOptions {
  /** The endpoint as it may be printed: no credentials. */
  label: string
  headers?: Record<string, string>
  path: string
  /** The form field; default `file`. */
  field?: string
  /** The part's file name; default `upload`. */
  filename?: string
  /** Largest answer read; default 1 MiB. */
  maxBytes?: number
  /** No byte sent or received for this long fails the attempt; uploadFile's default 5 min, postFile's none. */
  idleTimeoutMs?: number
  /** Retries after the first attempt; default 2. */
  retries?: number
  retryDelayMs?: number
  /** Longest wait before a retry; default 30 s. */
  maxDelayMs?: number
  /** Progress lines while the file is sent. */
  logger?: Logger
}

export interface UploadAnswer {
  status: number
  headers: IncomingHttpHeaders
  text: string
  /** HTTP trailers (lower-case names), e.g. x-stream-error. */
  trailers: Record<string, string | undefined>
  statusMessage?: string
}

/** Sends the file; the answer of a 2xx. Other statuses throw ServiceError naming the label and what the service said. */
export async function uploadFile (url: URL, upload: FileUpload): Promise<UploadAnswer> {
  const { size } = await stat(upload.path)
  const policy = { retries: upload.retries ?? 2, retryDelayMs: upload.retryDelayMs ?? 1000, maxDelayMs: upload.maxDelayMs ?? 30_000, signal: upload.signal, logger: upload.logger }
  return await withRetries(policy, async () => {
    let answer: UploadAnswer
    try {
      answer = await postFile(url, size, { ...upload, idleTimeoutMs: upload.idleTimeoutMs ?? 5 * 60_000 })
    } catch (err) {
      if (err instanceof ServiceError || err instanceof RedirectError || err instanceof ResponseTooLargeError) throw err
      throwIfAborted(upload.signal)
      throw new ServiceError(`${upload.label}: upload failed (${remoteMessage((err as Error).message, 120)})`, undefined, { cause: err })
    }
    if (answer.status >= 200 && answer.status < 300) return answer
    const retryAfter = answer.headers['retry-after']
    throw answerError(upload.label, answer.status, answer.text, typeof retryAfter === 'string' ? retryAfter : null)
  })
}

/** One attempt: the file sent (again after each same-origin redirect) and whatever the server answered. */
export async function postFile (url: URL, size: number, upload: FileUpload): Promise<UploadAnswer> {
  let target = url
  for (let redirects = 0; ; redirects++) {
    const answer = await send(target, size, upload)
    const location = answer.headers.location
    const next = redirectTarget(upload.label, target, answer.status, location, redirects)
    if (next == null) return answer
    target = next
  }
}

async function send (url: URL, size: number, upload: FileUpload): Promise<UploadAnswer> {
  const boundary = `ipcr-${randomBytes(12).toString('hex')}`
  const filename = (upload.filename ?? 'upload').replace(/["\r\n\\]/g, '_')
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${upload.field ?? 'file'}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
    method: 'POST',
    ...(upload.signal != null ? { signal: upload.signal } : {}),
    headers: { ...upload.headers, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(head.length + size + tail.length) }
  })
  const idleMs = upload.idleTimeoutMs
  if (idleMs != null) request.setTimeout(idleMs, () => request.destroy(new Error(`no progress for ${Math.round(idleMs / 1000)} s`)))
  const progress = upload.logger != null ? new Progress(upload.logger, `sent to ${upload.label}`, size) : undefined
  const body = Readable.from((async function * () {
    yield head
    for await (const chunk of createReadStream(upload.path, { highWaterMark: 1024 * 1024 })) {
      progress?.add((chunk as Buffer).byteLength)
      yield chunk as Buffer
    }
    progress?.finish()
    yield tail
  })())
  // A refused request ends the upload early: the answer says why.
  pipeline(body, request).catch(() => {})
  try {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      request.once('response', resolve)
      request.once('error', reject)
    })
    const max = upload.maxBytes ?? 1024 * 1024
    const ok = response.statusCode != null && response.statusCode >= 200 && response.statusCode < 300
    let text = ''
    response.setEncoding('utf8')
    for await (const chunk of response) {
      text += chunk as string
      if (text.length > max) {
        response.destroy()
        if (!ok) break
        throw new ResponseTooLargeError(`${upload.label}: the answer is larger than ${max} bytes`)
      }
    }
    // The answer was read to its end: the server has decided, whatever of the file is still
    // unsent (IPFS Cluster ends a refused /add with an error trailer, half-closes, and resets
    // the connection later). Waiting for the rest would hang or fail on that reset.
    const trailers: Record<string, string | undefined> = {}
    for (const [name, value] of Object.entries(response.trailers)) trailers[name.toLowerCase()] = value
    return { status: response.statusCode ?? 0, headers: response.headers, text, trailers, ...(response.statusMessage != null ? { statusMessage: response.statusMessage } : {}) }
  } finally {
    request.destroy()
  }
}
