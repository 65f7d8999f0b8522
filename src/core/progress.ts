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

/** Prints a progress line at most every `intervalMs` while bytes are processed. */
export class Progress {
  private done = 0
  private lastReport = 0
  private readonly started = Date.now()

  constructor (
    private readonly logger: Logger,
    private readonly label: string,
    private readonly total: number,
    private readonly intervalMs = 5000
  ) {
    this.lastReport = this.started
  }

  add (bytes: number): void {
    this.done += bytes
    const now = Date.now()
    if (now - this.lastReport >= this.intervalMs) {
      this.lastReport = now
      this.logger.info(this.line(now))
    }
  }

  finish (): void {
    this.logger.info(this.line(Date.now()))
  }

  private line (now: number): string {
    const seconds = Math.max((now - this.started) / 1000, 0.001)
    const pct = this.total > 0 ? ` (${Math.floor((this.done / this.total) * 100)}%)` : ''
    const rate = (this.done / 1e6 / seconds).toFixed(1)
    return `${this.label}: ${formatBytes(this.done)} of ${formatBytes(this.total)}${pct}, ${rate} MB/s`
  }
}
