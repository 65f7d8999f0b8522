import { IpcrError } from '../errors.js'
import { silentLogger, type Logger } from '../logger.js'
import { parseServiceUrl, type ServiceUrl } from '../url.js'
import { MAX_BLOCK_BYTES } from './types.js'

/** Most time without a byte from a gateway answer streamed whole (a CAR, a file), by default. */
export const ANSWER_IDLE_MS = 30_000
/** Most time for one such answer, by default. */
export const ANSWER_DEADLINE_MS = 30 * 60_000

/** Options of a gateway source whose answers stream whole (CARs, files). */
export interface StreamedAnswerOptions {
  /** Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch
  /** Most time without a byte from the gateway (headers or body); default ANSWER_IDLE_MS. */
  idleTimeoutMs?: number
  /** Most time for one whole answer; default ANSWER_DEADLINE_MS. */
  deadlineMs?: number
  /** Largest block accepted; default 4 MiB. */
  maxBlockBytes?: number
  logger?: Logger
}

/**
 * The time limits of one streamed gateway answer: `signal` aborts when no touch() came for
 * `idleMs`, when `deadlineMs` have passed since the start, or when the caller's signal aborts.
 */
export class AnswerClock {
  readonly signal: AbortSignal
  private readonly idle = new AbortController()
  private readonly deadline: AbortSignal
  private timer?: NodeJS.Timeout
  private stopped = false

  constructor (private readonly idleMs: number, private readonly deadlineMs: number, caller?: AbortSignal) {
    this.deadline = AbortSignal.timeout(deadlineMs)
    this.signal = AbortSignal.any([this.idle.signal, this.deadline, ...(caller != null ? [caller] : [])])
    this.touch()
  }

  /** A byte came: the idle limit starts again. */
  touch (): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.idle.abort(new IpcrError('ERR_TIMEOUT', `no byte for ${this.idleMs} ms`)) }, this.idleMs)
  }

  /** Which limit ended the answer, in words; undefined when neither did. */
  expired (): string | undefined {
    if (this.stopped) return undefined
    if (this.deadline.aborted) return `not done within ${this.deadlineMs / 1000} s`
    if (this.idle.signal.aborted) return `no byte for ${this.idleMs / 1000} s`
    return undefined
  }

  /** The answer is over: no more timer, and whatever still reads it stops. */
  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.idle.abort()
  }
}

/** A gateway source whose answers stream whole: the gateway, and the limits of its answers. */
export abstract class StreamedAnswerSource {
  readonly label: string
  protected readonly gateway: ServiceUrl
  protected readonly fetch: typeof globalThis.fetch
  protected readonly maxBlockBytes: number
  protected readonly logger: Logger
  private readonly idleTimeoutMs: number
  private readonly deadlineMs: number

  /** `what` the answers are, for the label: `gateway <origin> (<what>)`. */
  constructor (url: string, what: string, options: StreamedAnswerOptions) {
    this.gateway = parseServiceUrl(url, 'gateways')
    this.label = `gateway ${this.gateway.label} (${what})`
    this.fetch = options.fetch ?? globalThis.fetch
    this.idleTimeoutMs = options.idleTimeoutMs ?? ANSWER_IDLE_MS
    this.deadlineMs = options.deadlineMs ?? ANSWER_DEADLINE_MS
    this.maxBlockBytes = options.maxBlockBytes ?? MAX_BLOCK_BYTES
    this.logger = options.logger ?? silentLogger
  }

  /** The clock of one answer, stopped early by `signal` too. */
  protected clock (signal?: AbortSignal): AnswerClock {
    return new AnswerClock(this.idleTimeoutMs, this.deadlineMs, signal)
  }
}
