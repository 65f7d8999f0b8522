import { InputError } from '../errors.js'
import type { OperationOptions } from '../logger.js'
import { addSecret } from '../redact.js'
import { ServiceError, callService } from '../service.js'
import { candidateZones } from './cloudflare.js'
import type { SdkHttpOptions } from './sdk-http.js'
import { viaSdk } from './sdk-http.js'
import { unquoteTxt } from './txt.js'
import type { DnsLinkResult, DnsLinkUpsert, DnsProvider } from './types.js'
import { planDnsLink } from './upsert.js'

/**
 * DNSimple through its SDK (`dnsimple`, loaded when first used), given a
 * fetcher that sends through service.ts. Record names in the API are relative
 * to the zone (`_dnslink`, or '' at the apex); one record per TXT value; only
 * the dnslink= record is created or updated (PATCH), never another.
 */

export interface DnsimpleConfig {
  /** `dnsimple-token`: an account or user API token. */
  token: string
  /** `dnsimple-account-id`. */
  accountId: string | number
  /** The zone (e.g. `example.org`); else found from the record's name. */
  zone?: string
  /** The API's base URL (tests); default https://api.dnsimple.com. */
  baseUrl?: string
  timeoutMs?: number
  retries?: number
  retryDelayMs?: number
  fetch?: typeof globalThis.fetch
}

export const DNSIMPLE_API = 'https://api.dnsimple.com'
const MAX_PAGES = 100

type DnsimpleClient = import('dnsimple').DNSimple
type Fetcher = NonNullable<ConstructorParameters<typeof import('dnsimple').DNSimple>[0]>['fetcher']

/** A DNSimple fetcher (status and text, never throwing on a status) that sends through callService. */
function serviceFetcher (options: SdkHttpOptions): NonNullable<Fetcher> {
  return async ({ method, url, headers, body }) => {
    // A non-2xx answer throws a ServiceError with DNSimple's message (the SDK's own errors drop it); 5xx and 429 are retried.
    const response = await callService(url, {
      label: options.label, method, headers, body, timeoutMs: options.timeoutMs, retries: options.retries, retryDelayMs: options.retryDelayMs,
      logger: options.logger, fetch: options.fetch
    })
    return { status: response.status, body: new TextDecoder().decode(response.body) }
  }
}

/** `name` relative to `zone` ('' at the apex). */
function relativeName (name: string, zone: string): string {
  const n = name.replace(/\.$/, '')
  return n.toLowerCase() === zone.toLowerCase() ? '' : n.slice(0, n.length - zone.length - 1)
}

function inZone (name: string, zone: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '')
  const z = zone.toLowerCase().replace(/\.$/, '')
  return n === z || n.endsWith(`.${z}`)
}

export class DnsimpleProvider implements DnsProvider {
  readonly kind = 'dnsimple'
  readonly label: string
  private readonly config: DnsimpleConfig
  private readonly accountId: number
  private readonly baseUrl: string
  private client?: Promise<DnsimpleClient>
  private zone?: string

  constructor (config: DnsimpleConfig) {
    if (typeof config.token !== 'string' || config.token.trim() === '') throw new InputError('dnsimple-token', 'required for dns-provider dnsimple')
    if (/\s/.test(config.token)) throw new InputError('dnsimple-token', 'a token has no spaces or line breaks')
    addSecret(config.token)
    if (!/^[1-9]\d{0,15}$/.test(String(config.accountId))) throw new InputError('dnsimple-account-id', 'expected the numeric account ID')
    this.accountId = Number(config.accountId)
    if (config.zone != null && !/^[a-z0-9-]+(\.[a-z0-9-]+)+\.?$/i.test(config.zone)) throw new InputError('dnslink-domain', 'the DNSimple zone is not a domain name')
    if (config.baseUrl != null) {
      let url: URL
      try { url = new URL(config.baseUrl) } catch { throw new InputError('dnsimple-api-url', 'expected an http(s) URL') }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InputError('dnsimple-api-url', 'expected an http(s) URL')
    }
    this.baseUrl = (config.baseUrl ?? DNSIMPLE_API).replace(/\/+$/, '')
    this.config = config
    this.zone = config.zone?.replace(/\.$/, '')
    this.label = `DNSimple ${this.baseUrl} (account ${this.accountId})`
  }

