/** Bytes `start` to `end` (exclusive) of a blob. */
export interface ByteRange { start: number, end: number }

/**
 * The range a `Range` header asks of a blob of `size` bytes: `bytes=N-`, `bytes=N-M` or
 * `bytes=-N` (the last N bytes). Undefined means "the whole blob" (no header, another unit,
 * several ranges or a malformed one, which RFC 9110 lets a server ignore); 'unsatisfiable'
 * means a 416 (the range starts at or past the end, or asks for no bytes).
 */
export function parseRange (header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header == null) return undefined
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match == null) return undefined
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return undefined
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size }
  }
  const start = Number(first)
  if (!Number.isSafeInteger(start)) return 'unsatisfiable'
  if (last !== '' && Number(last) < start) return undefined
  if (start >= size) return 'unsatisfiable'
  const end = last === '' ? size : Math.min(size, Number(last) + 1)
  return { start, end }
}
