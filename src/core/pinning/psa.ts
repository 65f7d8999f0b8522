import type { CID } from 'multiformats/cid'
import type { Destination, DestinationContext, DestinationReport } from '../destinations/types.js'
import { InputError } from '../errors.js'
import { cutText, hasControl, quote } from '../escape.js'
import { silentLogger, type Logger, type OperationOptions } from '../logger.js'
import { addHeaderSecret, addSecret, remoteMessage } from '../redact.js'
import { sleep } from '../retry.js'
import { callService, callServiceJson, ServiceError } from '../service.js'
import { parseServiceUrl, urlUnder } from '../url.js'
import type { PinningServiceConfig } from './services.js'
import { DEFAULT_PIN_NAME, DEFAULT_PIN_TIMEOUT_MS } from '../destinations/defaults.js'

export { parsePinningServices, type PinningServiceConfig } from './services.js'

/**
 * A remote pinning service speaking the IPFS Pinning Service API v1.0.0
 * (Pinata, Filebase, 4EVERLAND, Kubo's `pin remote`, …). store() asks it to pin
 * the new root, naming this run's own peer as `origins` and dialling the
 * `delegates` it answers, then polls until the pin is `pinned` or `failed`, or
 * pin-timeout runs out. The registry's earlier pins are deleted in cleanup(),
 * after every name moved, never before: if anything fails, the name still
 * points at a root that stays pinned. (The spec's replace, POST /pins/{requestid},
 * may drop the old pin before the new one is pinned, so it is not used.)
 */

export type PinState = 'queued' | 'pinning' | 'pinned' | 'failed'

/** A pin request as the service reports it (the spec's PinStatus), checked. */
export interface PinStatus {
  requestid: string
  status: PinState
  created?: string
  cid: string
  name?: string
  meta?: Record<string, string>
  delegates: string[]
  info?: Record<string, string>
}

const STATES: readonly string[] = ['queued', 'pinning', 'pinned', 'failed']
/** The spec's limits: a pin name of at most 255 characters, at most 20 origins and delegates. */
const MAX_PIN_NAME = 255
const MAX_ORIGINS = 20
/** A pin status answer; a page of the pin list. */
const MAX_STATUS_BYTES = 256 * 1024
const MAX_LIST_BYTES = 16 * 1024 * 1024
const PAGE = 1000
const MAX_PAGES = 10
/** Polls start after FIRST_POLL_MS, doubling up to MAX_POLL_MS: a pin is seen within 5 s of finishing, at most 120 polls in the default 10 minutes. */
const FIRST_POLL_MS = 500
const MAX_POLL_MS = 5_000

function text (value: unknown): value is string {
  return typeof value === 'string'
}

function strings (value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value == null || Array.isArray(value)) return undefined
  return Object.fromEntries(Object.entries(value).filter(([, v]) => text(v))) as Record<string, string>
}

/** The service's answer as a PinStatus, or an error naming what is wrong with it. */
export function readPinStatus (value: unknown, label: string): PinStatus {
  const v = value as Record<string, unknown> | null
  const pin = v?.pin as Record<string, unknown> | undefined
  if (v == null || typeof v !== 'object' || !text(v.requestid) || v.requestid === '' || v.requestid.length > 1000 || !text(v.status) || typeof pin !== 'object' || pin == null || !text(pin.cid)) {
    throw new ServiceError(`${label}: the answer is not a pin status (expected requestid, status and pin.cid)`)
  }
  if (!STATES.includes(v.status)) throw new ServiceError(`${label}: unknown pin status ${quote(v.status, 40)} (expected queued, pinning, pinned or failed)`)
  const meta = strings(pin.meta)
  const info = strings(v.info)
  return {
    requestid: v.requestid,
    status: v.status as PinState,
    ...(text(v.created) ? { created: v.created } : {}),
    cid: pin.cid,
    ...(text(pin.name) ? { name: pin.name } : {}),
    ...(meta != null ? { meta } : {}),
    delegates: Array.isArray(v.delegates) ? v.delegates.filter(text).slice(0, MAX_ORIGINS) : [],
    ...(info != null ? { info } : {})
  }
}

