import { open, type FileHandle } from 'node:fs/promises'
import { readBlockHead, readHeader } from '@ipld/car/decoder'
import { CID } from 'multiformats/cid'
import { BlockNotFoundError, InputError, throwIfAborted } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { blockKey } from './key.js'
import { MAX_BLOCK_BYTES, type BlockSource } from './types.js'
import { verifyBlock } from './verify.js'

interface BlockLocation { cid: CID, offset: number, length: number }

/**
 * Options of `get` a caller may add: `buffers` lends the memory the block is read into, for a
 * caller that gives it back once done (sources that do not know it allocate as usual).
 */
export interface BlockBufferOptions extends AbortOptions {
  buffers?: { take: (length: number) => Uint8Array }
}

export interface CarSourceOptions extends AbortOptions {
  /** Default MAX_BLOCK_BYTES, as for every block source; a larger block is refused when read. */
  maxBlockBytes?: number
}

/**
 * Reads blocks from a CAR file (v1 or v2). `open` indexes block offsets in one pass,
 * skipping over block bytes; `get` reads one block and verifies it.
 */
export class CarBlockSource implements BlockSource {
  readonly label: string
  readonly path: string
  readonly roots: CID[]
  private readonly file: FileHandle
  private readonly index: Map<string, BlockLocation>
  private readonly maxBlockBytes: number

  private constructor(path: string, file: FileHandle, roots: CID[], index: Map<string, BlockLocation>, maxBlockBytes: number) {
    this.maxBlockBytes = maxBlockBytes
    this.path = path
    this.label = `CAR ${path}`
    this.file = file
    this.roots = roots
    this.index = index
  }

  static async open(path: string, options?: CarSourceOptions): Promise<CarBlockSource> {
    const file = await open(path, 'r')
    try {
      const { size } = await file.stat()
      const reader = new FileReader(file, size)
      let header
      try {
        header = await readHeader(reader)
      } catch (err: any) {
        throw new InputError(path, `not a CAR file: ${err?.message ?? err}`, { cause: err })
      }
      const end = header.version === 2 ? header.dataOffset + header.dataSize : size
      if (end > size) throw new InputError(path, 'CAR file is truncated')
      const index = new Map<string, BlockLocation>()
      let count = 0
      while (reader.pos < end) {
        if (++count % 4096 === 0) throwIfAborted(options?.signal)
        const first = await reader.upTo(1)
        if (first[0] === 0) break // zero padding after the data (CARv2)
        let head
        try {
          head = await readBlockHead(reader)
        } catch (err: any) {
          throw new InputError(path, `bad block section at byte ${reader.pos}: ${err?.message ?? err}`, { cause: err })
        }
        const offset = reader.pos
        if (offset + head.blockLength > end) throw new InputError(path, 'CAR file is truncated')
        const key = blockKey(head.cid)
        // The decoded CID is a view into the read window: keep a copy, not the window.
        if (!index.has(key)) index.set(key, { cid: copyCid(head.cid), offset, length: head.blockLength })
        reader.seek(head.blockLength)
      }
      return new CarBlockSource(path, file, header.roots.map(copyCid), index, options?.maxBlockBytes ?? MAX_BLOCK_BYTES)
    } catch (err) {
      await file.close()
      throw err
    }
  }

  get blockCount(): number {
    return this.index.size
  }

  has(cid: CID): boolean {
    return this.index.has(blockKey(cid))
  }

  /** The CIDs of every block, in file order. */
  * cids(): IterableIterator<CID> {
    for (const { cid } of this.index.values()) yield cid
  }

  async get(cid: CID, options?: BlockBufferOptions): Promise<Uint8Array> {
    throwIfAborted(options?.signal)
    const location = this.index.get(blockKey(cid))
    if (location == null) throw new BlockNotFoundError(`Block ${cid} not found in ${this.label}`)
    if (location.length > this.maxBlockBytes) throw new InputError(this.path, `block ${cid} is ${location.length} bytes, more than the ${this.maxBlockBytes} a block may have`)
    const bytes = options?.buffers?.take(location.length) ?? new Uint8Array(location.length)
    let done = 0
    while (done < bytes.length) {
      const { bytesRead } = await this.file.read(bytes, done, bytes.length - done, location.offset + done)
      if (bytesRead === 0) throw new BlockNotFoundError(`Block ${cid} is truncated in ${this.label}`)
      done += bytesRead
    }
    verifyBlock(cid, bytes)
    return bytes
  }

  async close(): Promise<void> {
    await this.file.close()
  }
}

function copyCid(cid: CID): CID {
  return CID.decode(cid.bytes.slice())
}

const WINDOW = 64 * 1024

/**
 * A seekable BytesReader over a file: reads through a small window, reused from one read to the
 * next (bytes it returned are valid until the next read), and seeking skips without reading.
 */
class FileReader {
  pos = 0
  private buffer = new Uint8Array(0)
  private window = new Uint8Array(0)
  private windowStart = 0
  private readonly file: FileHandle
  private readonly size: number

  constructor(file: FileHandle, size: number) {
    this.file = file
    this.size = size
  }

  async upTo(length: number): Promise<Uint8Array> {
    await this.fill(length)
    const start = this.pos - this.windowStart
    return this.window.subarray(start, start + length)
  }

  async exactly(length: number, seek = false): Promise<Uint8Array> {
    const bytes = await this.upTo(length)
    if (bytes.length < length) throw new Error('Unexpected end of data')
    if (seek) this.pos += length
    return bytes
  }

  seek(length: number): void {
    this.pos += length
  }

  private async fill(length: number): Promise<void> {
    const start = this.pos - this.windowStart
    if (start >= 0 && start + length <= this.window.length) return
    const want = Math.min(Math.max(length, WINDOW), Math.max(0, this.size - this.pos))
    if (this.buffer.length < want) this.buffer = new Uint8Array(Math.max(want, WINDOW))
    const buffer = this.buffer
    let done = 0
    while (done < want) {
      const { bytesRead } = await this.file.read(buffer, done, want - done, this.pos + done)
      if (bytesRead === 0) break
      done += bytesRead
    }
    this.window = buffer.subarray(0, done)
    this.windowStart = this.pos
  }
}
