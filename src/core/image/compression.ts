import { Transform } from 'node:stream'
import type { TransformCallback } from 'node:stream'
import * as zlib from 'node:zlib'

export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2'

/** How many leading bytes detectCompression needs. */
export const MAGIC_BYTES = 6

/** Detects a compression format from the first bytes of a stream. */
export function detectCompression (head: Uint8Array): Compression {
  const at = (i: number): number => head[i] ?? -1
  if (at(0) === 0x1f && at(1) === 0x8b) return 'gzip'
  if (at(0) === 0x28 && at(1) === 0xb5 && at(2) === 0x2f && at(3) === 0xfd) return 'zstd'
  if (at(0) === 0xfd && at(1) === 0x37 && at(2) === 0x7a && at(3) === 0x58 && at(4) === 0x5a && at(5) === 0x00) return 'xz'
  if (at(0) === 0x42 && at(1) === 0x5a && at(2) === 0x68) return 'bzip2'
  return 'none'
}

/** A zlib decompressor for `compression`, or undefined when this Node.js has none. */
export function createDecompressor (compression: 'gzip' | 'zstd'): NodeJS.ReadWriteStream | undefined {
  if (compression === 'gzip') return zlib.createGunzip()
  const createZstd = (zlib as any).createZstdDecompress as (() => NodeJS.ReadWriteStream) | undefined
  return createZstd?.()
}

/** Thrown by DecompressionLimit; the caller names the input. */
export class DecompressionLimitError extends Error {
  constructor (readonly limit: number) {
    super(`decompresses to more than ${limit} bytes`)
  }
}

/** Thrown by DecompressionLimit when the first block is not a tar header. */
export class NotTarError extends Error {}

/**
 * Passes decompressed bytes on until they would exceed `limit`, then fails
 * without passing the chunk that crosses it. With `firstBlock`, the first
 * 512 bytes must pass that check before anything is passed on.
 */
export class DecompressionLimit extends Transform {
  bytes = 0
  private head: Buffer | undefined

  constructor (private readonly limit: number, private readonly firstBlock?: (block: Buffer) => boolean) {
    super()
    if (firstBlock != null) this.head = Buffer.alloc(0)
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length
    if (this.bytes > this.limit) {
      callback(new DecompressionLimitError(this.limit))
      return
    }
    if (this.head == null) {
      callback(null, chunk)
      return
    }
    this.head = Buffer.concat([this.head, chunk])
    if (this.head.length < TAR_BLOCK) {
      callback()
      return
    }
    const head = this.head
    this.head = undefined
    if (this.firstBlock?.(head.subarray(0, TAR_BLOCK)) !== true) {
      callback(new NotTarError('the decompressed data does not start with a tar header'))
      return
    }
    callback(null, head)
  }

  override _flush (callback: TransformCallback): void {
    // Shorter than one block: passed on for the tar reader to refuse.
    callback(null, this.head != null && this.head.length > 0 ? this.head : undefined)
  }
}

const TAR_BLOCK = 512
