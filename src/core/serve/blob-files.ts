import { randomBytes } from 'node:crypto'
import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises'
import { once } from 'node:events'
import { join } from 'node:path'
import type { ByteRange } from './range.js'

/** Chunks in flight while a kept blob is sent, and their size. */
const COPY_BUFFERS = 4
const COPY_BUFFER_BYTES = 1024 * 1024

/** Where a kept blob is sent: `write(chunk, done)` calls `done` once the chunk is written (http.ServerResponse does). */
export interface ChunkWriter {
  write: (chunk: Uint8Array, done: (err?: Error | null) => void) => boolean
}

/**
 * Whole blobs kept as files by digest (`<dir>/sha256/<hex>`), as a registry keeps them, so a
 * blob served again is read in large pieces, through a few reused buffers, instead of block by block. A file is written only
 * from a stream whose bytes matched the digest (blobStream checks it, or the same blob's blocks
 * were checked against the digest before), and moved into place once complete; clients check
 * the digest of what they pull in any case.
 */
export class BlobFiles {
  constructor (readonly dir: string) {}

  private pathOf (digest: string): string {
    return join(this.dir, 'sha256', digest.slice('sha256:'.length))
  }

  /** The blob's file when it is kept with `size` bytes. */
  async find (digest: string, size: number): Promise<string | undefined> {
    const path = this.pathOf(digest)
    const found = await stat(path).catch(() => undefined)
    return found?.isFile() === true && found.size === size ? path : undefined
  }

  /**
   * Writes the bytes `range` of a kept blob to `out` through a few reused buffers: none is made
   * per chunk for the garbage collector, and a buffer is read into again only once `out` has
   * written it.
   */
  async copy (path: string, range: ByteRange, out: ChunkWriter, signal?: AbortSignal): Promise<void> {
    const file = await open(path, 'r')
    const free: Buffer[] = Array.from({ length: COPY_BUFFERS }, () => Buffer.allocUnsafeSlow(COPY_BUFFER_BYTES))
    let wake: (() => void) | undefined
    let failure: unknown
    const stop = (): void => { failure ??= signal?.reason ?? new Error('aborted'); wake?.() }
    signal?.addEventListener('abort', stop, { once: true })
    /** Waits until a buffer comes back (or the copy failed). */
    const returned = async (): Promise<void> => { await new Promise<void>((resolve) => { wake = resolve }); wake = undefined }
    try {
      let position = range.start
      while (position < range.end) {
        while (free.length === 0 && failure == null) await returned()
        if (failure != null) throw failure
        const buffer = free.pop() as Buffer
        const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, range.end - position), position)
        if (bytesRead === 0) throw new Error(`${path} ended at byte ${position} of ${range.end}`)
        position += bytesRead
        out.write(buffer.subarray(0, bytesRead), (err) => {
          if (err != null) failure ??= err
          free.push(buffer)
          wake?.()
        })
      }
      // Every buffer back: every chunk written.
      while (free.length < COPY_BUFFERS && failure == null) await returned()
      if (failure != null) throw failure
    } finally {
      signal?.removeEventListener('abort', stop)
      await file.close()
    }
  }

  /** A file the blob's chunks are written to, in order; `commit` moves it into place, `abort` removes it. */
  async writer (digest: string): Promise<BlobFileWriter> {
    const path = this.pathOf(digest)
    await mkdir(join(this.dir, 'sha256'), { recursive: true })
    const temp = `${path}.${randomBytes(6).toString('hex')}.partial`
    return new BlobFileWriter(createWriteStream(temp, { flags: 'wx' }), temp, path)
  }
}

export class BlobFileWriter {
  constructor (private readonly stream: WriteStream, private readonly temp: string, private readonly path: string) {}

  async write (chunk: Uint8Array): Promise<void> {
    if (!this.stream.write(chunk)) await once(this.stream, 'drain')
  }

  async commit (): Promise<void> {
    await new Promise<void>((resolve, reject) => { this.stream.end((err?: Error | null) => { err != null ? reject(err) : resolve() }) })
    await rename(this.temp, this.path)
  }

  async abort (): Promise<void> {
    this.stream.destroy()
    await unlink(this.temp).catch(() => {})
  }
}
