import { InputError } from '../errors.js'
import { quote } from '../escape.js'
import { silentLogger, type Logger, type OperationOptions } from '../logger.js'
import { remoteMessage } from '../redact.js'
import { callService, ServiceError } from '../service.js'
import { parseServiceUrl, urlUnder } from '../url.js'
import { absoluteName, enclosingNames, inZone, parseDomainName, plainName } from './name.js'
import { secretWord } from './secret.js'
import { quoteTxt, unquoteTxt } from './txt.js'
import { dnslinkValues, type DnsLinkResult, type DnsLinkUpsert, type DnsProvider } from './types.js'
import { checkDnsLinkUpsert, planDnsLink, planResult } from './upsert.js'

/**
 * The PowerDNS Authoritative Server's HTTP API (v1) as a DNSLink provider.
 * A zone keeps one TXT rrset per name and a PATCH replaces it whole, so an
 * upsert reads the rrset, swaps the one dnslink= record and writes the rest
 * back as they were (content and disabled flag), then reads it back. PowerDNS
 * has no conditional write: an edit of the same rrset by someone else between
 * the read and the PATCH is lost (the read-back names what it finds).
 */

export interface PowerDnsConfig {
  /** `powerdns-api-url`: the webserver's base URL, e.g. http://127.0.0.1:8081 (a trailing /api/v1 is accepted). */
  apiUrl: string
  /** `powerdns-api-key`: sent as X-API-Key. */
  apiKey: string
  /** `powerdns-server-id`; default `localhost`. */
  serverId?: string
  /** The zone to edit; default: the longest zone the server has that contains the name. */
  zone?: string
  /** Retries of a request after network errors, 5xx and 429 (service.ts); default 4. */
  retries?: number
  /** Per request; default 30 s. */
  timeoutMs?: number
}

/** A PowerDNS record: presentation-form content and whether it is served. */
export interface PowerDnsRecord {
  content: string
  disabled: boolean
}

interface Zone {
  /** The zone's id in API paths (its name, with some characters escaped by PowerDNS). */
  id: string
  /** Canonical, no trailing dot. */
  name: string
}

const ZONE_OPTION = 'powerdns-zone'
/** A server or zone-list answer; a whole zone (an upsert reads it all: see readRecords). */
const MAX_SMALL_BYTES = 256 * 1024
const MAX_ZONE_BYTES = 32 * 1024 * 1024
const SERVER_ID = /^[A-Za-z0-9._-]{1,64}$/

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value != null && !Array.isArray(value)
}

/** The one line PowerDNS gave as its reason: the `error` of a JSON body, else the body. */
function reasonOf (body: string): string {
  try {
    const json = JSON.parse(body) as unknown
    if (isRecord(json) && typeof json.error === 'string') return remoteMessage(json.error)
  } catch {}
  return remoteMessage(body)
}

export class PowerDnsProvider implements DnsProvider {
  readonly kind = 'powerdns'
  readonly label: string
  private readonly api: URL
  private readonly apiKey: string
  private readonly serverId: string
  private readonly zone?: string
  /** The zone found for each name. */
  private readonly zones = new Map<string, Zone>()

  constructor (private readonly config: PowerDnsConfig, private readonly logger: Logger = silentLogger) {
    const key = secretWord(config.apiKey, 'powerdns-api-key', "the PowerDNS API key (the api-key in the server's configuration)")
    const url = parseServiceUrl(config.apiUrl ?? '', 'powerdns-api-url')
    if (url.authorization != null) throw new InputError('powerdns-api-url', "give PowerDNS's API key as powerdns-api-key, not as user:password in the URL")
    if (url.url.search !== '') throw new InputError('powerdns-api-url', 'the PowerDNS API URL is its base URL (e.g. http://127.0.0.1:8081), without a query')
    const serverId = config.serverId?.trim() ?? 'localhost'
    if (!SERVER_ID.test(serverId)) throw new InputError('powerdns-server-id', `${quote(serverId, 80)} is not a PowerDNS server id (1 to 64 letters, digits, '.', '_' or '-'; usually 'localhost')`)
    if (config.zone != null) this.zone = parseDomainName(config.zone, ZONE_OPTION)
    if (config.retries != null && !(Number.isInteger(config.retries) && config.retries >= 0)) throw new InputError('powerdns-api-url', 'retries must be a whole number, 0 or more')
    if (config.timeoutMs != null && !(config.timeoutMs > 0)) throw new InputError('powerdns-api-url', 'the request timeout must be positive')
    const base = new URL(url.url)
    base.pathname = base.pathname.replace(/\/+$/, '').replace(/\/api(\/v1)?$/, '')
    this.api = base
    this.apiKey = key
    this.serverId = serverId
    const shown = `${base.origin}${base.pathname.replace(/\/+$/, '')}`
    this.label = `PowerDNS ${shown} (server '${serverId}'${this.zone != null ? `, zone ${this.zone}.` : ''})`
  }

