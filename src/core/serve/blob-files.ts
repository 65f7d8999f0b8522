import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, rename, stat, unlink } from 'node:fs/promises'
import { once } from 'node:events'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import type { ByteRange } from './range.js'

/**
 * Whole blobs kept as files by digest (`<dir>/sha256/<hex>`), as a registry keeps them, so a
 * blob served again is read in large pieces instead of block by block. A file is written only
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

  /** The bytes `range` of a kept blob. */
  read (path: string, range: ByteRange): Readable {
    return createReadStream(path, { start: range.start, end: range.end - 1, highWaterMark: 1024 * 1024 })
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
