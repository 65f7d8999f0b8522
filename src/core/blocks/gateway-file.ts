import { createHash } from 'node:crypto'
import type { CID } from 'multiformats/cid'
import { IpcrError, RedirectError, throwIfAborted } from '../errors.js'
import { httpFetch } from '../http.js'
import { silentLogger, type Logger } from '../logger.js'
import { declaredFileSize, readBlock, type ContentOptions } from '../unixfs/content.js'
import { fileParts } from '../unixfs/parts.js'
import { fileSlice } from '../unixfs/range.js'
import { parseServiceUrl, type ServiceUrl, urlUnder } from '../url.js'
import { MAX_BLOCK_BYTES, type BlockSource } from './types.js'

const SHA2_256 = 0x12

export interface GatewayFileOptions {
  /** Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch
  /** Most time without a byte from the gateway (headers or body); default 30 s. */
  idleTimeoutMs?: number
  /** Most time for one whole file response; default 30 min. */
  deadlineMs?: number
  /** Largest leaf read from a response; default 4 MiB. */
  maxBlockBytes?: number
  logger?: Logger
}

/** Why a file is read no further from the gateway; `quiet` when it needs no log line (logged already, or known). */
class Stop extends Error {
  constructor (message: string, readonly quiet = false) {
    super(message)
  }
}

/**
 * Whole UnixFS files from one gateway's plain path (`GET /ipfs/<cid>`, the file's bytes, as Kubo
 * and most gateways serve them): one response instead of a request per block. The response is
 * cut at the file's raw leaves, and each leaf's bytes are hashed and compared with the leaf's
 * CID before any of them is given out; the file's dag-pb nodes (one per 174 leaves) come from
 * the block source, checked as fileContent checks them. Where the gateway does not serve plain
 * files (a trustless-only gateway), fails, or sends bytes that are not the leaf's, the rest of
 * the file comes from the block source, from the byte where it stopped.
 */
export class GatewayFileSource {
  readonly label: string
  private readonly gateway: ServiceUrl
  private readonly fetch: typeof globalThis.fetch
  private readonly idleTimeoutMs: number
  private readonly deadlineMs: number
  private readonly maxBlockBytes: number
  private readonly logger: Logger
  /** Why this gateway is asked for no more files in this run. */
  unusable?: string

  constructor (url: string, options: GatewayFileOptions = {}) {
    this.gateway = parseServiceUrl(url, 'gateways')
    this.label = `gateway ${this.gateway.label} (files)`
    this.fetch = options.fetch ?? globalThis.fetch
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000
    this.deadlineMs = options.deadlineMs ?? 30 * 60_000
    this.maxBlockBytes = options.maxBlockBytes ?? MAX_BLOCK_BYTES
    this.logger = options.logger ?? silentLogger
  }

  /** The content of the file at `cid`, as fileContent gives it, each byte checked. */
  async * content (cid: CID, source: BlockSource, options: ContentOptions = {}): AsyncGenerator<Uint8Array> {
    const progress = { position: 0 }
    try {
      yield * this.fromGateway(cid, source, options, progress)
      return
    } catch (err) {
      if (!(err instanceof Stop)) throw err
      throwIfAborted(options.signal)
      if (!err.quiet) this.logger.debug(`${this.label}: ${err.message}; the rest of ${cid} (from byte ${progress.position}) block by block`)
    }
    yield * fileSlice(cid, source, progress.position, Infinity, options)
  }

  private async * fromGateway (cid: CID, source: BlockSource, options: ContentOptions, progress: { position: number }): AsyncGenerator<Uint8Array> {
    if (this.unusable != null) throw new Stop(this.unusable, true)
    const { signal } = options
    const block = options.block ?? await readBlock(cid, source, { signal })
    let body: ResponseBytes | undefined
    try {
      for await (const part of fileParts(cid, source, { signal, block })) {
        if ('bytes' in part) {
          await body?.skip(part.bytes.length)
          yield part.bytes
          progress.position += part.bytes.length
          continue
        }
        const { leaf, size } = part
        if (leaf.multihash.code !== SHA2_256) throw new Stop(`leaf ${leaf} has a hash other than sha2-256`)
        if (size > this.maxBlockBytes) throw new Stop(`leaf ${leaf} is ${size} bytes, more than ${this.maxBlockBytes}`)
        body ??= await this.open(cid, declaredFileSize(cid, block), progress.position, signal)
        const chunks = await body.take(size)
        const hash = createHash('sha256')
        for (const chunk of chunks) hash.update(chunk)
        if (!hash.digest().equals(leaf.multihash.digest)) {
          this.unusable = `it sent bytes that are not leaf ${leaf} of ${cid}`
          this.logger.warn(`${this.label}: ${this.unusable}; asking it for no more files in this run`)
          throw new Stop(this.unusable, true)
        }
        for (const chunk of chunks) yield chunk
        progress.position += size
      }
    } finally {
      body?.cancel()
    }
  }

