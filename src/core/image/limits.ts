
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
  jsonBytes: 128 * 1024 * 1024,
  /** Nesting of one JSON file: OCI documents need 5 or 6; deeper input could overflow a recursive walk. */
  jsonDepth: 32,
  /** Values of one JSON file ('{', '[' and ',' outside strings). */
  jsonValues: 4_000_000
} as const

