import { InputError } from '../errors.js'
import type { OperationOptions } from '../logger.js'
import { ServiceError } from '../service.js'
import { enclosingNames, inZone, plainName } from './name.js'
import { secretWord } from './secret.js'
import { apiBaseUrl, sdkHttpOptions, serviceFetch, viaSdk, type SdkHttpConfig } from './sdk-http.js'
import { quoteTxt, unquoteTxt } from './txt.js'
import { RecordPerValueProvider, type ValueRecord } from './record-per-value.js'
import type { DnsLinkUpsert } from './types.js'

/**
 * Cloudflare DNS through its SDK (`cloudflare`, loaded when first used), which
 * sends through service.ts (serviceFetch). Cloudflare keeps one record per TXT
 * value, content in presentation form (quoted); only the dnslink= record is
 * created or updated (PUT), never another.
 */

export interface CloudflareConfig extends SdkHttpConfig {
  /** `cloudflare-api-token`: an API token with Zone.DNS edit (and Zone.Zone read without a zone ID). */
  apiToken: string
  /** `cloudflare-zone-id`: else the zone is found from the record's name. */
  zoneId?: string
  /** The API's base URL (tests); default https://api.cloudflare.com/client/v4. */
  baseUrl?: string
}

export const CLOUDFLARE_API = 'https://api.cloudflare.com/client/v4'

/** A client with only the two resources used (cloudflare/tree-shakable keeps the rest of the SDK out of the bundle). */
async function createCloudflare (options: import('cloudflare').ClientOptions) {
  // One after the other: jest's ESM loader fails on concurrent imports of shared modules.
  const { createClient } = await import('cloudflare/tree-shakable')
  const { BaseZones } = await import('cloudflare/resources/zones/zones')
  const { BaseRecords } = await import('cloudflare/resources/dns/records')
  return createClient({ ...options, resources: [BaseZones, BaseRecords] })
}

type CloudflareClient = Awaited<ReturnType<typeof createCloudflare>>

interface Zone { id: string, name: string }

export class CloudflareProvider extends RecordPerValueProvider<Zone, string> {
  readonly kind = 'cloudflare'
  readonly label: string
  private readonly config: CloudflareConfig
  private readonly apiToken: string
  private readonly baseUrl: string
  private client?: Promise<CloudflareClient>
  private readonly zones = new Map<string, Zone>()

  constructor (config: CloudflareConfig) {
    super()
    this.apiToken = secretWord(config.apiToken, 'cloudflare-api-token', 'the Cloudflare API token (dns-provider cloudflare)')
    if (config.zoneId != null && !/^[0-9a-f]{32}$/i.test(config.zoneId)) throw new InputError('cloudflare-zone-id', 'expected a zone ID: 32 hexadecimal characters')
    this.baseUrl = config.baseUrl != null ? apiBaseUrl(config.baseUrl, 'cloudflare-api-url') : CLOUDFLARE_API
    this.config = config
    this.label = `Cloudflare ${this.baseUrl}${config.zoneId != null ? ` (zone ${config.zoneId})` : ''}`
  }

  private async sdk (options: OperationOptions): Promise<CloudflareClient> {
    this.client ??= createCloudflare({
      apiToken: this.apiToken,
      baseURL: this.baseUrl,
      maxRetries: 0, // service.ts retries
      timeout: 10 * 60_000, // service.ts times out each attempt
      fetch: serviceFetch(sdkHttpOptions(this.label, this.config, options))
    })
    return await this.client
  }

  /** The zone holding `name`: the configured one (checked), else the longest matching zone name the token can see. */
  async zoneOf (name: string, options: OperationOptions): Promise<Zone> {
    const cached = [...this.zones.values()].find((z) => inZone(name, z.name))
    if (cached != null) return cached
    const client = await this.sdk(options)
    let zone: Zone | undefined
    if (this.config.zoneId != null) {
      const zoneId = this.config.zoneId
      const found = await viaSdk(this.label, async () => await client.zones.get({ zone_id: zoneId }, { signal: options.signal }))
      zone = { id: found.id, name: found.name }
      if (!inZone(name, zone.name)) throw new InputError('cloudflare-zone-id', `zone ${zone.name} (${zone.id}) does not hold ${name}`)
    } else {
      const candidates = enclosingNames(name, 2)
      for (const candidate of candidates) {
        const page = await viaSdk(this.label, async () => await client.zones.list({ name: candidate, per_page: 5 }, { signal: options.signal }))
        const match = page.result.find((z) => plainName(z.name) === candidate)
        if (match != null) { zone = { id: match.id, name: match.name }; break }
      }
      if (zone == null) throw new ServiceError(`${this.label}: no zone the token can see holds ${name} (looked for ${candidates.join(', ')}); set cloudflare-zone-id or give the token Zone.Zone read`)
    }
    this.zones.set(zone.id, zone)
    return zone
  }

  /** The TXT records at `name`, every page. */
  protected async records (zone: Zone, name: string, options: OperationOptions): Promise<Array<ValueRecord<string>>> {
    const client = await this.sdk(options)
    return await viaSdk(this.label, async () => {
      const out: Array<ValueRecord<string>> = []
      for await (const record of client.dns.records.list({ zone_id: zone.id, type: 'TXT', name: { exact: name }, per_page: 100 }, { signal: options.signal })) {
        // name.exact is case-insensitive; keep to the one name.
        if (record.type !== 'TXT' || plainName(record.name) !== plainName(name)) continue
        out.push({ id: record.id, value: unquoteTxt(record.content ?? '') })
      }
      return out
    })
  }

  protected async create (zone: Zone, upsert: DnsLinkUpsert, options: OperationOptions): Promise<void> {
    const client = await this.sdk(options)
    await viaSdk(this.label, async () => await client.dns.records.create(this.body(zone, upsert), { signal: options.signal }))
  }

  protected async update (zone: Zone, id: string, upsert: DnsLinkUpsert, options: OperationOptions): Promise<void> {
    const client = await this.sdk(options)
    await viaSdk(this.label, async () => await client.dns.records.update(id, this.body(zone, upsert), { signal: options.signal }))
  }

  private body (zone: Zone, upsert: DnsLinkUpsert) {
    return { zone_id: zone.id, type: 'TXT' as const, name: upsert.name, content: quoteTxt(upsert.value), ttl: upsert.ttl }
  }
}