/** The service's `info` in one safe line ("reason: …; details: …"). */
function infoText (info: Record<string, string> | undefined): string {
  if (info == null) return ''
  const line = Object.entries(info).map(([k, v]) => `${k}: ${v}`).join('; ')
  return line === '' ? '' : remoteMessage(line, 300)
}

export class PinningServiceDestination implements Destination {
  readonly kind = 'psa'
  readonly needsNetwork = true
  readonly label: string
  readonly required: boolean
  readonly name: string
  private readonly base: URL
  private readonly authorization: string
  private readonly input: string
  /** The pins of this registry when the run began: the only ones cleanup may remove, with this run's own. */
  private earlier = new Set<string>()
  private earlierPins: PinStatus[] = []
  private readonly own = new Set<string>()

  constructor (private readonly config: PinningServiceConfig, private readonly logger: Logger = silentLogger) {
    const input = this.input = config.input ?? 'pinning-services'
    const name = typeof config.name === 'string' ? config.name.trim() : ''
    if (name === '' || name.length > 100 || hasControl(name)) throw new InputError(input, 'each pinning service needs a name of 1 to 100 characters, without control characters')
    const token = typeof config.token === 'string' ? config.token.trim() : ''
    if (token !== '') addSecret(token)
    if (token === '' || /[\s\u0000-\u001f\u007f]/.test(token)) throw new InputError(input, `pinning service ${quote(name, 100)} needs a token (one line, no spaces)`)
    const url = parseServiceUrl(config.endpoint ?? '', input)
    if (url.authorization != null) throw new InputError(input, `pinning service ${quote(name, 100)}: give its token as the token, not as user:password in the endpoint`)
    if (url.url.search !== '') throw new InputError(input, `pinning service ${quote(name, 100)}: the endpoint is the API's base URL, without a query`)
    const pinName = config.pinName
    if (pinName != null && (pinName.trim() === '' || pinName.length > 100 || hasControl(pinName))) {
      // Every other pin of this registry's name is removed after a run: an empty name would match every pin.
      throw new InputError(input, 'the pin name must have 1 to 100 characters, without control characters')
    }
    if (config.timeoutMs != null && !(config.timeoutMs > 0)) throw new InputError(input, 'the pin timeout must be positive')
    this.name = name
    this.base = url.url
    this.authorization = `Bearer ${token}`
    addHeaderSecret(this.authorization)
    this.label = `pinning service '${name}' ${url.label}`
    this.required = config.required !== false
  }

  private get pinName (): string {
    return this.config.pinName ?? DEFAULT_PIN_NAME
  }

