/** Decoding DNS responses with dns-packet, and reading what DNSLink needs from them. */
import dnsPacket from 'dns-packet'
import type { Answer, DecodedPacket } from 'dns-packet'
import { plainName } from './name.js'

/** Most TXT records read at one name (by the RFC 2136 provider and the resolver). */
export const MAX_TXT_RECORDS = 100
/** A DNS exchange's default timeout. */
export const DNS_TIMEOUT_MS = 10_000

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE']

export interface Response {
  packet: DecodedPacket
  rcode: string
  authoritative: boolean
  truncated: boolean
}

/** Throws a plain Error when the bytes are not a DNS response. */
export function decodeResponse (bytes: Buffer): Response {
  if (bytes.length < 12) throw new Error('the response is shorter than a DNS header')
  const packet = dnsPacket.decode(bytes)
  if (!packet.flag_qr) throw new Error('the answer is not a DNS response')
  const code = (bytes[3] as number) & 0xf
  return { packet, rcode: RCODES[code] ?? `RCODE ${code}`, authoritative: packet.flag_aa, truncated: packet.flag_tc }
}

/** The TXT records at `name` among `answers`, each as its strings' bytes. */
export function txtRecords (answers: Answer[] | undefined, name: string): Buffer[][] {
  const wanted = plainName(name)
  const out: Buffer[][] = []
  for (const a of answers ?? []) {
    if (a.type !== 'TXT' || plainName(a.name) !== wanted) continue
    if ((a as { class?: string }).class != null && (a as { class?: string }).class !== 'IN') continue
    const data = Array.isArray(a.data) ? a.data : [a.data]
    out.push(data.map((d) => Buffer.isBuffer(d) ? d : Buffer.from(d)))
  }
  return out
}

/** The owner of the first SOA record in `records`, if any. */
export function soaOwner (records: Answer[] | undefined): string | undefined {
  const soa = (records ?? []).find((a) => a.type === 'SOA')
  return soa != null ? plainName(soa.name) : undefined
}

/** The serial of the SOA record in `records`, if any. */
export function soaSerial (records: Answer[] | undefined): number | undefined {
  const soa = (records ?? []).find((a) => a.type === 'SOA')
  return soa?.type === 'SOA' ? soa.data.serial : undefined
}