  /** The server answers, takes the key, is an authoritative server, and has the zone of `name`. */
  async preflight (name: string, options: OperationOptions): Promise<void> {
    const fqdn = parseDomainName(name, 'dnslink-domain')
    const server = await this.call('GET', this.serverPath(), 'reading the server', options, { notFound: () => this.noServer() })
    if (!isRecord(server) || server.type !== 'Server') {
      throw new ServiceError(`${this.label}: GET ${this.serverPath()} did not answer a server object: is ${quote(this.api.href, 120)} the PowerDNS webserver?`)
    }
    if (typeof server.daemon_type === 'string' && server.daemon_type !== 'authoritative') {
      throw new InputError('powerdns-api-url', `${this.label} is a PowerDNS ${quote(server.daemon_type, 40)} server, not the authoritative server`)
    }
    const zone = await this.zoneOf(fqdn, options)
    const version = typeof server.version === 'string' ? ` ${remoteMessage(server.version, 40)}` : ''
    ;(options.logger ?? this.logger).info(`${this.label}: API key accepted (PowerDNS${version}); ${fqdn} is in zone ${zone.name}.`)
  }

  async readTxt (name: string, options: OperationOptions): Promise<string[]> {
    const fqdn = parseDomainName(name, 'dnslink-domain')
    const zone = await this.zoneOf(fqdn, options)
    const records = await this.readRecords(zone, fqdn, options, true)
    return records.filter((r) => !r.disabled).map((r) => unquoteTxt(r.content))
  }

  async upsertDnsLink (request: DnsLinkUpsert, options: OperationOptions): Promise<DnsLinkResult> {
    const logger = options.logger ?? this.logger
    const upsert = checkDnsLinkUpsert(request)
    const { name: fqdn, value } = upsert
    const zone = await this.zoneOf(fqdn, options)
    const records = await this.readRecords(zone, fqdn, options, false)
    const served = records.filter((r) => !r.disabled)
    const plan = planDnsLink(this.label, fqdn, served.map((r) => unquoteTxt(r.content)), value)
    if (plan.action === 'unchanged') {
      logger.info(`${this.label}: ${fqdn} has ${quote(value, 120)} already; unchanged`)
      return planResult(plan)
    }
    const old = plan.action === 'replace' ? served[plan.index] : undefined
    const content = quoteTxt(value)
    // Every other record as it was (a disabled copy of the new value would be a duplicate: the new one takes its place).
    const kept = records.filter((r) => r !== old && r.content !== content).map((r) => ({ content: r.content, disabled: r.disabled }))
    // An rrset has one TTL (RFC 2181): the other TXT values at the name take this one too.
    const rrset = { name: absoluteName(fqdn), type: 'TXT', ttl: upsert.ttl, changetype: 'REPLACE', records: [...kept, { content, disabled: false }] }
    await this.call('PATCH', this.zonePath(zone), `changing zone ${zone.name}.`, options, { body: { rrsets: [rrset] } })
    const after = dnslinkValues(await this.readTxt(fqdn, options))
    if (after.length !== 1 || after[0] !== value) {
      throw new ServiceError(`${this.label}: after the change, ${fqdn} has ${after.length === 0 ? 'no dnslink= value' : after.map((v) => quote(v, 100)).join(', ')} instead of ${quote(value, 100)} (changed by someone else at the same time?)`)
    }
    logger.info(`${this.label}: ${fqdn} ${plan.action === 'create' ? 'now has' : `changed from ${quote(plan.previous, 120)} to`} ${quote(value, 120)}`)
    return planResult(plan)
  }

  /**
   * The TXT records at `fqdn` in `zone`. `served`: only those served, through the
   * rrset_name/rrset_type filter (PowerDNS 4.5+; older servers send the whole
   * zone, filtered here). Otherwise every record, disabled ones too, from the
   * whole zone: PowerDNS 4.7 leaves disabled records out of a filtered answer,
   * and a REPLACE written from it would delete them.
   */
  private async readRecords (zone: Zone, fqdn: string, options: OperationOptions, served: boolean): Promise<PowerDnsRecord[]> {
    const answer = await this.call('GET', this.zonePath(zone), `reading zone ${zone.name}.`, options, {
      ...(served ? { query: { rrset_name: `${fqdn}.`, rrset_type: 'TXT' } } : {}),
      maxBytes: MAX_ZONE_BYTES,
      notFound: () => new ServiceError(`${this.label}: zone ${zone.name}. is gone (HTTP 404)`, 404)
    })
    if (!isRecord(answer) || !Array.isArray(answer.rrsets)) throw new ServiceError(`${this.label}: reading zone ${zone.name}. did not answer a zone with rrsets`)
    const records: PowerDnsRecord[] = []
    for (const rrset of answer.rrsets as unknown[]) {
      if (!isRecord(rrset) || rrset.type !== 'TXT' || typeof rrset.name !== 'string') continue
      if (plainName(rrset.name) !== fqdn || !Array.isArray(rrset.records)) continue
      for (const record of rrset.records as unknown[]) {
        if (!isRecord(record) || typeof record.content !== 'string') throw new ServiceError(`${this.label}: a TXT record at ${fqdn} has no content`)
        records.push({ content: record.content, disabled: record.disabled === true })
      }
    }
    return records
  }

