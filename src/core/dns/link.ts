/**
 * Following a domain's DNSLink to a registry root: the dnslink= value at
 * `_dnslink.<domain>` (else at the domain), then `/ipfs/<cid>` is the root,
 * `/ipns/<name>` is looked up (every record checked against the name) and
 * `/ipns/<domain>` is that domain's DNSLink, a few levels at most. TXT values come
 * from a resolver (resolve.ts) or, when publishing, from the provider's own API.
 */
import { CID } from 'multiformats/cid'
import { IpcrError } from '../errors.js'
import { quote } from '../escape.js'
import { lookupName } from '../ipns/lookup.js'
import { parseIpnsName, type IpnsName } from '../ipns/name.js'
import type { RecordStore } from '../ipns/types.js'
import { silentLogger, type OperationOptions } from '../logger.js'
import { dnslinkName, parseDomainName, plainName } from './name.js'
import { dnslinkValues } from './types.js'

/** Reads every TXT value at a name (each value's strings joined). */
export type TxtReader = (name: string, options: OperationOptions) => Promise<string[]>

/** DNSLinks followed from one domain to another before giving up. */
export const MAX_DNSLINK_DEPTH = 8

/** Where a DNSLink value points. */
export type LinkTarget =
  | { kind: 'ipfs', root: CID }
  | { kind: 'ipns', name: IpnsName }
  | { kind: 'dnslink', domain: string }

/** A DNSLink's dnslink= values found at `_dnslink.<domain>`, else at the domain; null when neither has one. */
export async function findDnsLink (domain: string, read: TxtReader, options: OperationOptions = {}): Promise<{ name: string, values: string[] } | null> {
  const bare = plainName(domain)
  for (const name of [dnslinkName(bare), bare]) {
    const values = dnslinkValues(await read(name, options))
    if (values.length > 0) return { name, values }
  }
  return null
}

/** The target of one dnslink= value; `where` names the record in errors. A path below a root is not a registry root. */
export function parseLinkValue (value: string, where: string): LinkTarget {
  const path = value.replace(/^dnslink=/, '').trim()
  const m = /^\/(ipfs|ipns)\/([^/]+)\/?$/.exec(path)
  if (m == null) {
    const why = /^\/(ipfs|ipns)\/[^/]+\/./.test(path) ? 'a path inside a root, not a registry root' : 'expected dnslink=/ipfs/<cid> or dnslink=/ipns/<name>'
    throw new IpcrError('ERR_DNSLINK', `${where} holds ${quote(value, 120)}: ${why}`)
  }
  const [, namespace, id] = m as unknown as [string, string, string]
  if (namespace === 'ipfs') {
    try {
      return { kind: 'ipfs', root: CID.parse(id) }
    } catch {
      throw new IpcrError('ERR_DNSLINK', `${where} holds ${quote(value, 120)}: ${quote(id, 80)} is not a CID`)
    }
  }
  if (id.includes('.')) return { kind: 'dnslink', domain: parseDomainName(id, 'dnslink-domain') }
  try {
    return { kind: 'ipns', name: parseIpnsName(id) }
  } catch {
    throw new IpcrError('ERR_DNSLINK', `${where} holds ${quote(value, 120)}: ${quote(id, 80)} is neither an IPNS name nor a domain`)
  }
}

export interface LinkResolution {
  domain: string
  /** Where the value was found: `_dnslink.<domain>` or the domain. */
  record: string
  /** The whole TXT value, e.g. `dnslink=/ipns/k51…`. */
  value: string
  /** Each step followed: `/ipns/<name>`, `/ipns/<domain>`, then `/ipfs/<root>`. */
  path: string[]
  /** The IPNS name followed, when the link went through one. */
  ipnsName?: string
  /** The registry root; null when the link names an IPNS name that has no record yet. */
  root: CID | null
  /** The TTL of the IPNS record the link went through, when it went through one. */
  recordTtlMs?: number
}

export interface FollowOptions extends OperationOptions {
  /** Where `/ipns/<name>` records are read (Kubo, routers, gateways); without any, such a link cannot be followed. */
  stores?: RecordStore[]
}

/** A domain's DNSLink followed to a root; null when the domain has no DNSLink. Two values at one name is an error. */
export async function followDnsLink (domain: string, read: TxtReader, options: FollowOptions = {}): Promise<LinkResolution | null> {
  const logger = options.logger ?? silentLogger
  const path: string[] = []
  let first: { record: string, value: string } | undefined
  let current = plainName(domain)
  for (let depth = 0; depth < MAX_DNSLINK_DEPTH; depth++) {
    const found = await findDnsLink(current, read, options)
    if (found == null) {
      if (first == null) return null
      throw new IpcrError('ERR_DNSLINK', `${quote(domain, 80)} links to ${quote(current, 80)}, which has no DNSLink`)
    }
    if (found.values.length > 1) {
      throw new IpcrError('ERR_DNSLINK', `${found.name} has ${found.values.length} dnslink= values (${found.values.map((v) => quote(v, 80)).join(', ')}): which is meant cannot be told; leave one`)
    }
    const value = found.values[0] as string
    first ??= { record: found.name, value }
    const target = parseLinkValue(value, found.name)
    if (target.kind === 'ipfs') {
      path.push(`/ipfs/${target.root.toString()}`)
      return { domain: plainName(domain), ...first, path, root: target.root }
    }
    if (target.kind === 'dnslink') {
      path.push(`/ipns/${target.domain}`)
      current = target.domain
      continue
    }
    path.push(`/ipns/${target.name.text}`)
    const stores = options.stores ?? []
    if (stores.length === 0) {
      throw new IpcrError('ERR_DNSLINK', `${found.name} links to /ipns/${target.name.text}: reading its record needs a Kubo node, a router or a gateway`)
    }
    const lookup = await lookupName(target.name, stores, { signal: options.signal, logger })
    const record = lookup.current
    const base = { domain: plainName(domain), ...first, path, ipnsName: target.name.text }
    if (record == null) return { ...base, root: null }
    if (record.root == null) throw new IpcrError('ERR_DNSLINK', `/ipns/${target.name.text} holds ${quote(record.value, 120)}, not /ipfs/<cid>: not a registry root`)
    path.push(`/ipfs/${record.root.toString()}`)
    return { ...base, root: record.root, recordTtlMs: record.ttlMs }
  }
  throw new IpcrError('ERR_DNSLINK', `${quote(domain, 80)}: more than ${MAX_DNSLINK_DEPTH} DNSLinks followed (a loop?): ${path.join(' → ')}`)
}
