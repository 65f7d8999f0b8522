import { randomBytes } from 'node:crypto'
import { open, rename, stat, type FileHandle } from 'node:fs/promises'
import * as dagPb from '@ipld/dag-pb'
import { varint } from 'multiformats'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import type { BlockSink, PutOptions } from '../blocks/types.js'
import { InputError, IpcrError, throwIfAborted } from '../errors.js'
import { quote } from '../escape.js'
import { registerTemporary, releaseTemporary, removeTemporary } from '../interrupt.js'
import { encodeCarHeader } from './header.js'

/** A CIDv1 dag-pb sha2-256 of zeros: reserves the header space of the real root. */
const PLACEHOLDER_ROOT = CID.createV1(dagPb.code, Digest.create(0x12, new Uint8Array(32)))
const MAX_IOVECS = 1024
/**
 * A write call stops adding chunks once it holds this many bytes. Writes of
 * about 1 MiB measured cheaper in the kernel than writes of 16 MiB of the same
 * bytes (bench, 600 MiB: half the system time), while small blocks still share a call.
 */
const WRITE_BYTES = 1024 * 1024
const COPY_CHUNK = 1024 * 1024

interface Batch { chunks: Uint8Array[], done: Promise<void> }

/**
 * Streams a CARv1 file whose root is known only at the end. Blocks go to `<path>.partial`
 * behind a placeholder header; `close(root)` writes the real header and renames the file to `path`.
 * Concurrent puts are coalesced into one positional write. A put resolves at once while less than
 * WRITE_BEHIND_BYTES wait to be written, else when its bytes are written; a failed write surfaces
 * at the next put or at close().
 */
const WRITE_BEHIND_BYTES = 16 * 1024 * 1024

export class CarFileWriter implements BlockSink {
  readonly path: string
  private readonly partialPath: string
  private readonly file: FileHandle
  private readonly headerLength: number
  private readonly seen = new Set<string>()
  private blocks = 0
  private bytes: number
  private written: number
  private pending: Batch | null = null
  /** Bytes accepted by put() whose write has not finished. */
  private unwritten = 0
  private tail: Promise<void> = Promise.resolve()
  private failure: unknown = null
  private state: 'open' | 'closed' | 'aborted' = 'open'

  private constructor(path: string, partialPath: string, file: FileHandle, headerLength: number, private readonly input: string) {
    this.path = path
    this.partialPath = partialPath
    this.file = file
    this.headerLength = headerLength
    this.bytes = headerLength
    this.written = headerLength
  }

  /** `input` names the option that gave `path` in errors (default `car-path`). */
  static async create(path: string, input = 'car-path'): Promise<CarFileWriter> {
    const partialPath = `${path}.partial`
    const isFolder = await stat(path).then((s) => s.isDirectory(), () => false)
    if (isFolder) throw new InputError(input, `${quote(path)} is a folder; give the path of a file to write, such as ${quote(`${path.replace(/\/+$/, '')}/registry.car`)}`)
    registerTemporary(partialPath)
    let file: FileHandle
    try {
      file = await open(partialPath, 'w+')
    } catch (err) {
      releaseTemporary(partialPath)
      throw writeError(err, input, path)
    }
    try {
      const header = encodeCarHeader([PLACEHOLDER_ROOT])
      await writeFully(file, header, 0)
      return new CarFileWriter(path, partialPath, file, header.length, input)
    } catch (err) {
      await file.close().catch(() => {})
      await removeTemporary(partialPath)
      throw writeError(err, input, path)
    }
  }

  /** Appends a block unless one with the same CID was already written. */
  async put(cid: CID, bytes: Uint8Array, options?: PutOptions): Promise<void> {
    this.assertOpen()
    throwIfAborted(options?.signal)
    const key = cid.toString()
    if (this.seen.has(key)) {
      options?.onWritten?.()
      return
    }
    this.seen.add(key)
    const sectionLength = cid.bytes.length + bytes.length
    const prefix = varint.encodeTo(sectionLength, new Uint8Array(varint.encodingLength(sectionLength)))
    this.blocks++
    this.bytes += prefix.length + sectionLength
    const size = prefix.length + sectionLength
    this.unwritten += size
    const done = this.enqueue(bytes.length === 0 ? [prefix, cid.bytes] : [prefix, cid.bytes, bytes])
      .finally(() => { this.unwritten -= size })
    const onWritten = options?.onWritten
    done.then(onWritten, () => {})
    // Write-behind: the caller goes on hashing while the disk catches up, up to a bound.
    if (this.unwritten > WRITE_BEHIND_BYTES) await done
  }

  has(cid: CID): boolean {
    return this.seen.has(cid.toString())
  }

  get blockCount(): number {
    return this.blocks
  }

  /** Bytes of the CAR so far, header included. */
  get byteCount(): number {
    return this.bytes
  }

