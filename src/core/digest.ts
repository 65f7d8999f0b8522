import { DigestMismatchError } from './errors.js'

/** Throws DigestMismatchError naming `label` unless sha256 `hex` and `size` match what the image says. */
export function checkDigest (hex: string, size: number, expected: { digest: string, size?: number, label: string }): void {
  if (!expected.digest.startsWith('sha256:')) {
    throw new DigestMismatchError(`${expected.label}: unsupported digest algorithm in '${expected.digest}' (expected sha256)`)
  }
  const actual = `sha256:${hex}`
  if (actual !== expected.digest) {
    throw new DigestMismatchError(`${expected.label}: content hashes to ${actual}, expected ${expected.digest}`)
  }
  if (expected.size != null && size !== expected.size) {
    throw new DigestMismatchError(`${expected.label}: ${size} bytes, expected ${expected.size}`)
  }
}
