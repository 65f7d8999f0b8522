import { createHash } from 'node:crypto'
import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../blocks/types.js'
import { DigestMismatchError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { fileContent, type ContentOptions } from '../unixfs/content.js'
import { fileSlice } from '../unixfs/range.js'
import type { ByteRange } from './range.js'
import type { TreeFile } from './repository.js'
import { trimOldest } from './bounded.js'

/** Files checked against their digest, remembered. */
const KEPT_FILES = 100_000

/**
 * Files (by UnixFS root CID) whose whole content was hashed and matched a digest. The CID fixes
 * the bytes, so a range of such a file can be read directly, without hashing it again.
 */
export class VerifiedFiles {
  private readonly keys = new Set<string>()

  has (file: TreeFile, digest: string): boolean {
    return this.keys.has(`${file.cid.toString()} ${digest}`)
  }

  add (file: TreeFile, digest: string): void {
    this.keys.add(`${file.cid.toString()} ${digest}`)
    trimOldest(this.keys, KEPT_FILES)
  }
}

export interface BlobStreamOptions extends AbortOptions {
  verified: VerifiedFiles
  /** Blocks read ahead; default READ_AHEAD (content.ts). */
  readAhead?: number
  /** Reads a file whole (when it is not yet known to match); default fileContent, block by block from `source`. */
  read?: (cid: CID, source: BlockSource, options: ContentOptions) => AsyncIterable<Uint8Array>
}

/**
 * The bytes `range` of blob `digest` stored in `file`, chunk by chunk, memory bounded by the
 * read-ahead. A file not yet known to match its digest is read whole and hashed as it streams
 * (bytes outside the range are read, not yielded); the last chunk is held back until the hash
 * is checked, so a file that does not match ends in a DigestMismatchError before its last
 * byte is given out, and a client never receives the whole of a wrong blob.
 */
export async function * blobStream (file: TreeFile, digest: string, range: ByteRange, source: BlockSource, options: BlobStreamOptions): AsyncGenerator<Uint8Array> {
  const { signal, readAhead, verified, read = fileContent } = options
  if (verified.has(file, digest)) {
    yield * fileSlice(file.cid, source, range.start, range.end, { signal, readAhead, block: file.block })
    return
  }
  const hash = createHash('sha256')
  let held: Uint8Array | undefined
  let position = 0
  for await (const chunk of read(file.cid, source, { signal, readAhead, block: file.block })) {
    hash.update(chunk)
    const from = Math.max(0, range.start - position)
    const to = Math.min(chunk.byteLength, range.end - position)
    position += chunk.byteLength
    if (to <= from) continue
    if (held != null) yield held
    held = chunk.subarray(from, to)
  }
  const actual = `sha256:${hash.digest('hex')}`
  if (actual !== digest) throw new DigestMismatchError(`blob ${file.cid} is stored as ${digest} but hashes to ${actual}`)
  verified.add(file, digest)
  if (held != null) yield held
}
