/**
 * The few pieces of DNS wire format that dns-packet does not write: names in
 * canonical form (for TSIG), resource records of class NONE (RFC 2136 deletes
 * and prerequisites), and the offset of a message's last record (where a TSIG
 * record starts). Everything else is dns-packet's.
 */

import { randomInt } from 'node:crypto'

export const TYPE = { A: 1, SOA: 6, TXT: 16, ANY: 255, TSIG: 250 } as const
export const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const
export const OPCODE = { QUERY: 0, UPDATE: 5 } as const

/** A name in uncompressed wire form; `canonical` lowercases it (RFC 4034 6.2). */
export function encodeName (name: string, canonical = false): Buffer {
  const text = name.replace(/\.$/, '')
  const labels = text === '' ? [] : text.split('.')
  const parts: Buffer[] = []
  for (const label of labels) {
    const bytes = Buffer.from(canonical ? label.toLowerCase() : label, 'utf8')
    if (bytes.length === 0 || bytes.length > 63) throw new Error(`bad label in DNS name ${JSON.stringify(name)}`)
    parts.push(Buffer.from([bytes.length]), bytes)
  }
  parts.push(Buffer.from([0]))
  const out = Buffer.concat(parts)
  if (out.length > 255) throw new Error('DNS name longer than 255 bytes')
  return out
}

/** TXT RDATA: each string as a length byte and its bytes. */
export function txtRdata (strings: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = []
  for (const s of strings) {
    if (s.length > 255) throw new Error('TXT string longer than 255 bytes')
    parts.push(Buffer.from([s.length]), Buffer.from(s))
  }
  return Buffer.concat(parts)
}

export interface WireRecord {
  name: string
  type: number
  klass: number
  ttl: number
  rdata: Uint8Array
}

export function encodeRecord (r: WireRecord): Buffer {
  const fixed = Buffer.alloc(10)
  fixed.writeUInt16BE(r.type, 0)
  fixed.writeUInt16BE(r.klass, 2)
  fixed.writeUInt32BE(r.ttl, 4)
  fixed.writeUInt16BE(r.rdata.length, 8)
  return Buffer.concat([encodeName(r.name), fixed, Buffer.from(r.rdata)])
}

export interface WireMessage {
  id: number
  opcode: number
  /** Query questions, or an UPDATE's zone section. */
  questions: Array<{ name: string, type: number, klass: number }>
  /** Answers, or an UPDATE's prerequisites. */
  answers?: WireRecord[]
  /** Authorities, or an UPDATE's updates. */
  authorities?: WireRecord[]
  /** RD: ask a resolver to recurse. */
  recursionDesired?: boolean
}

/** A message with no name compression and no additional records (TSIG is added after). */
export function encodeMessage (m: WireMessage): Buffer {
  const answers = m.answers ?? []
  const authorities = m.authorities ?? []
  const header = Buffer.alloc(12)
  header.writeUInt16BE(m.id, 0)
  header.writeUInt16BE(((m.opcode & 0xf) << 11) | (m.recursionDesired === true ? 0x100 : 0), 2)
  header.writeUInt16BE(m.questions.length, 4)
  header.writeUInt16BE(answers.length, 6)
  header.writeUInt16BE(authorities.length, 8)
  header.writeUInt16BE(0, 10)
  const parts: Buffer[] = [header]
  for (const q of m.questions) {
    const fixed = Buffer.alloc(4)
    fixed.writeUInt16BE(q.type, 0)
    fixed.writeUInt16BE(q.klass, 2)
    parts.push(encodeName(q.name), fixed)
  }
  for (const r of [...answers, ...authorities]) parts.push(encodeRecord(r))
  return Buffer.concat(parts)
}

/** Offset just past the (possibly compressed) name at `offset`. */
function skipName (buf: Uint8Array, offset: number): number {
  for (let i = 0; i < 128; i++) {
    if (offset >= buf.length) throw new Error('DNS message cut short in a name')
    const len = buf[offset] as number
    if (len === 0) return offset + 1
    if ((len & 0xc0) === 0xc0) return offset + 2
    if ((len & 0xc0) !== 0) throw new Error('bad label type in DNS message')
    offset += 1 + len
  }
  throw new Error('DNS name with too many labels')
}

/** Where each record of the message starts, in order (answers, authorities, additionals). */
export function recordOffsets (buf: Buffer): number[] {
  if (buf.length < 12) throw new Error('DNS message shorter than its header')
  const qd = buf.readUInt16BE(4)
  const rr = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10)
  let offset = 12
  for (let i = 0; i < qd; i++) offset = skipName(buf, offset) + 4
  const offsets: number[] = []
  for (let i = 0; i < rr; i++) {
    offsets.push(offset)
    offset = skipName(buf, offset)
    if (offset + 10 > buf.length) throw new Error('DNS message cut short in a record')
    offset += 10 + buf.readUInt16BE(offset + 8)
  }
  if (offset > buf.length) throw new Error('DNS message cut short in a record')
  return offsets
}

/** A random 16-bit message ID. */
export function messageId (): number {
  return randomInt(0x10000)
}
