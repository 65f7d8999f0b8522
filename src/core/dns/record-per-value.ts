import type { OperationOptions } from '../logger.js'
import { parseDomainName } from './name.js'
import type { DnsLinkResult, DnsLinkUpsert, DnsProvider } from './types.js'
import { checkDnsLinkUpsert, planDnsLink, planResult } from './upsert.js'

/** One TXT record as such an API lists it: its id and its value (unquoted). */
export interface ValueRecord<Id> {
  id: Id
  value: string
}

/**
 * A provider whose API keeps one record per TXT value, each with an id
 * (Cloudflare, DNSimple): an upsert creates the dnslink= record or updates it
 * by its id, and never touches another record.
 */
export abstract class RecordPerValueProvider<Zone, Id> implements DnsProvider {
  abstract readonly kind: string
  abstract readonly label: string

  /** The zone holding `name` (canonical). */
  abstract zoneOf (name: string, options: OperationOptions): Promise<Zone>
  /** Every TXT record at `name` in `zone`. */
  protected abstract records (zone: Zone, name: string, options: OperationOptions): Promise<Array<ValueRecord<Id>>>
  protected abstract create (zone: Zone, upsert: DnsLinkUpsert, options: OperationOptions): Promise<void>
  protected abstract update (zone: Zone, id: Id, upsert: DnsLinkUpsert, options: OperationOptions): Promise<void>

  async preflight (name: string, options: OperationOptions): Promise<void> {
    const fqdn = parseDomainName(name, 'dnslink-domain')
    await this.records(await this.zoneOf(fqdn, options), fqdn, options)
  }

  async readTxt (name: string, options: OperationOptions): Promise<string[]> {
    const fqdn = parseDomainName(name, 'dnslink-domain')
    return (await this.records(await this.zoneOf(fqdn, options), fqdn, options)).map((r) => r.value)
  }

  async upsertDnsLink (request: DnsLinkUpsert, options: OperationOptions): Promise<DnsLinkResult> {
    const upsert = checkDnsLinkUpsert(request)
    const zone = await this.zoneOf(upsert.name, options)
    const records = await this.records(zone, upsert.name, options)
    const plan = planDnsLink(this.label, upsert.name, records.map((r) => r.value), upsert.value)
    if (plan.action === 'create') await this.create(zone, upsert, options)
    if (plan.action === 'replace') await this.update(zone, (records[plan.index] as ValueRecord<Id>).id, upsert, options)
    return planResult(plan)
  }
}
