import type { Logger } from './logger.js'

export function formatBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}

/**
 * How often a progress line is printed by default: every second, so a
 * terminal or a CI log being watched never looks stuck. A shell whose output
 * nobody watches live (e.g. redirected to a file) may pass a longer interval.
 */
export const PROGRESS_INTERVAL_MS = 1000

/** Prints a progress line at most every `intervalMs` while bytes are processed. */
export class Progress {
  private done = 0
  private lastReport = 0
  private readonly started = Date.now()

  /** `total` undefined: the size is not known in advance (the line shows bytes so far). */
  constructor (
    private readonly logger: Logger,
    private readonly label: string,
    private readonly total: number | undefined,
    private readonly intervalMs = PROGRESS_INTERVAL_MS
  ) {
    this.lastReport = this.started
  }

  add (bytes: number): void {
    this.set(this.done + bytes)
  }

  /** Sets the bytes done so far, e.g. from the size of a file another process writes. */
  set (done: number): void {
    this.done = done
    const now = Date.now()
    if (now - this.lastReport >= this.intervalMs) {
      this.lastReport = now
      this.logger.info(this.line(now))
    }
  }

  /** Sets the bytes done so far and prints the line now (for a caller that polls on its own timer). */
  report (done: number): void {
    this.done = done
    this.lastReport = Date.now()
    this.logger.info(this.line(this.lastReport))
  }

  finish (): void {
    this.logger.info(this.line(Date.now()))
  }

  private line (now: number): string {
    const seconds = Math.max((now - this.started) / 1000, 0.001)
    const rate = (this.done / 1e6 / seconds).toFixed(1)
    // No total, or one the work has already passed (a size declared by untrusted input): no percentage.
    if (this.total == null || this.done > this.total) return `${this.label}: ${formatBytes(this.done)}, ${rate} MB/s, ${Math.round(seconds)} s`
    const pct = this.total > 0 ? ` (${Math.floor((this.done / this.total) * 100)}%)` : ''
    return `${this.label}: ${formatBytes(this.done)} of ${formatBytes(this.total)}${pct}, ${rate} MB/s`
  }
}
