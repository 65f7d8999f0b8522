import { CID } from 'multiformats/cid'
import type { Destination, DestinationContext, DestinationReport } from '../destinations/types.js'
import { InputError } from '../errors.js'
import { hasControl } from '../escape.js'
import { silentLogger, type Logger, type OperationOptions } from '../logger.js'
import { addHeaderSecret, addSecret, remoteMessage } from '../redact.js'
import { sleep } from '../retry.js'
import { ServiceError } from '../service.js'
import { parseServiceUrl } from '../url.js'
import { ClusterApi, type ClusterPinStatus } from './cluster-api.js'
import { DEFAULT_PIN_NAME, DEFAULT_PIN_TIMEOUT_MS } from '../destinations/defaults.js'

export interface ClusterConfig {
  /** The REST API, e.g. http://127.0.0.1:9094 or /ip4/127.0.0.1/tcp/9094 (credentials in the URL are moved out). */
  url: string
  /**
   * Secret. `user:password` (anything with a colon; the user is up to the first colon) is sent
   * as HTTP Basic auth, as the REST API's `basic_auth_credentials` and `ipfs-cluster-ctl
   * --basic-auth` take it. Without a colon it is a bearer token (a JWT from the REST API's
   * `POST /token`; JWTs have no colon). A whole header value `Basic …` or `Bearer …` is sent as it is.
   */
  auth?: string
  /**
   * Peers that must pin the root (cluster's replication-min/-max: integers ≥ 1 with
   * min ≤ max, or -1 for every peer, which then applies to both). Unset: the cluster's defaults.
   */
  replicationMin?: number
  replicationMax?: number
  /**
   * Pin name; default `ipcr registry`. It names this registry in the cluster: after a
   * successful run every other pin of this name is removed.
   */
  pinName?: string
  /** Its failure fails the run; default true. */
  required?: boolean
  /** How long the pin may take to reach enough peers after the upload (pin-timeout); default 10 min. */
  timeoutMs?: number
}

/** Statuses after which a peer will not pin on its own within a run (cluster retries them at pin_recover_interval, 12 min by default). */
const FAILED = new Set(['pin_error', 'unexpectedly_unpinned'])

/** The Authorization header for `auth` (see ClusterConfig.auth). */
export function clusterAuthorization (auth: string, input = 'cluster-api-auth'): string {
  const value = auth.trim()
  if (value === '' || hasControl(value)) throw new InputError(input, 'expected user:password or a bearer token, without control characters')
  addSecret(value)
  let header: string
  if (/^(basic|bearer)\s+\S+$/i.test(value)) header = value
  else if (value.includes(':')) {
    if (value.startsWith(':')) throw new InputError(input, 'expected user:password (the user is empty)')
    header = `Basic ${Buffer.from(value).toString('base64')}`
  } else {
    if (/\s/.test(value)) throw new InputError(input, 'a bearer token has no spaces (for Basic auth give user:password)')
    header = `Bearer ${value}`
  }
  addHeaderSecret(header)
  return header
}

function replication (value: number | undefined, input: string): number | undefined {
  if (value == null) return undefined
  if (!Number.isInteger(value) || (value < 1 && value !== -1)) throw new InputError(input, 'expected a whole number of peers (1 or more), or -1 for every peer')
  return value
}

/** How many peers hold the pin, and how many must. */
export interface Replication {
  pinned: number
  /** Peers the pin is allocated to (every peer when it is pinned everywhere). */
  allocated: number
  /** Pinned peers needed: replication-min, at most the allocations; when pinned everywhere, every peer that answers. */
  needed: number
  failed: string[]
  /** So many peers failed (pin_error) that `needed` cannot be reached before cluster retries them. */
  hopeless: boolean
  /** Peers the cluster could not ask (`cluster_error`, e.g. down): a pin everywhere does not wait for them. */
  unreachable: number
  /** Each allocated peer's status, for messages. */
  statuses: string[]
}

/** Reads GET /pins/<cid> against the pin's replication-min (-1: every peer). */
export function replicationOf (status: ClusterPinStatus, replicationMin: number): Replication {
  const peers = Object.entries(status.peer_map ?? {})
  const allocations = status.allocations ?? []
  // Pinned everywhere: no allocations, every peer tracks it. Otherwise only the allocations ('remote' elsewhere).
  const tracked = allocations.length === 0
    ? peers.filter(([, p]) => p.status !== 'remote')
    : peers.filter(([id]) => allocations.includes(id))
  const allocated = allocations.length === 0 ? tracked.length : allocations.length
  const unreachable = tracked.filter(([, p]) => p.status === 'cluster_error').length
  // Everywhere means every peer that answers: one that is down would hold every run until the pin timeout.
  const needed = replicationMin > 0 ? Math.min(replicationMin, allocated) : Math.max(1, allocated - unreachable)
  const failed = tracked.filter(([, p]) => FAILED.has(p.status ?? ''))
  const describe = (id: string, p: { peername?: string }): string => remoteMessage(p.peername != null && p.peername !== '' ? p.peername : id, 60)
  return {
    pinned: tracked.filter(([, p]) => p.status === 'pinned').length,
    allocated,
    needed,
    hopeless: allocated > 0 && allocated - failed.length < needed,
    unreachable,
    failed: failed.map(([id, p]) => `${describe(id, p)}: ${remoteMessage(p.status ?? '', 40)}${p.error != null && p.error !== '' ? ` (${remoteMessage(p.error, 200)})` : ''}`),
    statuses: tracked.map(([id, p]) => `${describe(id, p)}: ${remoteMessage(p.status ?? 'unknown', 40)}`)
  }
}

