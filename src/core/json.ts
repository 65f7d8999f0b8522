import { quote } from './escape.js'

/** How deep and how large a JSON text is, read from its bytes without parsing it. */
export interface JsonShape {
  /** Deepest nesting of arrays and objects. */
  depth: number
  /** Values counted at '{', '[' and ',' outside strings (a close upper bound of the parse's work). */
  values: number
}

/**
 * Scans JSON bytes for nesting and value count, stopping as soon as either
 * passes its limit, so a parse (and every recursive walk after it, such as
 * JSON.stringify in an error message) never sees a deeper or larger document.
 * Returns what is wrong, or undefined.
 */
export function checkJsonShape (bytes: Uint8Array, limits: JsonShape): string | undefined {
  let depth = 0
  let values = 1
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (inString) {
      if (b === 0x5c) i++ // backslash: skip the escaped byte
      else if (b === 0x22) inString = false
      continue
    }
    if (b === 0x22) {
      inString = true
    } else if (b === 0x7b || b === 0x5b) {
      if (++depth > limits.depth) return `is nested deeper than ${limits.depth} levels`
      if (++values > limits.values) return `has more than ${limits.values} values`
    } else if (b === 0x7d || b === 0x5d) {
      depth--
    } else if (b === 0x2c) {
      if (++values > limits.values) return `has more than ${limits.values} values`
    }
  }
  return undefined
}

/** A short, safe description of a JSON value from outside, for an error message. */
export function describeValue (value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (typeof value === 'string') return quote(value, 64)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}