  /** The zone `fqdn` is in: the configured one, or the longest the server has. */
  private async zoneOf (fqdn: string, options: OperationOptions): Promise<Zone> {
    const known = this.zones.get(fqdn)
    if (known != null) return known
    let zone: Zone | undefined
    if (this.zone != null) {
      if (!inZone(fqdn, this.zone)) throw new InputError('dnslink-domain', `${fqdn} is not in the zone given as ${ZONE_OPTION} (${this.zone}.)`)
      zone = await this.findZone(this.zone, options)
      if (zone == null) throw new InputError(ZONE_OPTION, `${this.label} has no zone ${this.zone}.`)
    } else {
      const candidates = enclosingNames(fqdn)
      for (const candidate of candidates) {
        zone = await this.findZone(candidate, options)
        if (zone != null) break
      }
      if (zone == null) throw new InputError('dnslink-domain', `${this.label} has no zone containing ${fqdn} (asked for ${candidates.map((c) => `${c}.`).join(', ')})`)
    }
    this.zones.set(fqdn, zone)
    return zone
  }

  /** The server's zone named `name`, if it has one (GET …/zones?zone=NAME.). */
  private async findZone (name: string, options: OperationOptions): Promise<Zone | undefined> {
    const answer = await this.call('GET', `${this.serverPath()}/zones`, `looking for zone ${name}.`, options, {
      query: { zone: `${name}.`, dnssec: 'false' },
      notFound: () => this.noServer()
    })
    if (!Array.isArray(answer)) throw new ServiceError(`${this.label}: the zone list is not a list`)
    for (const z of answer as unknown[]) {
      if (isRecord(z) && typeof z.id === 'string' && z.id !== '' && typeof z.name === 'string' && plainName(z.name) === name) {
        return { id: z.id, name }
      }
    }
    return undefined
  }

  private serverPath (): string {
    return `/servers/${encodeURIComponent(this.serverId)}`
  }

  private zonePath (zone: Zone): string {
    return `${this.serverPath()}/zones/${encodeURIComponent(zone.id)}`
  }

  private noServer (): InputError {
    return new InputError('powerdns-server-id', `${this.label} has no server ${quote(this.serverId, 80)} (HTTP 404; the authoritative server's id is usually 'localhost')`)
  }

  /** One API call; the JSON answer (null when empty). Refusals become errors naming the provider, and what it said. */
  private async call (method: string, path: string, what: string, options: OperationOptions, request: { query?: Record<string, string>, body?: unknown, maxBytes?: number, notFound?: () => Error } = {}): Promise<unknown> {
    const url = urlUnder(this.api, `/api/v1${path}`)
    for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v)
    const response = await callService(url, {
      label: this.label,
      method,
      headers: { 'X-API-Key': this.apiKey, Accept: 'application/json', ...(request.body != null ? { 'Content-Type': 'application/json' } : {}) },
      ...(request.body != null ? { body: JSON.stringify(request.body) } : {}),
      maxBytes: request.maxBytes ?? MAX_SMALL_BYTES,
      // Refusals are read here, for PowerDNS's own reason; service.ts still retries 5xx and 429.
      accept: [400, 401, 403, 404, 409, 422],
      ...(this.config.retries != null ? { retries: this.config.retries } : {}),
      ...(this.config.timeoutMs != null ? { timeoutMs: this.config.timeoutMs } : {}),
      logger: options.logger ?? this.logger,
      ...(options.signal != null ? { signal: options.signal } : {})
    })
    const body = new TextDecoder().decode(response.body)
    const status = response.status
    if (status >= 200 && status < 300) {
      if (body.trim() === '') return null
      try {
        return JSON.parse(body) as unknown
      } catch {
        throw new ServiceError(`${this.label}: ${what}: the answer (HTTP ${status}) is not JSON: ${remoteMessage(body, 120)}`, status)
      }
    }
    const reason = body.trim() !== '' ? `: ${reasonOf(body)}` : ''
    if (status === 401 || status === 403) {
      throw new InputError('powerdns-api-key', `${this.label} refused the API key (HTTP ${status}${reason})`, { cause: new ServiceError(`${this.label}: HTTP ${status}`, status) })
    }
    if (status === 404 && request.notFound != null) throw request.notFound()
    throw new ServiceError(`${this.label}: ${what}: HTTP ${status}${reason}`, status)
  }
}
