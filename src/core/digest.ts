import { DigestMismatchError } from './errors.js'
import { OffThreadSha256 } from './hash-worker.js'

/**
 * Passes `source` through while hashing it, and throws DigestMismatchError at
 * the end if the bytes do not match `digest` (sha256:<hex>) or `size`.
 */
export async function * verifyDigest (source: AsyncIterable<Uint8Array>, expected: { digest: string, size?: number, label: string }): AsyncGenerator<Uint8Array> {
  if (!expected.digest.startsWith('sha256:')) {
    throw new DigestMismatchError(`${expected.label}: unsupported digest algorithm in '${expected.digest}' (expected sha256)`)
  }
  const hash = new OffThreadSha256()
  let size = 0
  let actual: string
  try {
    for await (const chunk of source) {
      await hash.update(chunk)
      size += chunk.length
      yield chunk
    }
    actual = `sha256:${await hash.digest()}`
  } finally {
    hash.dispose()
  }
  if (actual !== expected.digest) {
    throw new DigestMismatchError(`${expected.label}: content hashes to ${actual}, expected ${expected.digest}`)
  }
  if (expected.size != null && size !== expected.size) {
    throw new DigestMismatchError(`${expected.label}: ${size} bytes, expected ${expected.size}`)
  }
}
