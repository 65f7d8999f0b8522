import type { CID } from 'multiformats/cid'
import { DigestMismatchError, RedirectError, throwIfAborted } from '../errors.js'
import { httpFetch } from '../http.js'
import { declaredFileSize, readBlock, type ContentOptions } from '../unixfs/content.js'
import { fileParts } from '../unixfs/parts.js'
import { fileSlice } from '../unixfs/range.js'
import { urlUnder } from '../url.js'
import { StreamedAnswerSource, type AnswerClock, type StreamedAnswerOptions } from './streamed-answer.js'
import type { BlockSource } from './types.js'
import { SHA2_256, verifyChunks } from './verify.js'

export type GatewayFileOptions = StreamedAnswerOptions

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
export class GatewayFileSource extends StreamedAnswerSource {
  /** Why this gateway is asked for no more files in this run. */
  unusable?: string

  constructor (url: string, options: GatewayFileOptions = {}) {
    super(url, 'files', options)
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
        try {
          verifyChunks(leaf, chunks)
        } catch (err) {
          if (!(err instanceof DigestMismatchError)) throw err
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
    const clock = this.clock(signal)
    const bytes = new ResponseBytes(clock)
    let response: Response
    try {
      response = await httpFetch(url, { label: this.gateway.label, headers, signal: clock.signal, fetch: this.fetch, anonymous: this.gateway.authorization == null })
    } catch (err: any) {
      const expired = clock.expired()
      bytes.cancel()
      throwIfAborted(signal)
      if (err instanceof RedirectError) this.unusable = err.message
      throw new Stop(expired ?? `network error: ${err?.cause?.code ?? err?.message ?? err}`)
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

/** A response body read in exact lengths, within its clock's limits; Stop when it ends short or fails. */
class ResponseBytes {
  reader?: ReadableStreamDefaultReader<Uint8Array>
  private rest?: Uint8Array

  constructor (private readonly clock: AnswerClock) {}

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
          throw new Stop(this.clock.expired() ?? `the response failed: ${err?.cause?.code ?? err?.message ?? err}`)
        }
        if (next.done || next.value == null) throw new Stop(`the response ended ${missing} bytes short`)
        this.clock.touch()
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
    this.reader?.cancel().catch(() => {})
    this.clock.stop()
  }
}
