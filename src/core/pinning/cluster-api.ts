import { CID } from 'multiformats/cid'
import type { AbortOptions, Logger } from '../logger.js'
import { remoteMessage } from '../redact.js'
import { ServiceError, callService, callServiceJson, type ServiceRequest } from '../service.js'
import { uploadFile } from '../upload.js'
import { urlUnder } from '../url.js'

/**
 * The parts of IPFS Cluster's REST API (v1.1) ipcr uses. JSON calls go through
 * service.ts (timeouts, retries, bounded bodies); the CAR upload is streamed from disk.
 * Lists (/allocations, /peers, /pins without a CID) come as newline-delimited JSON,
 * 204 when empty; an error after the first item goes into an HTTP trailer that fetch()
 * cannot read, so a list may end short: callers only ever remove what a list names.
 */

/** GET /id, the fields ipcr reads. */
export interface ClusterId {
  id: string
  peername?: string
  version?: string
  cluster_peers?: string[]
  error?: string
  ipfs?: { id?: string, error?: string }
}

/** A pin in the cluster's shared state (GET /allocations). */
export interface ClusterPin {
  cid: string
  name?: string
  type?: string
  allocations?: string[] | null
  replication_factor_min?: number
  replication_factor_max?: number
}

/** One peer's view of a pin (GET /pins/<cid>, peer_map). */
export interface ClusterPeerStatus {
  peername?: string
  status?: string
  error?: string
}

/** GET /pins/<cid>. */
export interface ClusterPinStatus {
  cid?: string
  name?: string
  allocations?: string[] | null
  peer_map?: Record<string, ClusterPeerStatus> | null
}

/** POST /add answer lines (AddedOutput). */
interface AddedOutput { cid?: unknown, name?: unknown, bytes?: unknown, allocations?: unknown }

export interface AddOptions extends AbortOptions {
  name: string
  replicationMin?: number
  replicationMax?: number
  /** Multiaddrs ending in /p2p/<id> where the blocks are served: the peers' IPFS daemons connect to them (cluster dials up to 10). */
  origins?: string[]
  logger?: Logger
}

/** Origins passed on (cluster's IPFS connector connects to at most this many). */
export const MAX_ORIGINS = 10

/** Longest list read (GET /allocations: a few hundred bytes per pin). */
export const MAX_LIST_BYTES = 64 * 1024 * 1024

export class ClusterApi {
  constructor (
    private readonly base: URL,
    /** Origin and path: safe to print. */
    readonly label: string,
    private readonly headers: Record<string, string>,
    private readonly logger?: Logger
  ) {}

  url (path: string, query: Record<string, string | number | boolean> = {}): URL {
    const url = urlUnder(this.base, path)
    url.search = ''
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value))
    return url
  }

  private request (path: string, extra: Partial<ServiceRequest> = {}): ServiceRequest {
    return { label: `${this.label}${path}`, headers: this.headers, ...(this.logger != null ? { logger: this.logger } : {}), ...extra }
  }

  async id (options: AbortOptions = {}): Promise<ClusterId> {
    const { json } = await callServiceJson<ClusterId>(this.url('/id'), this.request('/id', options))
    if (json == null || typeof json.id !== 'string') throw new ServiceError(`${this.label}/id: the answer has no peer id (is this an IPFS Cluster REST API?)`)
    return json
  }

  /**
   * POST /add?format=car: the cluster reads the CAR (one root), puts its blocks on the
   * allocated peers' IPFS daemons (local=false) and pins the root. Returns the root it added.
   */
  async addCar (path: string, options: AddOptions): Promise<CID> {
    const query: Record<string, string | number | boolean> = { format: 'car', name: options.name, local: false }
    if (options.replicationMin != null) query['replication-min'] = options.replicationMin
    if (options.replicationMax != null) query['replication-max'] = options.replicationMax
    const origins = (options.origins ?? []).filter((o) => /\/p2p\/[^/]+$/.test(o)).slice(0, MAX_ORIGINS)
    if (origins.length > 0) query.origins = origins.join(',')
    const label = `${this.label}/add`
    const answer = await uploadFile(this.url('/add', query), {
      label,
      headers: this.headers,
      path,
      filename: 'registry.car',
      ...(options.signal != null ? { signal: options.signal } : {}),
      ...(options.logger != null ? { logger: options.logger } : {})
    })
    // Errors after the 200 (the CAR refused, the pin failed) come in the X-Stream-Error trailer.
    const streamError = answer.trailers['x-stream-error']
    if (streamError != null && streamError.trim() !== '') throw new ServiceError(`${label}: ${remoteMessage(streamError)}`)
    const lines = parseJsonLines<AddedOutput & { message?: unknown }>(answer.text, label)
    const added = lines.filter((l) => typeof l.cid === 'string')
    const last = added[added.length - 1]
    if (last == null) {
      const message = lines.find((l) => typeof l.message === 'string')?.message
      throw new ServiceError(`${label}: the answer names no added CID${typeof message === 'string' ? `: ${remoteMessage(message)}` : ''}`)
    }
    try {
      return CID.parse(last.cid as string)
    } catch {
      throw new ServiceError(`${label}: answered with something that is not a CID: ${remoteMessage(String(last.cid), 80)}`)
    }
  }

  /** The pin as the shared state holds it (GET /allocations/<cid>); null when there is none. */
  async pin (cid: CID, options: AbortOptions = {}): Promise<ClusterPin | null> {
    const path = `/allocations/${cid.toString()}`
    const { status, json } = await callServiceJson<ClusterPin>(this.url(path), this.request(path, { ...options, accept: [404] }))
    return status === 404 ? null : json
  }

  /** Every peer's status of the pin (GET /pins/<cid>). */
  async status (cid: CID, options: AbortOptions = {}): Promise<ClusterPinStatus> {
    const path = `/pins/${cid.toString()}`
    const { json } = await callServiceJson<ClusterPinStatus>(this.url(path), this.request(path, options))
    return json ?? {}
  }

  /** The cluster's pins of type `pin` (GET /allocations?filter=pin), bounded by MAX_LIST_BYTES. */
  async pins (options: AbortOptions = {}): Promise<ClusterPin[]> {
    const response = await callService(this.url('/allocations', { filter: 'pin' }), this.request('/allocations', { ...options, maxBytes: MAX_LIST_BYTES, headers: { ...this.headers, Accept: 'application/json' } }))
    return parseJsonLines<ClusterPin>(new TextDecoder().decode(response.body), `${this.label}/allocations`)
  }

  /** DELETE /pins/<cid>; false when the cluster had no such pin. */
  async unpin (cid: CID, options: AbortOptions = {}): Promise<boolean> {
    const path = `/pins/${cid.toString()}`
    const { status } = await callService(this.url(path), this.request(path, { ...options, method: 'DELETE', accept: [404] }))
    return status !== 404
  }
}

/** Newline-delimited JSON values (a single JSON value is one line); empty text is no value. */
export function parseJsonLines<T> (text: string, label: string): T[] {
  const values: T[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      values.push(JSON.parse(line) as T)
    } catch {
      throw new ServiceError(`${label}: answered with a line that is not JSON: ${remoteMessage(line, 120)}`)
    }
  }
  return values
}
