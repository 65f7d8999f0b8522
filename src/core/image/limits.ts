import { InputError } from '../errors.js'

/**
 * How much a compressed tarball or layer may inflate to, by default: 20 times
 * its compressed size (images compress 2–5×; 4× headroom above the most),
 * and never less than 1 GiB (small archives are mostly tar padding, which
 * compresses far better).
 */
export const DECOMPRESSION_RATIO = 20
export const DECOMPRESSION_FLOOR = 1024 ** 3

export function defaultDecompressedLimit (compressedSize: number): number {
  return Math.max(DECOMPRESSION_FLOOR, DECOMPRESSION_RATIO * compressedSize)
}

/** Bounds on the lists an image archive's JSON may hold, and on its JSON in all. */
export const IMAGE_LIMITS = {
  /** Entries of one index (index.json or a nested index) or of manifest.json. */
  entries: 10_000,
  /** Layers of one image. */
  layers: 10_000,
  /** Manifests and indexes visited in all. */
  manifests: 10_000,
  /** RepoTags of one manifest.json entry, and names in all. */
  repoTags: 10_000,
  /** Bytes of manifests, indexes and configs read in all. */
  jsonBytes: 128 * 1024 * 1024
} as const

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4
}

/** Parses a size such as `20GiB`, `500MB`, `1.5 GiB` or `1048576` (bytes); `input` names it in errors. */
export function parseByteSize (value: string, input: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value)
  const unit = UNITS[(match?.[2] ?? '').toLowerCase()]
  const bytes = match != null && unit != null ? Math.floor(Number(match[1]) * unit) : NaN
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new InputError(input, `'${value}' is not a size (expected a positive number of bytes, optionally with a unit: KB, MB, GB, TB, KiB, MiB, GiB, TiB)`)
  }
  return bytes
}
