/**
 * DNSLink through RFC 2136 dynamic UPDATE signed with TSIG (RFC 8945): BIND,
 * Knot, PowerDNS and most self-hosted servers. Every request is signed and every
 * response's signature checked. TCP, or UDP when the server refuses TCP
 * connections. An update carries the TXT set it read as its prerequisite, so a
 * change made by someone else in between fails (YXRRSET/NXRRSET) instead of
 * being overwritten.
 */
import { IpcrError } from '../errors.js'
import type { OperationOptions } from '../logger.js'
import { quote } from '../escape.js'
import { DNS_TIMEOUT_MS, MAX_TXT_RECORDS, decodeResponse, soaOwner, txtRecords, type Response } from './message.js'
import { enclosingNames, inZone, parseDomainName } from './name.js'
import { parseTsig, signMessage, verifyResponse, type TsigKey } from './tsig.js'
import { exchange, parseServer, serverText, type DnsServer } from './transport.js'
import { joinTxt, splitTxt } from './txt.js'
import type { DnsLinkResult, DnsLinkUpsert, DnsProvider } from './types.js'
import { checkDnsLinkUpsert, planDnsLink, planResult } from './upsert.js'
import { CLASS, OPCODE, TYPE, encodeMessage, messageId, txtRdata, type WireMessage, type WireRecord } from './wire.js'

export interface Rfc2136Config {
  /** `host[:port]` (option `rfc2136-server`); port 53 by default. */
  server: string
  /** `algorithm:keyname:base64secret` (option `rfc2136-tsig`), as `nsupdate -y` takes it. */
  tsig: string
  /** The zone to update; by default the one whose SOA the server gives for the name. */
  zone?: string
  /** Per request; 10 s by default. */
  timeoutMs?: number
}


/** What a message's RCODE means for an update, in words. */
function updateFailure (rcode: string, name: string, zone: string): string {
  switch (rcode) {
    case 'NOTAUTH': return `is not authoritative for zone ${zone} or did not accept the TSIG key (NOTAUTH)`
    case 'REFUSED': return `refused the update of ${name} in zone ${zone} (REFUSED): the key may not change TXT records there`
    case 'NOTZONE': return `says ${name} is not in zone ${zone} (NOTZONE)`
    case 'YXRRSET':
    case 'NXRRSET':
      return `did not apply the update: the TXT records at ${name} changed since they were read (${rcode}); nothing was changed, run again`
    default: return `answered the update of ${name} in zone ${zone} with ${rcode}`
  }
}

export class Rfc2136Provider implements DnsProvider {
  readonly kind = 'rfc2136'
  private readonly server: DnsServer
  private readonly key: TsigKey
  private readonly zone?: string
  private readonly timeoutMs: number
  /** The last zone found, for the label. */
  private zoneInUse?: string

  constructor (config: Rfc2136Config) {
    this.key = parseTsig(config.tsig ?? '', 'rfc2136-tsig')
    this.server = parseServer(config.server ?? '', 'rfc2136-server')
    if (config.zone != null) {
      this.zone = parseDomainName(config.zone, 'rfc2136-zone')
      this.zoneInUse = this.zone
    }
    this.timeoutMs = config.timeoutMs ?? DNS_TIMEOUT_MS
  }

  get label (): string {
    return `RFC 2136 server ${serverText(this.server)}${this.zoneInUse != null ? ` (zone ${this.zoneInUse}.)` : ''}`
  }

  private fail (message: string, cause?: unknown): IpcrError {
    return new IpcrError('ERR_DNS', `${this.label}: ${message}`, cause != null ? { cause } : undefined)
  }

  /** Sends a signed message and returns the verified response (or an unsigned error response). */
  private async send (message: WireMessage, options: OperationOptions): Promise<Response> {
    const signed = signMessage(encodeMessage(message), this.key)
    let bytes: Buffer
    try {
      bytes = await exchange(this.server, signed.bytes, { protocol: 'tcp', timeoutMs: this.timeoutMs, signal: options.signal })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw this.fail((err as Error).message, err)
      try {
        bytes = await exchange(this.server, signed.bytes, { protocol: 'udp', timeoutMs: this.timeoutMs, signal: options.signal })
      } catch (udpErr) {
        throw this.fail(`TCP: ${(err as Error).message}; UDP: ${(udpErr as Error).message}`, udpErr)
      }
    }
    let response: Response
    let check: ReturnType<typeof verifyResponse>
    try {
      response = decodeResponse(bytes)
      check = verifyResponse(bytes, this.key, signed.mac)
    } catch (err) {
      throw this.fail(`sent a malformed response: ${(err as Error).message}`, err)
    }
    if (response.truncated) throw this.fail('sent a truncated response over UDP (and refuses TCP)')
    if (check.status === 'rejected') {
      throw this.fail(`did not accept the TSIG key ${quote(this.key.name)} (${check.error}${check.error === 'BADTIME' ? ': the clocks differ' : ''})`)
    }
    if (check.status === 'invalid') throw this.fail(`sent a response whose TSIG signature is not valid: ${check.reason}`)
    if (check.status === 'unsigned' && response.rcode === 'NOERROR') throw this.fail('sent an answer without a TSIG signature')
    return response
  }

  private async query (name: string, type: number, options: OperationOptions): Promise<Response> {
    return await this.send({ id: messageId(), opcode: OPCODE.QUERY, questions: [{ name, type, klass: CLASS.IN }] }, options)
  }

