/**
 * Looking up a domain's DNSLink through a chosen resolver: TXT at
 * `_dnslink.<domain>` first, then at the bare domain. UDP, and TCP again when
 * the answer comes back truncated. CNAMEs in the answer are followed.
 */
import { getServers } from 'node:dns'
import type { Answer } from 'dns-packet'
import { InputError, IpcrError, NameNotFoundError } from '../errors.js'
import { quote } from '../escape.js'
import { DNS_TIMEOUT_MS, MAX_TXT_RECORDS, decodeResponse, txtRecords, type Response } from './message.js'
import { findDnsLink, type TxtReader } from './link.js'
import { plainName } from './name.js'
import { exchange, parseServer, serverText, type DnsServer } from './transport.js'
import { joinTxt } from './txt.js'
import { CLASS, OPCODE, TYPE, encodeMessage, messageId } from './wire.js'

export interface ResolveOptions {
  /** `host[:port]` of the resolver (option `dns-resolver`); port 53 by default. */
  resolver: string
  timeoutMs?: number
  signal?: AbortSignal
}

export interface DnsLinkFound {
  /** Where the values were found: `_dnslink.<domain>` or the domain. */
  name: string
  /** Every dnslink= value there (more than one is the caller's to refuse). */
  values: string[]
}

/** Most CNAMEs followed in one answer. */
const MAX_CNAMES = 8

async function ask (server: DnsServer, name: string, options: ResolveOptions): Promise<Response> {
  const request = encodeMessage({ id: messageId(), opcode: OPCODE.QUERY, recursionDesired: true, questions: [{ name, type: TYPE.TXT, klass: CLASS.IN }] })
  const timeoutMs = options.timeoutMs ?? DNS_TIMEOUT_MS
  const udp = decodeResponse(await exchange(server, request, { protocol: 'udp', timeoutMs, signal: options.signal }))
  if (!udp.truncated) return udp
  return decodeResponse(await exchange(server, request, { protocol: 'tcp', timeoutMs, signal: options.signal }))
}

/** Seconds the answers read so far may be kept: the least TTL of the TXT and CNAME records they held. */
export interface TxtTtl {
  seconds?: number
}

/** The TXT values at `name`, following CNAMEs in the answer; their least TTL goes into `ttl`. */
async function txtAt (server: DnsServer, name: string, options: ResolveOptions, ttl?: TxtTtl): Promise<string[]> {
  let r: Response
  try {
    r = await ask(server, name, options)
  } catch (err) {
    throw new IpcrError('ERR_DNS', `DNS resolver ${serverText(server)}: TXT ${quote(name)}: ${(err as Error).message}`, { cause: err })
  }
  if (r.rcode === 'NXDOMAIN') return []
  if (r.rcode !== 'NOERROR') throw new IpcrError('ERR_DNS', `DNS resolver ${serverText(server)} answered TXT ${quote(name)} with ${r.rcode}`)
  if (r.truncated) throw new IpcrError('ERR_DNS', `DNS resolver ${serverText(server)} sent a truncated answer for TXT ${quote(name)} over TCP`)
  let owner = plainName(name)
  const used: Answer[] = []
  for (let i = 0; i < MAX_CNAMES; i++) {
    const cname = (r.packet.answers ?? []).find((a) => a.type === 'CNAME' && plainName(a.name) === owner)
    if (cname == null) break
    used.push(cname)
    owner = plainName(String((cname as { data: unknown }).data))
  }
  const records = txtRecords(r.packet.answers, owner)
  if (records.length > MAX_TXT_RECORDS) throw new IpcrError('ERR_DNS', `DNS resolver ${serverText(server)}: ${records.length} TXT records at ${quote(name)}, more than ${MAX_TXT_RECORDS}`)
  if (ttl != null && records.length > 0) {
    used.push(...(r.packet.answers ?? []).filter((a) => a.type === 'TXT' && plainName(a.name) === owner))
    for (const answer of used) {
      const seconds = (answer as { ttl?: number }).ttl
      if (typeof seconds === 'number') ttl.seconds = Math.min(ttl.seconds ?? Infinity, seconds)
    }
  }
  return records.map(joinTxt)
}

/**
 * Reads TXT values through the resolver `host[:port]` (option `dns-resolver`): a TxtReader for
 * link.ts. The least TTL of the records that held values goes into `ttl`.
 */
export function resolverReader (options: ResolveOptions, ttl?: TxtTtl): TxtReader {
  const server = parseServer(options.resolver, 'dns-resolver')
  return async (name, op) => await txtAt(server, name, { ...options, signal: op.signal ?? options.signal }, ttl)
}

/** The system's first resolver (/etc/resolv.conf), as `host:port`: the default of `dns-resolver`. */
export function systemResolver (): string {
  const first = getServers()[0]
  if (first == null) throw new InputError('dns-resolver', 'this machine names no DNS resolver: give one (host[:port])')
  return first
}

/** The DNSLink of `domain`: the dnslink= values at `_dnslink.<domain>`, else at `<domain>`; an error when neither has one. */
export async function resolveDnsLink (domain: string, options: ResolveOptions): Promise<DnsLinkFound> {
  const server = parseServer(options.resolver, 'dns-resolver')
  const found = await findDnsLink(domain, resolverReader(options), options)
  if (found != null) return found
  throw noDnsLink(domain, serverText(server))
}

/** The error of a domain with no dnslink= value at `_dnslink.<domain>` or the domain. */
export function noDnsLink (domain: string, resolver: string): NameNotFoundError {
  const bare = plainName(domain)
  return new NameNotFoundError(`no DNSLink for ${quote(bare, 80)}: no dnslink= TXT value at _dnslink.${bare} or ${bare} (resolver ${resolver})`)
}