/**
 * An IPFS Cluster as destination, through its REST API: the CAR is uploaded with
 * `POST /add?format=car` (the cluster puts the blocks on the allocated peers' IPFS daemons
 * and pins the root), then `GET /pins/<cid>` is polled until enough peers report `pinned`.
 * The previous root is unpinned in cleanup(), after every name moved, as for Kubo; never
 * replaced in place (cluster's pin-update, like the Pinning Service API's replace, could
 * drop the old pin before the new one is pinned).
 */
export class ClusterDestination implements Destination {
  readonly kind = 'cluster'
  readonly needsCar = true
  readonly label: string
  readonly required: boolean
  readonly api: ClusterApi
  private readonly replicationMin?: number
  private readonly replicationMax?: number
  private readonly timeoutMs: number
  private version = ''
  /** Pins of pinName when this run began: the only ones cleanup may remove (a concurrent run's new pin is not among them). */
  private earlierPins: CID[] = []
  /** Roots this run pinned (more than one when its tags were re-applied onto another publish's root). */
  private readonly ownPins: CID[] = []

  constructor (private readonly config: ClusterConfig, private readonly logger: Logger = silentLogger) {
    const service = parseServiceUrl(config.url, 'cluster-api-url')
    if (config.auth != null && service.authorization != null) throw new InputError('cluster-api-auth', 'give the credentials once: here or in the URL, not both')
    const authorization = config.auth != null ? clusterAuthorization(config.auth) : service.authorization
    this.label = `IPFS Cluster ${service.label}`
    this.api = new ClusterApi(service.url, this.label, authorization != null ? { Authorization: authorization } : {}, logger)
    this.replicationMin = replication(config.replicationMin, 'cluster-replication-min')
    this.replicationMax = replication(config.replicationMax, 'cluster-replication-max')
    // -1 means every peer; cluster takes it only for both.
    if (this.replicationMin === -1 || this.replicationMax === -1) {
      if (this.replicationMin != null && this.replicationMax != null && this.replicationMin !== this.replicationMax) {
        throw new InputError(this.replicationMin === -1 ? 'cluster-replication-max' : 'cluster-replication-min', 'must be -1 too when the other is -1 (every peer)')
      }
      this.replicationMin = -1
      this.replicationMax = -1
    } else if (this.replicationMin != null && this.replicationMax != null && this.replicationMin > this.replicationMax) {
      throw new InputError('cluster-replication-min', `is larger than cluster-replication-max (${this.replicationMin} > ${this.replicationMax})`)
    }
    if (config.pinName != null && (config.pinName.trim() === '' || config.pinName.length > 255 || hasControl(config.pinName))) {
      // Every other pin of this name is removed after a run: an empty name would match unnamed pins.
      throw new InputError('pin-name', 'expected a name of 1 to 255 characters, without control characters')
    }
    this.timeoutMs = config.timeoutMs ?? DEFAULT_PIN_TIMEOUT_MS
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) throw new InputError('pin-timeout', 'expected a positive duration')
    this.required = config.required ?? true
  }

  private get pinName (): string {
    return this.config.pinName ?? DEFAULT_PIN_NAME
  }

  /** Reachable, credentials accepted (GET /id), and the pins of pinName this run may release. */
  async preflight (options: OperationOptions): Promise<void> {
    let id
    try {
      id = await this.api.id(options)
    } catch (err) {
      if (err instanceof ServiceError && (err.status === 401 || err.status === 403)) {
        throw new ServiceError(`${this.label}: the REST API refused the credentials (HTTP ${err.status}); check cluster-api-auth`, err.status, { cause: err })
      }
      throw err
    }
    this.version = remoteMessage(id.version ?? 'unknown version', 60)
    const peers = (id.cluster_peers ?? []).length
    this.logger.info(`${this.label}: IPFS Cluster ${this.version}, peer ${remoteMessage(id.id, 80)}${id.peername != null ? ` (${remoteMessage(id.peername, 60)})` : ''}, ${peers} peer${peers === 1 ? '' : 's'} in the cluster`)
    if (id.error != null && id.error !== '') this.logger.warn(`${this.label}: the peer reports an error: ${remoteMessage(id.error)}`)
    if (id.ipfs?.error != null && id.ipfs.error !== '') this.logger.warn(`${this.label}: the peer's IPFS daemon reports an error: ${remoteMessage(id.ipfs.error)}`)
    this.earlierPins = await this.namedPins(options)
  }

  private async namedPins (options: OperationOptions): Promise<CID[]> {
    const found: CID[] = []
    for (const pin of await this.api.pins(options)) {
      if (pin.name !== this.pinName) continue
      try {
        found.push(CID.parse(pin.cid))
      } catch {
        throw new ServiceError(`${this.label}/allocations: a pin named '${this.pinName}' has something that is not a CID: ${remoteMessage(String(pin.cid), 80)}`)
      }
    }
    return found
  }

  async store (context: DestinationContext): Promise<DestinationReport> {
    const { root, signal } = context
    if (context.carPath == null) throw new Error(`${this.label}: no CAR to upload (the pipeline writes one for destinations that need it)`)
    const added = await this.api.addCar(context.carPath, {
      name: this.pinName,
      ...(this.replicationMin != null ? { replicationMin: this.replicationMin } : {}),
      ...(this.replicationMax != null ? { replicationMax: this.replicationMax } : {}),
      // Where the run serves its blocks, when it does: a CAR after a previous root holds only the new
      // blocks, and the peers fetch the rest (usually from their own earlier pin of the previous root).
      ...(context.network != null ? { origins: context.network.origins } : {}),
      signal,
      logger: this.logger
    })
    if (added.toString() !== root.toString()) throw new ServiceError(`${this.label}: added ${added.toString()}, but the CAR's root is ${root.toString()}`)
    this.ownPins.push(root)
    const pin = await this.api.pin(root, { signal })
    if (pin == null) throw new ServiceError(`${this.label}: the add answered, but the cluster has no pin for ${root.toString()}`)
    const replicationMin = pin.replication_factor_min ?? this.replicationMin ?? -1
    const replicationMax = pin.replication_factor_max ?? this.replicationMax ?? -1
    this.logger.info(`${this.label}: added ${root.toString()} as '${this.pinName}' (replication ${replicationMin}..${replicationMax}); waiting until it is pinned`)
    const state = await this.waitPinned(root, replicationMin, signal)
    this.logger.info(`${this.label}: ${root.toString()} pinned on ${state.pinned} of ${state.allocated} allocated peer(s)`)
    if (state.unreachable > 0) this.logger.warn(`${this.label}: ${state.unreachable} peer(s) did not answer about the pin (cluster_error): ${state.statuses.join(', ')}`)
    return {
      kind: this.kind,
      label: this.label,
      required: this.required,
      details: { version: this.version, pinned: root.toString(), pinName: this.pinName, peersPinned: state.pinned, peersAllocated: state.allocated, ...(state.unreachable > 0 ? { peersUnreachable: state.unreachable } : {}), replicationMin, replicationMax }
    }
  }

  /** Polls GET /pins/<cid> with backoff until `needed` peers report pinned; bounded by the pin timeout. */
  private async waitPinned (root: CID, replicationMin: number, signal?: AbortSignal): Promise<Replication> {
    const deadline = Date.now() + this.timeoutMs
    let delay = 250
    let last: Replication | undefined
    for (;;) {
      const state = replicationOf(await this.api.status(root, { ...(signal != null ? { signal } : {}) }), replicationMin)
      if (state.allocated > 0 && state.pinned >= state.needed) return state
      if (state.hopeless) {
        throw new ServiceError(`${this.label}: ${root.toString()} cannot reach ${state.needed} pinned peer(s): ${state.failed.join('; ')}`)
      }
      if (last == null || last.pinned !== state.pinned || last.statuses.join() !== state.statuses.join()) {
        this.logger.info(`${this.label}: ${state.pinned} of ${state.needed} needed peer(s) pinned (${state.statuses.join(', ')})`)
      }
      last = state
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new ServiceError(`${this.label}: ${root.toString()} not pinned on ${state.needed} peer(s) within the pin timeout (${Math.round(this.timeoutMs / 1000)} s): ${state.pinned} pinned (${state.statuses.join(', ') || 'no peer tracks it'})`)
      }
      await sleep(Math.min(delay, left), signal)
      delay = Math.min(delay * 1.5, 5000)
    }
  }

  /**
   * Removes the pins named pinName that were there when this run began (and this run's own
   * earlier roots), but the new root's. Pins made since (by a publish running at the same time) stay.
   */
  async cleanup (context: DestinationContext): Promise<void> {
    const options = { signal: context.signal }
    const now = await this.namedPins(options)
    const removable = [...this.earlierPins, ...this.ownPins]
    const stale = now.filter((cid) => !cid.equals(context.root) && removable.some((e) => e.equals(cid)))
    const later = now.filter((cid) => !cid.equals(context.root) && !removable.some((e) => e.equals(cid)))
    if (later.length > 0) this.logger.info(`${this.label}: ${later.length} pin(s) named '${this.pinName}' made since this run began stay (another publish's): ${later.join(', ')}`)
    const removed: CID[] = []
    for (const cid of stale) if (await this.api.unpin(cid, options)) removed.push(cid)
    this.logger.info(removed.length === 0
      ? `${this.label}: no other pin named '${this.pinName}' to remove`
      : `${this.label}: unpinned ${removed.length} earlier pin(s) named '${this.pinName}': ${removed.join(', ')}`)
  }
}