  private url (path: string, query?: Record<string, string>): URL {
    const url = urlUnder(this.base, path)
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v)
    return url
  }

  private async call<T> (method: string, path: string, options: { query?: Record<string, string>, body?: unknown, maxBytes?: number, accept?: number[], signal?: AbortSignal }): Promise<{ status: number, json: T | null }> {
    return await callServiceJson<T>(this.url(path, options.query), {
      label: this.label,
      method,
      headers: { Authorization: this.authorization, ...(options.body != null ? { 'Content-Type': 'application/json' } : {}) },
      ...(options.body != null ? { body: JSON.stringify(options.body) } : {}),
      maxBytes: options.maxBytes ?? MAX_STATUS_BYTES,
      ...(options.accept != null ? { accept: options.accept } : {}),
      ...(this.config.retries != null ? { retries: this.config.retries } : {}),
      logger: this.logger,
      ...(options.signal != null ? { signal: options.signal } : {})
    })
  }

  /** The service answers and takes the token (`GET /pins?limit=1`); notes this registry's pins as they are now. */
  async preflight (options: OperationOptions): Promise<void> {
    let answer: { json: { count?: unknown, results?: unknown } | null }
    try {
      answer = await this.call('GET', '/pins', { query: { limit: '1' }, signal: options.signal })
    } catch (err) {
      if (err instanceof ServiceError && (err.status === 401 || err.status === 403)) {
        throw new InputError(this.input, `${this.label} refused its token (HTTP ${err.status}): check the token given for '${this.name}'`, { cause: err })
      }
      throw err
    }
    if (typeof answer.json?.count !== 'number' || !Array.isArray(answer.json.results)) {
      throw new ServiceError(`${this.label}: GET /pins did not answer a pin list (count, results): is this a Pinning Service API endpoint?`)
    }
    this.earlierPins = await this.registryPins(options)
    this.earlier = new Set(this.earlierPins.map((p) => p.requestid))
    this.logger.info(`${this.label}: token accepted; ${this.earlier.size} earlier pin(s) of '${this.pinName}'`)
  }

  /** The pin's name: `<pinName> <repository>:<tag>,<tag>`, cut to the spec's 255 characters. */
  pinNameFor (context: DestinationContext): string {
    const tags = context.result.tags.map((t) => t.tag).join(',')
    return cutText(`${this.pinName} ${context.result.name}:${tags}`, MAX_PIN_NAME)
  }

  async store (context: DestinationContext): Promise<DestinationReport> {
    const { root, signal } = context
    // The same root pinned by an earlier run (a re-run that changed nothing): that pin serves.
    const existing = this.earlierPins.find((p) => p.cid === root.toString() && p.status === 'pinned')
    if (existing != null) {
      this.own.add(existing.requestid)
      this.logger.info(`${this.label}: ${root} is pinned already (request ${existing.requestid})`)
      return { kind: this.kind, label: this.label, details: { service: this.name, status: existing.status, requestId: existing.requestid, pinned: root.toString() } }
    }
    const origins = (context.network?.origins ?? []).slice(0, MAX_ORIGINS)
    if (context.network == null) this.logger.info(`${this.label}: this run serves no blocks (no origins): the service has to find them on the IPFS network`)
    const meta = {
      'ipcr-registry': this.pinName,
      repository: context.result.name,
      tags: context.result.tags.map((t) => t.tag).join(','),
      ...(context.result.revision != null ? { revision: cutText(context.result.revision, 100) } : {})
    }
    // No origins: the field is left out (some servers refuse an empty list, e.g. @helia/pinning-service-api-server).
    const body = { cid: root.toString(), name: this.pinNameFor(context), ...(origins.length > 0 ? { origins } : {}), meta }
    const created = await this.call('POST', '/pins', { body, signal })
    let status = readPinStatus(created.json, this.label)
    this.own.add(status.requestid)
    this.logger.info(`${this.label}: pin of ${root} requested (request ${status.requestid}, ${status.status}; ${origins.length} origin(s))`)
    if (status.delegates.length > 0 && context.network != null) {
      try {
        await context.network.dial(status.delegates, { signal })
      } catch (err) {
        // The service can still fetch from the origins it was given.
        this.logger.warn(`${this.label}: could not dial its delegates: ${remoteMessage((err as Error).message, 200)}`)
      }
    }
    status = await this.waitForPin(status, root, signal)
    this.logger.info(`${this.label}: ${root} pinned (request ${status.requestid})`)
    return { kind: this.kind, label: this.label, details: { service: this.name, status: status.status, requestId: status.requestid, pinned: root.toString() } }
  }

  /** Polls `GET /pins/{requestid}` with backoff until pinned (returned), failed or pin-timeout (thrown). */
  private async waitForPin (first: PinStatus, root: CID, signal?: AbortSignal): Promise<PinStatus> {
    const timeoutMs = this.config.timeoutMs ?? DEFAULT_PIN_TIMEOUT_MS
    const deadline = Date.now() + timeoutMs
    let status = first
    for (let delay = FIRST_POLL_MS; ; delay = Math.min(MAX_POLL_MS, delay * 2)) {
      if (status.cid !== root.toString()) throw new ServiceError(`${this.label}: request ${quote(status.requestid, 80)} is for ${quote(status.cid, 100)}, not ${root}`)
      if (status.status === 'pinned') return status
      if (status.status === 'failed') {
        const info = infoText(status.info)
        throw new ServiceError(`${this.label}: pinning ${root} failed (request ${quote(status.requestid, 80)})${info !== '' ? `: ${info}` : ''}`)
      }
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new ServiceError(`${this.label}: ${root} is still ${status.status} after ${Math.round(timeoutMs / 1000)} s (pin timeout; request ${quote(status.requestid, 80)})`)
      }
      await sleep(Math.min(delay, left), signal)
      const answer = await this.call('GET', `/pins/${encodeURIComponent(status.requestid)}`, { signal })
      status = readPinStatus(answer.json, this.label)
    }
  }

  /**
   * This registry's pins: listed by name (`<pinName> …`, partial match, every
   * status) and kept when their meta names this registry, or, where a service
   * drops meta, when their name starts with the pin name.
   */
  private async registryPins (options: OperationOptions): Promise<PinStatus[]> {
    const found: PinStatus[] = []
    let before: string | undefined
    for (let page = 0; page < MAX_PAGES; page++) {
      const query: Record<string, string> = { name: this.pinName, match: 'partial', status: STATES.join(','), limit: String(PAGE), ...(before != null ? { before } : {}) }
      const answer = await this.call<{ count?: unknown, results?: unknown }>('GET', '/pins', { query, maxBytes: MAX_LIST_BYTES, signal: options.signal })
      const results = Array.isArray(answer.json?.results) ? answer.json.results : []
      const pins: PinStatus[] = []
      for (const item of results) {
        try {
          pins.push(readPinStatus(item, this.label))
        } catch (err) {
          this.logger.warn(`${(err as Error).message} (in the pin list; skipped)`)
        }
      }
      found.push(...pins.filter((p) => this.ours(p)))
      const oldest = pins.at(-1)?.created
      if (results.length < PAGE || oldest == null || oldest === before) return found
      before = oldest
    }
    this.logger.warn(`${this.label}: more than ${MAX_PAGES * PAGE} pins named '${this.pinName}'; only the newest were read`)
    return found
  }

  private ours (pin: PinStatus): boolean {
    const registry = pin.meta?.['ipcr-registry']
    if (registry != null) return registry === this.pinName
    return pin.name === this.pinName || pin.name?.startsWith(`${this.pinName} `) === true
  }

  /**
   * Last, after every name moved: deletes this registry's pins of other roots
   * that were there when the run began or that this run made. Pins made since by
   * another publish stay. A failed delete is a warning: the next run retries it.
   */
  async cleanup (context: DestinationContext): Promise<void> {
    const options = { signal: context.signal }
    const root = context.root.toString()
    const pins = await this.registryPins(options)
    const stale = pins.filter((p) => p.cid !== root && (this.earlier.has(p.requestid) || this.own.has(p.requestid)))
    const later = pins.filter((p) => p.cid !== root && !this.earlier.has(p.requestid) && !this.own.has(p.requestid))
    if (later.length > 0) this.logger.info(`${this.label}: ${later.length} pin(s) of '${this.pinName}' made since this run began stay (another publish's)`)
    const removed: string[] = []
    for (const pin of stale) {
      try {
        await callService(this.url(`/pins/${encodeURIComponent(pin.requestid)}`), {
          label: this.label,
          method: 'DELETE',
          headers: { Authorization: this.authorization },
          accept: [404],
          maxBytes: MAX_STATUS_BYTES,
          ...(this.config.retries != null ? { retries: this.config.retries } : {}),
          logger: this.logger,
          signal: context.signal
        })
        removed.push(`${remoteMessage(pin.cid, 100)} (request ${remoteMessage(pin.requestid, 80)})`)
      } catch (err) {
        if (context.signal?.aborted === true) throw err
        this.logger.warn(`${this.label}: could not remove the earlier pin ${remoteMessage(pin.cid, 100)}: ${(err as Error).message} (the next run tries again)`)
      }
    }
    this.logger.info(removed.length === 0
      ? `${this.label}: no earlier pin of '${this.pinName}' to remove`
      : `${this.label}: removed ${removed.length} earlier pin(s) of '${this.pinName}': ${removed.join(', ')}`)
  }
}
