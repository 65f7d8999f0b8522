import { InputError } from '../errors.js'
import type { OperationOptions } from '../logger.js'
import { addSecret } from '../redact.js'
import { ServiceError } from '../service.js'
import { serviceFetch, viaSdk } from './sdk-http.js'
import { quoteTxt, unquoteTxt } from './txt.js'
import type { DnsLinkResult, DnsLinkUpsert, DnsProvider } from './types.js'
import { planDnsLink } from './upsert.js'

/**
 * Cloudflare DNS through its SDK (`cloudflare`, loaded when first used), which
 * sends through service.ts (serviceFetch). Cloudflare keeps one record per TXT
 * value, content in presentation form (quoted); only the dnslink= record is
 * created or updated (PUT), never another.
 */

export interface CloudflareConfig {
  /** `cloudflare-api-token`: an API token with Zone.DNS edit (and Zone.Zone read without a zone ID). */
  apiToken: string
  /** `cloudflare-zone-id`: else the zone is found from the record's name. */
  zoneId?: string
  /** The API's base URL (tests); default https://api.cloudflare.com/client/v4. */
  baseUrl?: string
  timeoutMs?: number
  retries?: number
  retryDelayMs?: number
  fetch?: typeof globalThis.fetch
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

function httpUrl (value: string, input: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InputError(input, 'expected an http(s) URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InputError(input, 'expected an http(s) URL')
  if (url.username !== '' || url.password !== '') throw new InputError(input, 'the URL must not carry credentials')
  return url.href.replace(/\/+$/, '')
}

/** The zone apexes `name` could belong to, longest first (at least two labels). */
export function candidateZones (name: string): string[] {
  const labels = name.replace(/\.$/, '').split('.')
  const out: string[] = []
  for (let i = 0; i <= labels.length - 2; i++) out.push(labels.slice(i).join('.'))
  return out
}

function inZone (name: string, zone: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '')
  const z = zone.toLowerCase().replace(/\.$/, '')
  return n === z || n.endsWith(`.${z}`)
}

export class CloudflareProvider implements DnsProvider {
  readonly kind = 'cloudflare'
  readonly label: string
  private readonly config: CloudflareConfig
  private readonly baseUrl: string
  private client?: Promise<CloudflareClient>
  private readonly zones = new Map<string, Zone>()

  constructor (config: CloudflareConfig) {
    if (typeof config.apiToken !== 'string' || config.apiToken.trim() === '') throw new InputError('cloudflare-api-token', 'required for dns-provider cloudflare')
    if (/\s/.test(config.apiToken)) throw new InputError('cloudflare-api-token', 'a token has no spaces or line breaks')
    addSecret(config.apiToken)
    if (config.zoneId != null && !/^[0-9a-f]{32}$/i.test(config.zoneId)) throw new InputError('cloudflare-zone-id', 'expected a zone ID: 32 hexadecimal characters')
    this.baseUrl = config.baseUrl != null ? httpUrl(config.baseUrl, 'cloudflare-api-url') : CLOUDFLARE_API
    this.config = config
    this.label = `Cloudflare ${this.baseUrl}${config.zoneId != null ? ` (zone ${config.zoneId})` : ''}`
  }

  private async sdk (options: OperationOptions): Promise<CloudflareClient> {
    this.client ??= createCloudflare({
      apiToken: this.config.apiToken,
      baseURL: this.baseUrl,
      maxRetries: 0, // service.ts retries
      timeout: 10 * 60_000, // service.ts times out each attempt
      fetch: serviceFetch({ label: this.label, logger: options.logger, timeoutMs: this.config.timeoutMs, retries: this.config.retries, retryDelayMs: this.config.retryDelayMs, fetch: this.config.fetch })
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
      for (const candidate of candidateZones(name)) {
        const page = await viaSdk(this.label, async () => await client.zones.list({ name: candidate, per_page: 5 }, { signal: options.signal }))
        const match = page.result.find((z) => z.name.toLowerCase() === candidate.toLowerCase())
        if (match != null) { zone = { id: match.id, name: match.name }; break }
      }
      if (zone == null) throw new ServiceError(`${this.label}: no zone the token can see holds ${name} (looked for ${candidateZones(name).join(', ')}); set cloudflare-zone-id or give the token Zone.Zone read`)
    }
    this.zones.set(zone.id, zone)
    return zone
  }

  async preflight (name: string, options: OperationOptions): Promise<void> {
    const zone = await this.zoneOf(name, options)
    await this.records(zone, name, options)
  }

  /** The TXT records at `name`, every page. */
  private async records (zone: Zone, name: string, options: OperationOptions): Promise<Array<{ id: string, value: string }>> {
    const client = await this.sdk(options)
    return await viaSdk(this.label, async () => {
      const out: Array<{ id: string, value: string }> = []
      for await (const record of client.dns.records.list({ zone_id: zone.id, type: 'TXT', name: { exact: name }, per_page: 100 }, { signal: options.signal })) {
        // name.exact is case-insensitive; keep to the one name.
        if (record.type !== 'TXT' || record.name.toLowerCase() !== name.toLowerCase()) continue
        out.push({ id: record.id, value: unquoteTxt(record.content ?? '') })
      }
      return out
    })
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
    const body = { zone_id: zone.id, type: 'TXT' as const, name: upsert.name, content: quoteTxt(upsert.value), ttl: upsert.ttl }
    if (plan.action === 'create') {
      await viaSdk(this.label, async () => await client.dns.records.create(body, { signal: options.signal }))
      return { change: 'created' }
    }
    const record = records.find((r) => r.value === plan.previous)
    if (record == null) throw new ServiceError(`${this.label}: the dnslink record at ${upsert.name} vanished while updating`)
    await viaSdk(this.label, async () => await client.dns.records.update(record.id, body, { signal: options.signal }))
    return { change: 'replaced', previous: plan.previous }
  }
}
