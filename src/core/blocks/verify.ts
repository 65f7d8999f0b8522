import { createHash } from 'node:crypto'
import type { CID } from 'multiformats/cid'
import { DigestMismatchError, IpcrError } from '../errors.js'

const IDENTITY = 0x00
export const SHA2_256 = 0x12

/** Throws DigestMismatchError unless `bytes` hash to `cid`; supports sha2-256 and identity multihashes. */
export function verifyBlock(cid: CID, bytes: Uint8Array): void {
  verifyChunks(cid, [bytes])
}

/** verifyBlock for a block that came in pieces, without joining them. */
export function verifyChunks(cid: CID, chunks: Uint8Array[]): void {
  const { code, digest } = cid.multihash
  let actual: Uint8Array
  if (code === SHA2_256) {
    const hash = createHash('sha256')
    for (const chunk of chunks) hash.update(chunk)
    actual = hash.digest()
  } else if (code === IDENTITY) {
    actual = chunks.length === 1 ? chunks[0] as Uint8Array : Buffer.concat(chunks)
  } else {
    throw new IpcrError('ERR_UNSUPPORTED_HASH', `Cannot verify block ${cid}: unsupported multihash 0x${code.toString(16)} (only sha2-256 and identity)`)
  }
  if (!equalBytes(actual, digest)) {
    throw new DigestMismatchError(`Block bytes do not match CID ${cid}`)
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}