  /** Checks that the server answers authoritatively for `zone`'s SOA. */
  private async checkZone (zone: string, options: OperationOptions): Promise<void> {
    const r = await this.query(zone, TYPE.SOA, options)
    if (r.rcode !== 'NOERROR' || !r.authoritative || soaOwner(r.packet.answers) !== zone) {
      throw this.fail(`does not serve zone ${zone} (SOA query: ${r.rcode}${r.rcode === 'NOERROR' && !r.authoritative ? ', not authoritative' : ''})`)
    }
  }

  /** The zone of `name`: the configured one, or the closest enclosing zone whose SOA this server gives. */
  private async zoneOf (name: string, options: OperationOptions): Promise<string> {
    const plain = parseDomainName(name, 'dnslink-domain')
    if (this.zone != null) {
      if (!inZone(plain, this.zone)) throw this.fail(`${quote(plain)} is not in the configured zone ${this.zone}`)
      await this.checkZone(this.zone, options)
      return this.zone
    }
    for (const candidate of enclosingNames(plain)) {
      const r = await this.query(candidate, TYPE.SOA, options)
      if (!r.authoritative || (r.rcode !== 'NOERROR' && r.rcode !== 'NXDOMAIN')) continue
      const owner = soaOwner(r.packet.answers) ?? soaOwner(r.packet.authorities)
      if (owner != null && inZone(plain, owner)) {
        this.zoneInUse = owner
        return owner
      }
    }
    throw this.fail(`serves no zone that contains ${quote(plain)}`)
  }

  /** The TXT records at `name`, each as its strings, read from the server. */
  private async readRecords (name: string, options: OperationOptions): Promise<Buffer[][]> {
    const plain = parseDomainName(name, 'dnslink-domain')
    const r = await this.query(plain, TYPE.TXT, options)
    if (r.rcode === 'NXDOMAIN' && r.authoritative) return []
    if (r.rcode !== 'NOERROR') throw this.fail(`could not read TXT ${quote(plain)}: ${r.rcode}${r.rcode === 'REFUSED' ? ' (the server does not serve that name)' : ''}`)
    if (!r.authoritative) throw this.fail(`is not authoritative for ${quote(plain)}`)
    const records = txtRecords(r.packet.answers, plain)
    if (records.length > MAX_TXT_RECORDS) throw this.fail(`has ${records.length} TXT records at ${quote(plain)}, more than ${MAX_TXT_RECORDS}`)
    return records
  }

  async preflight (name: string, options: OperationOptions): Promise<void> {
    const zone = await this.zoneOf(name, options)
    if (this.zone == null) await this.checkZone(zone, options)
    // A signed UPDATE that changes nothing but is still checked against the key's rights: its
    // prerequisite (the zone apex exists) always holds, and it deletes a TXT value no one has.
    const absent = { name, type: TYPE.TXT, klass: CLASS.NONE, ttl: 0, rdata: txtRdata([Buffer.from('ipcr-preflight-absent')]) }
    await this.update(zone, name, [{ name: zone, type: TYPE.ANY, klass: CLASS.ANY, ttl: 0, rdata: Buffer.alloc(0) }], [absent], options)
  }

  async readTxt (name: string, options: OperationOptions): Promise<string[]> {
    return (await this.readRecords(name, options)).map(joinTxt)
  }

  async upsertDnsLink (request: DnsLinkUpsert, options: OperationOptions): Promise<DnsLinkResult> {
    const upsert = checkDnsLinkUpsert(request)
    const name = upsert.name
    const zone = await this.zoneOf(name, options)
    const records = await this.readRecords(name, options)
    const plan = planDnsLink(this.label, name, records.map(joinTxt), upsert.value)
    if (plan.action === 'unchanged') return planResult(plan)
    const old = plan.action === 'replace' ? records[plan.index] : undefined

    // Prerequisites: the TXT set is exactly what was read (or there is none).
    const prerequisites: WireRecord[] = records.length === 0
      ? [{ name, type: TYPE.TXT, klass: CLASS.NONE, ttl: 0, rdata: Buffer.alloc(0) }]
      : records.map((r) => ({ name, type: TYPE.TXT, klass: CLASS.IN, ttl: 0, rdata: txtRdata(r) }))
    const updates: WireRecord[] = []
    if (old != null) updates.push({ name, type: TYPE.TXT, klass: CLASS.NONE, ttl: 0, rdata: txtRdata(old) })
    // One RRset has one TTL (RFC 2181 5.2): BIND gives the other TXT records at the name this TTL too.
    updates.push({ name, type: TYPE.TXT, klass: CLASS.IN, ttl: upsert.ttl, rdata: txtRdata(splitTxt(upsert.value)) })

    await this.update(zone, name, prerequisites, updates, options)
    return planResult(plan)
  }

  /** Sends an UPDATE of `zone` (about `name`) and throws unless the server applied it. */
  private async update (zone: string, name: string, prerequisites: WireRecord[], updates: WireRecord[], options: OperationOptions): Promise<void> {
    const r = await this.send({
      id: messageId(),
      opcode: OPCODE.UPDATE,
      questions: [{ name: zone, type: TYPE.SOA, klass: CLASS.IN }],
      answers: prerequisites,
      authorities: updates
    }, options)
    if (r.rcode !== 'NOERROR') throw this.fail(updateFailure(r.rcode, name, zone))
  }
}
