import { InputError } from './errors.js'

/** Units a size may carry: decimal (KB, MB, …) and binary (KiB, MiB, …); case does not matter. */
const UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40
}

/** Parses a positive size such as `1048576`, `512MiB`, `100GiB` or `2TB`; InputError naming `input` otherwise. */
export function parseSize (value: string, input: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
  const unit = UNITS[(match?.[2] ?? '').toLowerCase()]
  const size = match != null && unit != null ? Math.floor(Number(match[1]) * unit) : NaN
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new InputError(input, `'${value}' is not a size (expected a positive number of bytes, optionally with a unit: KB, MB, GB, TB, KiB, MiB, GiB, TiB)`)
  }
  return size
}

/** Parses a positive whole count; InputError naming `input` otherwise. */
export function parseCount (value: string, input: string): number {
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) <= 0) {
    throw new InputError(input, `'${value}' is not a positive whole number`)
  }
  return Number(value)
}

/** A limit as a person reads it: `64 GiB` for whole binary units, else bytes. */
export function formatSize (bytes: number): string {
  for (const [unit, size] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`
  }
  return `${bytes} bytes`
}
