import type { DestinationContext, NamePublisher, NameReport, NameSource, NameTarget } from '../destinations/types.js'
import { InputError } from '../errors.js'
import { parseIpnsName } from '../ipns/name.js'
import type { RecordStore } from '../ipns/types.js'
import { silentLogger, type Logger, type OperationOptions } from '../logger.js'
import { dnslinkName, parseDomainName } from './name.js'
import { createDnsProvider } from './registry.js'
import { DnsLinkSource } from './source.js'
import { readEventPayload, untrustedTrigger } from './trigger.js'
import type { DnsProvider } from './types.js'
import { MAX_TTL, singleDnsLink } from './upsert.js'

/**
 * DNSLink as the last name a publish moves: the TXT record at
 * `_dnslink.<domain>` (and, when asked, at the domain itself) through a DNS
 * provider's API. `ipns` writes `dnslink=/ipns/<name>` (stable: it changes only
 * when the IPNS name does), `ipfs` writes `dnslink=/ipfs/<root>` on every publish.
 * Never from an untrusted trigger (see trigger.ts) unless explicitly allowed.
 */

export type DnsLinkValueKind = 'ipns' | 'ipfs'

export interface DnsLinkPublisherConfig {
  /** `dnslink-domain`: the domain users pull from, e.g. `registry.example.org` (a leading `_dnslink.` is dropped). */
  domain: string
  /** `dns-provider`: cloudflare, route53, dnsimple, powerdns or rfc2136. */
  provider: string
  /** That provider's configuration (its config interface, e.g. Rfc2136Config). */
  providerConfig: object
  /**
   * `dnslink-value`: `ipns` (the IPNS name published before this, in the same run, or `ipnsName`) or
   * `ipfs` (the new root). Default: `ipns` when `ipnsName` is given or an IPNS name was published, else `ipfs`.
   */
  value?: DnsLinkValueKind
  /** The IPNS name for `ipns`, when no IPNS publisher runs before this one (`ipns-name`). */
  ipnsName?: string
  /** `dnslink-ttl`: seconds; default 60. */
  ttl?: number
  /** `dnslink-bare`: also write the record at the domain itself (as the original recipe did). */
  bare?: boolean
  /** `dnslink-allow-untrusted`: change DNS even from an untrusted trigger. */
  allowUntrusted?: boolean
  /** Where GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are read; default process.env. */
  env?: NodeJS.ProcessEnv
  /** Where IPNS records are read when the current DNSLink is /ipns/<name> (reading the previous root with `ipfs`). */
  stores?: RecordStore[]
}

export const DEFAULT_DNSLINK_TTL = 60
/** NameReport kinds of IPNS publishers (their `name` is the IPNS name). */
const IPNS_KINDS = new Set(['ipns', 'kubo-ipns'])

export class DnsLinkPublisher implements NamePublisher {
  readonly kind = 'dnslink'
  readonly provider: DnsProvider
  /**
   * With `ipfs`, the DNSLink itself holds the root: it is read through the provider's API (the
   * previous root, and the checks for concurrent publishes). With `ipns`, the IPNS name is the source.
   */
  readonly source?: NameSource
  /** Canonical, without `_dnslink.`. */
  readonly domain: string
  private readonly value?: DnsLinkValueKind
  private readonly ipnsName?: string
  private readonly ttl: number
  private readonly bare: boolean
  private readonly allowUntrusted: boolean
  private readonly env: NodeJS.ProcessEnv

  constructor (config: DnsLinkPublisherConfig, private readonly logger: Logger = silentLogger) {
    this.domain = parseDomainName(config.domain ?? '', 'dnslink-domain').replace(/^_dnslink\./, '')
    if (config.value != null && config.value !== 'ipns' && config.value !== 'ipfs') {
      throw new InputError('dnslink-value', `expected 'ipns' (dnslink=/ipns/<name>) or 'ipfs' (dnslink=/ipfs/<root>), not ${JSON.stringify(config.value)}`)
    }
    this.value = config.value
    if (config.ipnsName != null) this.ipnsName = parseIpnsName(config.ipnsName, 'ipns-name').text
    if (config.value === 'ipfs' && config.ipnsName != null) throw new InputError('dnslink-value', "'ipfs' writes the root, not the IPNS name given: choose 'ipns' or leave the IPNS name out")
    this.ttl = config.ttl ?? DEFAULT_DNSLINK_TTL
    if (!Number.isInteger(this.ttl) || this.ttl < 1 || this.ttl > MAX_TTL) throw new InputError('dnslink-ttl', `the TTL must be a whole number of seconds from 1 to ${MAX_TTL}`)
    this.bare = config.bare === true
    this.allowUntrusted = config.allowUntrusted === true
    this.env = config.env ?? process.env
    this.provider = createDnsProvider(config.provider, config.providerConfig, logger)
    if (config.value === 'ipfs') {
      this.source = new DnsLinkSource(this.domain, async (name, options) => await this.provider.readTxt(name, options), config.stores, this.provider.label, logger)
    }
  }

