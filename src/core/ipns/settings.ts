import { InputError, option, text } from '../errors.js'
import { quote } from '../escape.js'
import { parseDuration } from './duration.js'
import { parseIpnsName } from './name.js'
import { validateGatewayUrl } from '../sources.js'

/** IPNS as the shells read it from inputs or flags; createProviders turns it into name publishers. */
export interface IpnsSettings {
  /**
   * ipns-private-key: records are signed here with it (PEM PKCS#8 text, base64 of a libp2p
   * protobuf key, or the bytes `ipfs key export` writes). With keystoreKey too, it is imported
   * into Kubo's keystore under that name instead and Kubo signs (`name publish`), as before.
   */
  privateKey?: string | Uint8Array
  /** ipns-key: a key in Kubo's keystore (needs kubo-rpc-url); Kubo signs with `name publish`. */
  keystoreKey?: string
  /** ipns-name: the name whose record holds the current root (default: the key's name). */
  name?: string
  /** Go durations: ipns-lifetime (default 48h), ipns-ttl (default 5m), ipns-refresh-within (default 24h). */
  lifetime?: string
  ttl?: string
  refreshWithin?: string
  /** ipns-routers: Delegated Routing V1 HTTP API endpoints (records are read from and put to each). */
  routers?: string[]
  /** Trustless gateways records are also read from (`?format=ipns-record`): the `gateways` input. */
  gateways?: string[]
  /** Where the signed record is written (the action's ipns-record-path output). */
  recordPath?: string
}

export type RunMode = 'publish' | 'republish'

/** The defaults of the IPNS durations (Go syntax), as the options show them. */
export const IPNS_DEFAULTS = { lifetime: '48h', ttl: '5m', refreshWithin: '24h' } as const

/** The IPNS durations in milliseconds, checked: Go durations, ipns-refresh-within at most ipns-lifetime. */
export function ipnsDurations (settings: Pick<IpnsSettings, 'lifetime' | 'ttl' | 'refreshWithin'>): { lifetimeMs: number, ttlMs: number, refreshMs: number } {
  const lifetimeText = settings.lifetime ?? IPNS_DEFAULTS.lifetime
  const refreshText = settings.refreshWithin ?? IPNS_DEFAULTS.refreshWithin
  const lifetimeMs = parseDuration(lifetimeText, 'ipns-lifetime')
  const ttlMs = parseDuration(settings.ttl ?? IPNS_DEFAULTS.ttl, 'ipns-ttl')
  const refreshMs = parseDuration(refreshText, 'ipns-refresh-within')
  if (settings.refreshWithin != null && refreshMs > lifetimeMs) {
    throw new InputError('ipns-refresh-within', text`${quote(refreshText, 40)} is longer than ${option('ipns-lifetime')} (${lifetimeText}): a record would be re-signed on every run; give at most the lifetime`)
  }
  return { lifetimeMs, ttlMs, refreshMs }
}

/**
 * The IPNS options, checked, from a shell's readers (`text(key)`: an option's text or undefined;
 * `list(key)`: its items); undefined when none names a key or a name (no IPNS).
 */
export function ipnsSettingsOf (privateKey: string | Uint8Array | undefined, text: (key: string) => string | undefined, list: (key: string) => string[], recordPath?: string): IpnsSettings | undefined {
  const keystoreKey = text('ipns-key')
  const name = text('ipns-name')
  if (privateKey == null && keystoreKey == null && name == null) return undefined
  if (name != null) parseIpnsName(name, 'ipns-name')
  const durations = { lifetime: text('ipns-lifetime'), ttl: text('ipns-ttl'), refreshWithin: text('ipns-refresh-within') }
  return {
    ...(privateKey != null ? { privateKey } : {}),
    ...(keystoreKey != null ? { keystoreKey } : {}),
    ...(name != null ? { name } : {}),
    ...Object.fromEntries(Object.entries(durations).filter(([, v]) => v != null)),
    routers: list('ipns-routers').map((r) => validateGatewayUrl(r, 'ipns-routers')),
    gateways: list('gateways').map((g) => validateGatewayUrl(g)),
    ...(recordPath != null ? { recordPath } : {})
  }
}