  private async sdk (options: OperationOptions): Promise<DnsimpleClient> {
    this.client ??= import('dnsimple').then(({ DNSimple }) => new DNSimple({
      accessToken: this.config.token,
      baseUrl: this.baseUrl,
      fetcher: serviceFetcher({ label: this.label, logger: options.logger, timeoutMs: this.config.timeoutMs, retries: this.config.retries, retryDelayMs: this.config.retryDelayMs, fetch: this.config.fetch })
    }))
    return await this.client
  }

  /** The zone holding `name`: the configured one, else the longest name the account has as a zone. */
  async zoneOf (name: string, options: OperationOptions): Promise<string> {
    if (this.zone != null) {
      if (!inZone(name, this.zone)) throw new InputError('dnslink-domain', `${name} is not in the DNSimple zone ${this.zone}`)
      return this.zone
    }
    const client = await this.sdk(options)
    for (const candidate of candidateZones(name)) {
      try {
        const { data } = await viaSdk(this.label, async () => await client.zones.getZone(this.accountId, candidate))
        this.zone = data.name
        return data.name
      } catch (err) {
        if (!(err instanceof ServiceError && err.status === 404)) throw err
      }
    }
    throw new ServiceError(`${this.label}: the account has no zone holding ${name} (looked for ${candidateZones(name).join(', ')})`)
  }

  /** The TXT records at `name`, every page. */
  private async records (zone: string, name: string, options: OperationOptions): Promise<Array<{ id: number, value: string }>> {
    const client = await this.sdk(options)
    const relative = relativeName(name, zone)
    return await viaSdk(this.label, async () => {
      const out: Array<{ id: number, value: string }> = []
      for (let page = 1; page <= MAX_PAGES; page++) {
        options.signal?.throwIfAborted()
        const answer = await client.zones.listZoneRecords(this.accountId, zone, { name: relative, type: 'TXT', page, per_page: 100 })
        for (const record of answer.data) {
          if (record.type === 'TXT' && record.name.toLowerCase() === relative.toLowerCase()) out.push({ id: record.id, value: unquoteTxt(record.content) })
        }
        if (page >= (answer.pagination?.total_pages ?? 1)) return out
      }
      throw new ServiceError(`${this.label}: more than ${MAX_PAGES} pages of TXT records at ${name}`)
    })
  }

  async preflight (name: string, options: OperationOptions): Promise<void> {
    const zone = await this.zoneOf(name, options)
    await this.records(zone, name, options)
  }

  async readTxt (name: string, options: OperationOptions): Promise<string[]> {
    const zone = await this.zoneOf(name, options)
    return (await this.records(zone, name, options)).map((r) => r.value)
  }

  async upsertDnsLink (upsert: DnsLinkUpsert, options: OperationOptions): Promise<DnsLinkResult> {
    const zone = await this.zoneOf(upsert.name, options)
    const records = await this.records(zone, upsert.name, options)
    const plan = planDnsLink(this.label, upsert.name, records.map((r) => r.value), upsert.value)
    if (plan.action === 'unchanged') return { change: 'unchanged', previous: plan.previous }
    const client = await this.sdk(options)
    if (plan.action === 'create') {
      await viaSdk(this.label, async () => await client.zones.createZoneRecord(this.accountId, zone, { name: relativeName(upsert.name, zone), type: 'TXT', content: upsert.value, ttl: upsert.ttl }))
      return { change: 'created' }
    }
    const record = records.find((r) => r.value === plan.previous)
    if (record == null) throw new ServiceError(`${this.label}: the dnslink record at ${upsert.name} vanished while updating`)
    await viaSdk(this.label, async () => await client.zones.updateZoneRecord(this.accountId, zone, record.id, { content: upsert.value, ttl: upsert.ttl }))
    return { change: 'replaced', previous: plan.previous }
  }
}
