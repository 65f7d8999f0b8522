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