  /** The file's response, past its first `position` bytes; Stop when there is none to read. */
  private async open (cid: CID, size: number | undefined, position: number, signal?: AbortSignal): Promise<ResponseBytes> {
    const url = urlUnder(this.gateway.url, `/ipfs/${cid.toString()}`)
    const headers: Record<string, string> = { accept: 'application/octet-stream, */*;q=0.5' }
    if (this.gateway.authorization != null) headers.authorization = this.gateway.authorization
    const idle = new AbortController()
    const bytes = new ResponseBytes(idle, this.idleTimeoutMs)
    bytes.touch()
    let response: Response
    try {
      const deadline = AbortSignal.timeout(this.deadlineMs)
      deadline.addEventListener('abort', () => { idle.abort(new IpcrError('ERR_TIMEOUT', `not done within ${this.deadlineMs / 1000} s`)) }, { once: true })
      response = await httpFetch(url, { label: this.gateway.label, headers, signal: AbortSignal.any([idle.signal, ...(signal != null ? [signal] : [])]), fetch: this.fetch, anonymous: this.gateway.authorization == null })
    } catch (err: any) {
      bytes.cancel()
      throwIfAborted(signal)
      if (err instanceof RedirectError) this.unusable = err.message
      throw new Stop(idle.signal.aborted ? String(idle.signal.reason?.message ?? 'timed out') : `network error: ${err?.cause?.code ?? err?.message ?? err}`)
    }
    // A compressed answer's length is not the file's (fetch hands over the bytes decompressed).
    const length = response.headers.get('content-encoding') == null ? response.headers.get('content-length') : null
    let problem: string | undefined
    if (response.status !== 200 || response.body == null) {
      problem = `HTTP ${response.status}`
      // Anything but "not here" or "busy" means the gateway does not serve plain files.
      if (![404, 410, 429].includes(response.status) && response.status < 500) {
        this.unusable = `it answered HTTP ${response.status} for a file`
        this.logger.info(`${this.label}: ${this.unusable}; blobs from it block by block for the rest of this run`)
      }
    } else if (length != null && size != null && Number(length) !== size) {
      problem = `it answered ${Number(length)} bytes for a file of ${size}`
    }
    if (problem != null) {
      await response.body?.cancel().catch(() => {})
      bytes.cancel()
      throw new Stop(problem)
    }
    bytes.reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await bytes.skip(position)
    return bytes
  }
}

/** A response body read in exact lengths, with an idle timeout; Stop when it ends short or fails. */
class ResponseBytes {
  reader?: ReadableStreamDefaultReader<Uint8Array>
  private rest?: Uint8Array
  private timer?: NodeJS.Timeout

  constructor (private readonly idle: AbortController, private readonly idleTimeoutMs: number) {}

  touch (): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.idle.abort(new IpcrError('ERR_TIMEOUT', `no byte for ${this.idleTimeoutMs} ms`)) }, this.idleTimeoutMs)
  }

  /** The next `length` bytes, as the chunks they came in (cut to fit); with `keep` false, dropped. */
  async take (length: number, keep = true): Promise<Uint8Array[]> {
    const chunks: Uint8Array[] = []
    let missing = length
    while (missing > 0) {
      let chunk = this.rest
      this.rest = undefined
      if (chunk == null) {
        let next: { done: boolean, value?: Uint8Array }
        try {
          next = await (this.reader as ReadableStreamDefaultReader<Uint8Array>).read()
        } catch (err: any) {
          throw new Stop(this.idle.signal.aborted ? String(this.idle.signal.reason?.message ?? 'timed out') : `the response failed: ${err?.cause?.code ?? err?.message ?? err}`)
        }
        if (next.done || next.value == null) throw new Stop(`the response ended ${missing} bytes short`)
        this.touch()
        chunk = next.value
      }
      if (chunk.byteLength > missing) {
        this.rest = chunk.subarray(missing)
        chunk = chunk.subarray(0, missing)
      }
      if (keep) chunks.push(chunk)
      missing -= chunk.byteLength
    }
    return chunks
  }

  async skip (length: number): Promise<void> {
    if (length > 0) await this.take(length, false)
  }

  cancel (): void {
    clearTimeout(this.timer)
    this.reader?.cancel().catch(() => {})
    this.idle.abort()
  }
}