  /** Writes the real header and moves the file to `path`. */
  async close(root: CID): Promise<{ path: string, blocks: number, bytes: number }> {
    this.assertOpen()
    this.state = 'closed'
    try {
      await this.tail
      if (this.failure != null) throw this.failure
      const header = encodeCarHeader([root])
      if (header.length === this.headerLength) {
        await writeFully(this.file, header, 0)
        await this.file.close()
        await rename(this.partialPath, this.path)
        releaseTemporary(this.partialPath)
      } else {
        await this.file.close()
        await this.rewriteWithHeader(header)
      }
      return { path: this.path, blocks: this.blocks, bytes: this.bytes - this.headerLength + header.length }
    } catch (err) {
      await this.file.close().catch(() => {})
      await removeTemporary(this.partialPath)
      throw writeError(err, this.input, this.path)
    }
  }

  /** Stops writing and deletes the partial file. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return
    this.state = 'aborted'
    await this.tail
    await this.file.close().catch(() => {})
    await removeTemporary(this.partialPath)
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new IpcrError('ERR_CAR_CLOSED', `CAR writer for ${this.path} is ${this.state}`)
    if (this.failure != null) throw this.failure
  }

  /** Adds chunks to the next write; resolves when that write is done. */
  private async enqueue(chunks: Uint8Array[]): Promise<void> {
    if (this.pending == null) {
      const batch: Batch = { chunks: [], done: Promise.resolve() }
      batch.done = this.tail.then(async () => {
        if (this.pending === batch) this.pending = null
        if (this.failure != null) throw this.failure
        const length = batch.chunks.reduce((sum, chunk) => sum + chunk.length, 0)
        const position = this.written
        this.written += length
        try {
          await writeChunks(this.file, batch.chunks, position)
        } catch (err) {
          this.failure ??= writeError(err, this.input, this.path)
          throw err
        }
      })
      this.tail = batch.done.catch(() => {})
      this.pending = batch
    }
    for (const chunk of chunks) this.pending.chunks.push(chunk)
    await this.pending.done
  }

  /** For a root whose CID length differs from the placeholder's: copies the blocks behind a new header. */
  private async rewriteWithHeader(header: Uint8Array): Promise<void> {
    const temp = `${this.path}.${randomBytes(6).toString('hex')}.partial`
    registerTemporary(temp)
    const input = await open(this.partialPath, 'r')
    let output: FileHandle | undefined
    try {
      output = await open(temp, 'w')
      await writeFully(output, header, 0)
      const buffer = new Uint8Array(COPY_CHUNK)
      let from = this.headerLength
      let to = header.length
      for (;;) {
        const { bytesRead } = await input.read(buffer, 0, buffer.length, from)
        if (bytesRead === 0) break
        await writeFully(output, buffer.subarray(0, bytesRead), to)
        from += bytesRead
        to += bytesRead
      }
      await output.close()
      await input.close()
      await rename(temp, this.path)
      releaseTemporary(temp)
      await removeTemporary(this.partialPath)
    } catch (err) {
      await output?.close().catch(() => {})
      await input.close().catch(() => {})
      await removeTemporary(temp)
      throw err
    }
  }
}

async function writeFully(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  await writeChunks(file, [bytes], position)
}

/** Positional vectored write of every chunk, resuming after short writes. */
async function writeChunks(file: FileHandle, chunks: Uint8Array[], position: number): Promise<void> {
  let queue = chunks.filter((chunk) => chunk.length > 0)
  while (queue.length > 0) {
    let count = 0
    let bytes = 0
    while (count < queue.length && count < MAX_IOVECS && bytes < WRITE_BYTES) bytes += (queue[count++] as Uint8Array).length
    const { bytesWritten } = await file.writev(queue.slice(0, count), position)
    position += bytesWritten
    let skip = bytesWritten
    let used = 0
    while (used < queue.length && skip >= (queue[used] as Uint8Array).length) {
      skip -= (queue[used] as Uint8Array).length
      used++
    }
    queue = queue.slice(used)
    if (skip > 0) queue[0] = (queue[0] as Uint8Array).subarray(skip)
    if (bytesWritten === 0 && queue.length > 0) throw new IpcrError('ERR_WRITE', 'short write: no progress')
  }
}

const PATH_PROBLEMS: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of it is not a folder',
  EISDIR: 'it is a folder; give the path of a file to write',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only'
}

/** A system error while writing the CAR, naming the input and the path instead of `<path>.partial`. */
function writeError (err: unknown, input: string, path: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (err instanceof IpcrError || typeof code !== 'string') return err
  const problem = PATH_PROBLEMS[code]
  if (problem != null) return new InputError(input, `cannot write the CAR to ${quote(path)}: ${problem} (${code})`, { cause: err })
  return new IpcrError('ERR_WRITE', `Cannot write the CAR to ${quote(path)} (${input}): ${(err as Error).message.replace(`${path}.partial`, path)}`, { cause: err })
}
