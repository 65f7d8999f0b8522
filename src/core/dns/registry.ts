import { InputError } from '../errors.js'
import type { Logger } from '../logger.js'
import { CloudflareProvider, type CloudflareConfig } from './cloudflare.js'
import { DnsimpleProvider, type DnsimpleConfig } from './dnsimple.js'
import { PowerDnsProvider, type PowerDnsConfig } from './powerdns.js'
import { Rfc2136Provider, type Rfc2136Config } from './rfc2136.js'
import { Route53Provider, type Route53Config } from './route53.js'
import type { DnsProvider } from './types.js'

type Factory = (config: any, logger: Logger) => DnsProvider

/** DNS providers by `dns-provider` name; each constructor checks its whole configuration without network calls. */
const factories = new Map<string, Factory>([
  ['cloudflare', (config: CloudflareConfig) => new CloudflareProvider(config)],
  ['route53', (config: Route53Config) => new Route53Provider(config)],
  ['dnsimple', (config: DnsimpleConfig) => new DnsimpleProvider(config)],
  ['powerdns', (config: PowerDnsConfig, logger) => new PowerDnsProvider(config, logger)],
  ['rfc2136', (config: Rfc2136Config) => new Rfc2136Provider(config)]
])

/** The names `dns-provider` takes. */
export function dnsProviderNames (): string[] {
  return [...factories.keys()]
}

export function createDnsProvider (kind: string, config: unknown, logger: Logger): DnsProvider {
  const factory = factories.get(kind)
  if (factory == null) throw new InputError('dns-provider', `unknown DNS provider '${kind}' (known: ${dnsProviderNames().join(', ')})`)
  if (typeof config !== 'object' || config == null) throw new InputError('dns-provider', `the ${kind} provider needs its configuration`)
  return factory(config, logger)
}

export function registerDnsProvider (kind: string, factory: Factory): void {
  factories.set(kind, factory)
}
