import { InputError } from '../errors.js'
import { quote } from '../escape.js'

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
/** Go's time.ParseDuration limit (int64 nanoseconds, about 292 years). */
const MAX_DURATION_MS = 9_223_372_036_854

/**
 * A duration in Go syntax, as Kubo's `name publish --lifetime` and `--ttl` read
 * it: `48h`, `1h30m`, `90s`, `1.5h` (units ns, us, ms, s, m, h; no days).
 * Returns milliseconds; refuses anything Kubo would refuse, and zero.
 */
export function parseDuration (value: string, input = 'ipns-lifetime'): number {
  const text = value.trim()
  const expected = "expected a Go duration such as '48h', '1h30m' or '90s' (units ns, us, ms, s, m, h; 2 days is '48h')"
  if (!/^(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.test(text)) throw new InputError(input, `${quote(value, 40)} is not a duration (${expected})`)
  let ms = 0
  for (const [, number, unit] of text.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) ms += Number(number) * (DURATION_UNITS[unit as string] as number)
  if (!(ms > 0)) throw new InputError(input, `${quote(value, 40)} is zero (${expected})`)
  if (ms > MAX_DURATION_MS) throw new InputError(input, `${quote(value, 40)} is longer than Kubo can take (at most about 2562047h)`)
  return ms
}
