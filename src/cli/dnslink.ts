import { CID } from 'multiformats/cid'
import { InputError, escapeControl, option, text, type NameReport } from '../core/index.js'
import { parseLinkValue } from '../core/dns/link.js'
import { lookupDnsLink } from '../core/dns/lookup.js'
import { DnsLinkPublisher } from '../core/dns/publisher.js'
import { dnsLinkSettingsOf, type DnsLinkSettings } from '../core/dns/settings.js'
import { parseIpnsName } from '../core/ipns/name.js'
import { definition } from '../options/definitions.js'
import { cliLogger } from './logger.js'
import { envSecret, list, lookupOptionsOf, maybe, str, type Out, type Value } from './values.js'

/**
 * The DNSLink flags (the domain from `domain` when a command takes it as an argument).
 * Provider secrets come from their environment variables, read only when --dns-provider is given.
 */
export function dnsLinkSettings (value: Value, domain?: string): DnsLinkSettings | undefined {
  const provider = str(maybe(value, 'dns-provider'))
  return dnsLinkSettingsOf(
    (key) => {
      if (key === 'dnslink-domain' && domain != null) return domain
      if (definition(key)?.env != null) return provider != null ? envSecret(key) : undefined
      return str(maybe(value, key))
    },
    (key) => maybe(value, key) === true ? true : undefined,
    (key) => list(maybe(value, key)))
}

/** What `read` returns, or undefined when it throws. */
function attempt<T> (read: () => T): T | undefined {
  try {
    return read()
  } catch {
    return undefined
  }
}

/** VALUE of `dnslink set`: `/ipfs/<cid>`, `/ipns/<name or domain>`, with or without `dnslink=`, or a bare CID or IPNS name. */
export function dnsLinkValueOf (given: string): string {
  const path = given.trim().replace(/^dnslink=/, '')
  let full = path
  if (!path.startsWith('/')) {
    // Qm… is a CIDv0 (an RSA peer ID looks the same: give it as /ipns/Qm…).
    const asName = path.startsWith('Qm') ? undefined : attempt(() => parseIpnsName(path).text)
    const asCid = asName == null ? attempt(() => CID.parse(path).toString()) : undefined
    if (asName != null) full = `/ipns/${asName}`
    else if (asCid != null) full = `/ipfs/${asCid}`
    else throw new InputError('VALUE', `${JSON.stringify(given.slice(0, 80))} is not /ipfs/<cid>, /ipns/<name>, a CID or an IPNS name`)
  }
  try {
    parseLinkValue(full, 'VALUE')
  } catch (err) {
    throw new InputError('VALUE', (err as Error).message.replace(/^VALUE holds /, ''))
  }
  return `dnslink=${full}`
}

function printReport (report: NameReport, json: boolean, print: Out): void {
  if (json) {
    print(JSON.stringify(report, null, 2))
    return
  }
  const out: Out = (line) => { print(escapeControl(line)) }
  out(`${report.changed === true ? 'Set' : 'Unchanged'}: ${report.value}`)
  for (const t of report.targets ?? []) out(`  ${t.label}: ${t.detail}`)
}

/** `ipcr dnslink set DOMAIN VALUE`: upserts the DNSLink through the provider's API, as a publish does last. */
export async function dnslinkSet (domain: string, target: string, value: Value, out: Out, signal?: AbortSignal): Promise<number> {
  const settings = dnsLinkSettings(value, domain) as DnsLinkSettings
  if (settings.provider == null) throw new InputError('dns-provider', text`set ${option('dns-provider')}: the provider whose API writes the record`)
  const txt = dnsLinkValueOf(target)
  const json = value('json') === true
  const logger = cliLogger(value('quiet') === true || json, value('verbose') === true)
  const publisher = new DnsLinkPublisher({
    domain: settings.domain,
    provider: settings.provider,
    providerConfig: settings.providerConfig ?? {},
    ...(settings.ttl != null ? { ttl: settings.ttl } : {}),
    ...(settings.bare != null ? { bare: settings.bare } : {}),
    ...(settings.allowUntrusted != null ? { allowUntrusted: settings.allowUntrusted } : {})
  }, logger)
  await publisher.preflight({ signal, logger })
  printReport(await publisher.write(txt, { signal, logger }), json, out)
  return 0
}

/** `ipcr dnslink get DOMAIN`: the DNSLink through a resolver, followed to the registry root. */
export async function dnslinkGet (domain: string, value: Value, out: Out, signal?: AbortSignal): Promise<number> {
  const json = value('json') === true
  const logger = cliLogger(value('quiet') === true || json, value('verbose') === true)
  const found = await lookupDnsLink(domain, { ...lookupOptionsOf(value), signal, logger })
  if (json) {
    out(JSON.stringify({ ...found, root: found.root?.toString() ?? null }, null, 2))
    return 0
  }
  const print: Out = (line) => { out(escapeControl(line)) }
  print(`${found.record}: ${found.value}`)
  print(`  followed  ${found.path.join(' → ')}`)
  print(`  root      ${found.root?.toString() ?? `none yet (/ipns/${found.ipnsName ?? ''} has no record)`}`)
  return 0
}
