import { InputError, option, text as message } from '../errors.js'
import { quote } from '../escape.js'
import { validateGatewayUrl } from '../sources.js'
import type { DnsLinkValueKind } from './publisher.js'
import { dnsProviderNames } from './registry.js'
import { parseDomainName } from './name.js'

/** DNSLink as the shells read it; createProviders turns it into a publisher (with a provider) or a name read (without). */
export interface DnsLinkSettings {
  /** `dnslink-domain`. */
  domain: string
  /** `dns-provider`; absent: the DNSLink is only read (the previous root), through `dns-resolver`. */
  provider?: string
  /** The provider's configuration, from its own options. */
  providerConfig?: object
  /** `dnslink-value`; default `ipns` when this run publishes an IPNS name, else `ipfs`. */
  value?: DnsLinkValueKind
  ttl?: number
  bare?: boolean
  allowUntrusted?: boolean
  /** `dns-resolver` (host[:port]); default the system's. */
  resolver?: string
  /** Where a DNSLink to /ipns/<name> is followed, besides Kubo: `ipns-routers` and `gateways`. */
  routers?: string[]
  gateways?: string[]
}

/** The options of each provider: only the chosen provider's may be set. */
const PROVIDER_OPTIONS: Record<string, string[]> = {
  cloudflare: ['cloudflare-api-token', 'cloudflare-zone-id', 'dns-api-url'],
  route53: ['route53-hosted-zone-id', 'route53-wait', 'dns-api-url'],
  dnsimple: ['dnsimple-token', 'dnsimple-account-id', 'dns-zone', 'dns-api-url'],
  powerdns: ['powerdns-api-url', 'powerdns-api-key', 'powerdns-server-id', 'dns-zone'],
  rfc2136: ['rfc2136-server', 'rfc2136-tsig', 'dns-zone']
}

/** Options that change DNS, so they need `dns-provider`. */
const WRITE_OPTIONS = ['dnslink-value', 'dnslink-ttl', 'dnslink-bare', 'dnslink-allow-untrusted']

/** Every option this module reads. */
const DNS_OPTION_KEYS = ['dnslink-domain', 'dns-provider', 'dns-resolver', ...WRITE_OPTIONS, ...new Set(Object.values(PROVIDER_OPTIONS).flat())]

/** `read`, asking the shell once per key. */
function once<T> (read: (key: string) => T): (key: string) => T {
  const seen = new Map<string, T>()
  return (key) => {
    if (!seen.has(key)) seen.set(key, read(key))
    return seen.get(key) as T
  }
}

/** The provider's config object from its options (each constructor checks it in full). */
function providerConfig (provider: string, text: (key: string) => string | undefined, flag: (key: string) => boolean | undefined): object {
  const zone = text('dns-zone')
  const api = text('dns-api-url')
  const some = (entries: Record<string, unknown>): object => Object.fromEntries(Object.entries(entries).filter(([, v]) => v != null))
  switch (provider) {
    case 'cloudflare': return some({ apiToken: text('cloudflare-api-token') ?? '', zoneId: text('cloudflare-zone-id'), baseUrl: api })
    case 'route53': return some({ hostedZoneId: text('route53-hosted-zone-id') ?? '', endpoint: api, waitForSync: flag('route53-wait') })
    case 'dnsimple': return some({ token: text('dnsimple-token') ?? '', accountId: text('dnsimple-account-id') ?? '', zone, baseUrl: api })
    case 'powerdns': return some({ apiUrl: text('powerdns-api-url') ?? '', apiKey: text('powerdns-api-key') ?? '', serverId: text('powerdns-server-id'), zone })
    case 'rfc2136': return some({ server: text('rfc2136-server') ?? '', tsig: text('rfc2136-tsig') ?? '', zone })
    default: return {}
  }
}

/**
 * The DNSLink options, checked, from a shell's readers: `text(key)` an option's text (secrets
 * already masked by the shell), `flag(key)` a boolean option, `list(key)` a list's items. Undefined when no DNSLink option is set.
 */
export function dnsLinkSettingsOf (readText: (key: string) => string | undefined, readFlag: (key: string) => boolean | undefined, list: (key: string) => string[]): DnsLinkSettings | undefined {
  // Each option read once: a shell's reader of a secret masks it as it reads.
  const text = once(readText)
  const flag = once(readFlag)
  const set = (key: string): boolean => text(key) != null || flag(key) != null
  const domainText = text('dnslink-domain')
  const provider = text('dns-provider')
  if (domainText == null) {
    const stray = DNS_OPTION_KEYS.find((key) => key !== 'dnslink-domain' && set(key))
    if (stray != null) throw new InputError(stray, message`set ${option('dnslink-domain')} too (the domain whose DNSLink this is about)`)
    return undefined
  }
  const domain = parseDomainName(domainText, 'dnslink-domain').replace(/^_dnslink\./, '')
  if (provider != null && !dnsProviderNames().includes(provider)) {
    throw new InputError('dns-provider', `${quote(provider, 40)} is not a DNS provider (expected one of ${dnsProviderNames().join(', ')})`)
  }
  for (const [name, keys] of Object.entries(PROVIDER_OPTIONS)) {
    for (const key of keys) {
      if (!set(key) || (provider != null && PROVIDER_OPTIONS[provider]?.includes(key) === true)) continue
      if (provider == null) throw new InputError(key, message`set ${option('dns-provider')} too (${option(key)} belongs to the ${name} provider)`)
      throw new InputError(key, message`${option(key)} is not an option of the ${provider} provider (${option('dns-provider')}); it belongs to ${Object.entries(PROVIDER_OPTIONS).filter(([, k]) => k.includes(key)).map(([n]) => n).join(' and ')}`)
    }
  }
  if (provider == null) {
    const write = WRITE_OPTIONS.find(set)
    if (write != null) throw new InputError(write, message`changing DNS needs ${option('dns-provider')} (without one, ${option('dnslink-domain')} is only read)`)
  }
  const value = text('dnslink-value')
  if (value != null && value !== 'ipns' && value !== 'ipfs') {
    throw new InputError('dnslink-value', `${quote(value, 40)}: expected 'ipns' (dnslink=/ipns/<name>) or 'ipfs' (dnslink=/ipfs/<root>)`)
  }
  const ttlText = text('dnslink-ttl')
  const ttl = ttlText != null ? Number(ttlText) : undefined
  if (ttlText != null && (!/^\d+$/.test(ttlText.trim()) || ttl == null || ttl < 1)) throw new InputError('dnslink-ttl', `${quote(ttlText, 40)} is not a whole number of seconds (1 or more)`)
  const resolver = text('dns-resolver')
  return {
    domain,
    ...(provider != null ? { provider, providerConfig: providerConfig(provider, text, flag) } : {}),
    ...(value != null ? { value } : {}),
    ...(ttl != null ? { ttl } : {}),
    ...(flag('dnslink-bare') != null ? { bare: flag('dnslink-bare') } : {}),
    ...(flag('dnslink-allow-untrusted') != null ? { allowUntrusted: flag('dnslink-allow-untrusted') } : {}),
    ...(resolver != null ? { resolver } : {}),
    routers: list('ipns-routers').map((r) => validateGatewayUrl(r, 'ipns-routers')),
    gateways: list('gateways').map((g) => validateGatewayUrl(g))
  }
}