  /** With the provider's label, which may name the zone once found. */
  get label (): string {
    return `DNSLink ${this.domain} (${this.provider.label})`
  }

  /** The names written: `_dnslink.<domain>`, then the domain when `bare`. */
  get recordNames (): string[] {
    return this.bare ? [dnslinkName(this.domain), this.domain] : [dnslinkName(this.domain)]
  }

  async preflight (options: OperationOptions): Promise<void> {
    await this.refuseUntrusted()
    for (const name of this.recordNames) {
      await this.provider.preflight(name, this.operation(options))
      // Two dnslink= values would stop the upsert at the very end, after everything else moved: found now.
      singleDnsLink(this.provider.label, name, await this.provider.readTxt(name, this.operation(options)))
    }
  }

  async publish (context: DestinationContext): Promise<NameReport> {
    return await this.write(this.valueFor(context), context)
  }

  /** Upserts `value` (a whole `dnslink=…` TXT value) at every record name: what publish does, and `ipcr dnslink set`. */
  async write (value: string, options: OperationOptions): Promise<NameReport> {
    await this.refuseUntrusted()
    const logger = options.logger ?? this.logger
    const targets: NameTarget[] = []
    for (const name of this.recordNames) {
      const result = await this.provider.upsertDnsLink({ name, value, ttl: this.ttl }, this.operation(options))
      const was = result.previous != null && result.change === 'replaced' ? ` (was ${result.previous})` : ''
      logger.info(`${this.provider.label}: ${name} ${result.change}: ${value}${was}`)
      targets.push({ label: `TXT ${name}`, ok: true, detail: result.change })
    }
    return { kind: this.kind, label: this.label, name: this.domain, value, targets, changed: targets.some((t) => t.detail !== 'unchanged') }
  }

  /** The TXT value for this run: dnslink=/ipns/<name> or dnslink=/ipfs/<root>. */
  valueFor (context: Pick<DestinationContext, 'root' | 'names'>): string {
    const published = [...new Set((context.names ?? []).filter((r) => IPNS_KINDS.has(r.kind)).map((r) => r.name))]
    const kind = this.value ?? (this.ipnsName != null || published.length > 0 ? 'ipns' : 'ipfs')
    if (kind === 'ipfs') return `dnslink=/ipfs/${context.root.toString()}`
    if (this.ipnsName != null) {
      const other = published.find((n) => n !== this.ipnsName)
      if (other != null) throw new InputError('dnslink-value', `the IPNS name given (${this.ipnsName}) is not the one this run published (${other})`)
      return `dnslink=/ipns/${this.ipnsName}`
    }
    if (published.length > 1) throw new InputError('dnslink-value', `this run published ${published.length} IPNS names (${published.join(', ')}): give the one DNSLink names`)
    const name = published[0]
    if (name == null) throw new InputError('dnslink-value', "'ipns' needs an IPNS name: publish one in the same run (before DNSLink) or give it")
    return `dnslink=/ipns/${parseIpnsName(name, 'ipns-name').text}`
  }

  private async refuseUntrusted (): Promise<void> {
    const reason = untrustedTrigger(this.env, await readEventPayload(this.env))
    if (reason == null) return
    if (this.allowUntrusted) {
      this.logger.warn(`${this.label}: changing DNS although ${reason}, as dnslink-allow-untrusted allows`)
      return
    }
    throw new InputError('dnslink-allow-untrusted', `${this.label}: DNS is not changed from an untrusted trigger: ${reason}. Publish DNSLink from a push (or set this option to true if the workflow guards it otherwise)`)
  }

  private operation (options: OperationOptions): OperationOptions {
    return { logger: options.logger ?? this.logger, ...(options.signal != null ? { signal: options.signal } : {}) }
  }
}
