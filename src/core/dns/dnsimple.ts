import { InputError } from '../errors.js'
import type { OperationOptions } from '../logger.js'
import { ServiceError, callService } from '../service.js'
import { enclosingNames, inZone, parseDomainName, plainName, relativeName } from './name.js'
import { secretWord } from './secret.js'
import { apiBaseUrl, sdkHttpOptions, viaSdk, type SdkHttpConfig, type SdkHttpOptions } from './sdk-http.js'
import { unquoteTxt } from './txt.js'
import { RecordPerValueProvider, type ValueRecord } from './record-per-value.js'
import type { DnsLinkUpsert } from './types.js'

/**
 * DNSimple through its SDK (`dnsimple`, loaded when first used), given a
 * fetcher that sends through service.ts. Record names in the API are relative
 * to the zone (`_dnslink`, or '' at the apex); one record per TXT value; only
 * the dnslink= record is created or updated (PATCH), never another.
 */

export interface DnsimpleConfig extends SdkHttpConfig {
  /** `dnsimple-token`: an account or user API token. */
  token: string
  /** `dnsimple-account-id`. */
  accountId: string | number
  /** The zone (e.g. `example.org`); else found from the record's name. */
  zone?: string
  /** The API's base URL (tests); default https://api.dnsimple.com. */
  baseUrl?: string
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

export class DnsimpleProvider extends RecordPerValueProvider<string, number> {
  readonly kind = 'dnsimple'
  readonly label: string
  private readonly config: DnsimpleConfig
  private readonly token: string
  private readonly accountId: number
  private readonly baseUrl: string
  private client?: Promise<DnsimpleClient>
  /** The configured zone (`dnsimple-zone`), if any. */
  private readonly zone?: string
  /** Zones found, by the name asked for. */
  private readonly found = new Map<string, string>()

  constructor (config: DnsimpleConfig) {
    super()
    this.token = secretWord(config.token, 'dnsimple-token', 'the DNSimple API token (dns-provider dnsimple)')
    if (!/^[1-9]\d{0,15}$/.test(String(config.accountId))) throw new InputError('dnsimple-account-id', 'expected the numeric account ID')
    this.accountId = Number(config.accountId)
    if (config.zone != null) this.zone = parseDomainName(config.zone, 'dnsimple-zone')
    this.baseUrl = config.baseUrl != null ? apiBaseUrl(config.baseUrl, 'dnsimple-api-url') : DNSIMPLE_API
    this.config = config
    this.label = `DNSimple ${this.baseUrl} (account ${this.accountId})`
  }

  private async sdk (options: OperationOptions): Promise<DnsimpleClient> {
    this.client ??= import('dnsimple').then(({ DNSimple }) => new DNSimple({
      accessToken: this.token,
      baseUrl: this.baseUrl,
      fetcher: serviceFetcher(sdkHttpOptions(this.label, this.config, options))
    }))
    return await this.client
  }

  /** The zone holding `name`: the configured one, else the longest name the account has as a zone. */
  async zoneOf (name: string, options: OperationOptions): Promise<string> {
    if (this.zone != null) {
      if (!inZone(name, this.zone)) throw new InputError('dnslink-domain', `${name} is not in the DNSimple zone ${this.zone}`)
      return this.zone
    }
    const known = this.found.get(name)
    if (known != null) return known
    const client = await this.sdk(options)
    const candidates = enclosingNames(name, 2)
    for (const candidate of candidates) {
      try {
        const { data } = await viaSdk(this.label, async () => await client.zones.getZone(this.accountId, candidate))
        this.found.set(name, data.name)
        return data.name
      } catch (err) {
        if (!(err instanceof ServiceError && err.status === 404)) throw err
      }
    }
    throw new ServiceError(`${this.label}: the account has no zone holding ${name} (looked for ${candidates.join(', ')})`)
  }

  /** The TXT records at `name`, every page. */
  protected async records (zone: string, name: string, options: OperationOptions): Promise<Array<ValueRecord<number>>> {
    const client = await this.sdk(options)
    const relative = relativeName(name, zone)
    return await viaSdk(this.label, async () => {
      const out: Array<ValueRecord<number>> = []
      for (let page = 1; page <= MAX_PAGES; page++) {
        options.signal?.throwIfAborted()
        const answer = await client.zones.listZoneRecords(this.accountId, zone, { name: relative, type: 'TXT', page, per_page: 100 })
        for (const record of answer.data) {
          if (record.type === 'TXT' && plainName(record.name) === relative) out.push({ id: record.id, value: unquoteTxt(record.content) })
        }
        if (page >= (answer.pagination?.total_pages ?? 1)) return out
      }
      throw new ServiceError(`${this.label}: more than ${MAX_PAGES} pages of TXT records at ${name}`)
    })
  }

  protected async create (zone: string, upsert: DnsLinkUpsert, options: OperationOptions): Promise<void> {
    const client = await this.sdk(options)
    await viaSdk(this.label, async () => await client.zones.createZoneRecord(this.accountId, zone, { name: relativeName(upsert.name, zone), type: 'TXT', content: upsert.value, ttl: upsert.ttl }))
  }

  protected async update (zone: string, id: number, upsert: DnsLinkUpsert, options: OperationOptions): Promise<void> {
    const client = await this.sdk(options)
    await viaSdk(this.label, async () => await client.zones.updateZoneRecord(this.accountId, zone, id, { content: upsert.value, ttl: upsert.ttl }))
  }
}
