import { createHash } from 'node:crypto'
import type { CID } from 'multiformats/cid'
import { DigestMismatchError, IpcrError } from '../errors.js'

const IDENTITY = 0x00
const SHA2_256 = 0x12

/** Throws DigestMismatchError unless `bytes` hash to `cid`; supports sha2-256 and identity multihashes. */
export function verifyBlock(cid: CID, bytes: Uint8Array): void {
  const { code, digest } = cid.multihash
  let actual: Uint8Array
  if (code === SHA2_256) {
    actual = createHash('sha256').update(bytes).digest()
  } else if (code === IDENTITY) {
    actual = bytes
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
