import { createHash } from 'node:crypto'
import { DigestMismatchError } from './errors.js'

/**
 * Passes `source` through while hashing it, and throws DigestMismatchError at
 * the end if the bytes do not match `digest` (sha256:<hex>) or `size`.
 */
export async function * verifyDigest (source: AsyncIterable<Uint8Array>, expected: { digest: string, size?: number, label: string }): AsyncGenerator<Uint8Array> {
  if (!expected.digest.startsWith('sha256:')) {
    throw new DigestMismatchError(`${expected.label}: unsupported digest algorithm in '${expected.digest}' (expected sha256)`)
  }
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of source) {
    hash.update(chunk)
    size += chunk.length
    yield chunk
  }
  const actual = `sha256:${hash.digest('hex')}`
  if (actual !== expected.digest) {
    throw new DigestMismatchError(`${expected.label}: content hashes to ${actual}, expected ${expected.digest}`)
  }
  if (expected.size != null && size !== expected.size) {
    throw new DigestMismatchError(`${expected.label}: ${size} bytes, expected ${expected.size}`)
  }
}
