/**
 * TSIG (RFC 8945): a shared-secret HMAC over a DNS message, as `nsupdate -y`
 * and BIND use it. dns-packet does not write or check TSIG records; this does.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { InputError } from '../errors.js'
import { addSecret } from '../redact.js'
import { plainName } from './name.js'
import { CLASS, TYPE, encodeName, recordOffsets } from './wire.js'

/** Algorithm names as `nsupdate -y` takes them → Node's hash and the wire name. */
const ALGORITHMS: Record<string, { hash: string, wire: string }> = {
  'hmac-sha1': { hash: 'sha1', wire: 'hmac-sha1' },
  'hmac-sha224': { hash: 'sha224', wire: 'hmac-sha224' },
  'hmac-sha256': { hash: 'sha256', wire: 'hmac-sha256' },
  'hmac-sha384': { hash: 'sha384', wire: 'hmac-sha384' },
  'hmac-sha512': { hash: 'sha512', wire: 'hmac-sha512' }
}

/** Seconds of clock difference a signature may have (RFC 8945 recommends 300). */
export const FUDGE = 300

/** TSIG extended errors (RFC 8945 section 3). */
const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' }

export interface TsigKey {
  /** e.g. `hmac-sha256`. */
  algorithm: string
  /** The key's name, e.g. `ipcr-key` (no trailing dot). */
  name: string
  secret: Buffer
}

/** Parses `algorithm:keyname:base64secret`; never puts the secret in an error. */
export function parseTsig (text: string, input = 'rfc2136-tsig'): TsigKey {
  const parts = text.trim().split(':')
  if (parts.length !== 3) throw new InputError(input, 'expected algorithm:keyname:base64secret (the form nsupdate -y takes)')
  const [algorithm, name, secretText] = parts as [string, string, string]
  if (secretText.length > 0) addSecret(secretText)
  const alg = algorithm.toLowerCase()
  if (ALGORITHMS[alg] == null) {
    throw new InputError(input, `unknown TSIG algorithm; use one of ${Object.keys(ALGORITHMS).join(', ')}`)
  }
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/.test(name) || name.length > 253) {
    throw new InputError(input, 'the key name is not a DNS name')
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secretText) || secretText.length % 4 !== 0) {
    throw new InputError(input, 'the secret is not base64')
  }
  const secret = Buffer.from(secretText, 'base64')
  if (secret.length === 0) throw new InputError(input, 'the secret is empty')
  addSecret(secret)
  return { algorithm: alg, name: plainName(name), secret }
}

function uint48 (value: number): Buffer {
  const b = Buffer.alloc(6)
  b.writeUIntBE(value, 0, 6)
  return b
}

function uint16 (value: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(value, 0)
  return b
}

/** The TSIG variables the MAC covers (RFC 8945 4.3.3). */
function variables (key: TsigKey, time: number, fudge: number, error: number, other: Buffer): Buffer {
  const ttl = Buffer.alloc(4)
  return Buffer.concat([
    encodeName(key.name, true), uint16(CLASS.ANY), ttl,
    encodeName(ALGORITHMS[key.algorithm]!.wire, true),
    uint48(time), uint16(fudge), uint16(error), uint16(other.length), other
  ])
}

function hmac (key: TsigKey, ...parts: Buffer[]): Buffer {
  const h = createHmac(ALGORITHMS[key.algorithm]!.hash, key.secret)
  for (const p of parts) h.update(p)
  return h.digest()
}

export interface Signed {
  /** The message with its TSIG record appended. */
  bytes: Buffer
  /** The request MAC, which the response's MAC covers. */
  mac: Buffer
}

/** Appends a TSIG record to `message` (which has no additional records of its own that follow). */
export function signMessage (message: Buffer, key: TsigKey, now = Date.now()): Signed {
  const time = Math.floor(now / 1000)
  const mac = hmac(key, message, variables(key, time, FUDGE, 0, Buffer.alloc(0)))
  const id = message.readUInt16BE(0)
  const rdata = Buffer.concat([
    encodeName(ALGORITHMS[key.algorithm]!.wire), uint48(time), uint16(FUDGE),
    uint16(mac.length), mac, uint16(id), uint16(0), uint16(0)
  ])
  const fixed = Buffer.alloc(10)
  fixed.writeUInt16BE(TYPE.TSIG, 0)
  fixed.writeUInt16BE(CLASS.ANY, 2)
  fixed.writeUInt32BE(0, 4)
  fixed.writeUInt16BE(rdata.length, 8)
  const bytes = Buffer.concat([message, encodeName(key.name), fixed, rdata])
  bytes.writeUInt16BE(bytes.readUInt16BE(10) + 1, 10)
  return { bytes, mac }
}

/** What a response's TSIG said. */
export type TsigCheck =
  | { status: 'verified' }
  /** The response carries no TSIG record. */
  | { status: 'unsigned' }
  /** The server reported a TSIG error (its key name, signature or clock did not match). */
  | { status: 'rejected', error: string }
  /** The MAC, key name, algorithm or time is wrong. */
  | { status: 'invalid', reason: string }

function readName (buf: Buffer, offset: number): { name: string, end: number } {
  const labels: string[] = []
  let end = -1
  for (let i = 0; i < 128; i++) {
    const len = buf[offset]
    if (len == null) throw new Error('cut short')
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = offset + 2
      offset = ((len & 0x3f) << 8) | (buf[offset + 1] as number)
      continue
    }
    if (len === 0) return { name: labels.join('.'), end: end < 0 ? offset + 1 : end }
    labels.push(buf.subarray(offset + 1, offset + 1 + len).toString('latin1'))
    offset += 1 + len
  }
  throw new Error('name loop')
}

/** Checks the TSIG record at the end of `response` against the request's MAC. */
export function verifyResponse (response: Buffer, key: TsigKey, requestMac: Buffer, now = Date.now()): TsigCheck {
  const arcount = response.readUInt16BE(10)
  if (arcount === 0) return { status: 'unsigned' }
  const offsets = recordOffsets(response)
  const start = offsets[offsets.length - 1] as number
  const owner = readName(response, start)
  let p = owner.end
  if (response.readUInt16BE(p) !== TYPE.TSIG) return { status: 'unsigned' }
  const rdlength = response.readUInt16BE(p + 8)
  p += 10
  const rdEnd = p + rdlength
  const alg = readName(response, p)
  p = alg.end
  if (p + 10 > rdEnd) return { status: 'invalid', reason: 'TSIG record cut short' }
  const time = response.readUIntBE(p, 6)
  const fudge = response.readUInt16BE(p + 6)
  const macSize = response.readUInt16BE(p + 8)
  p += 10
  const mac = response.subarray(p, p + macSize)
  p += macSize
  if (p + 6 > rdEnd) return { status: 'invalid', reason: 'TSIG record cut short' }
  const originalId = response.readUInt16BE(p)
  const error = response.readUInt16BE(p + 2)
  const otherLen = response.readUInt16BE(p + 4)
  const other = response.subarray(p + 6, p + 6 + otherLen)
  if (p + 6 + otherLen !== rdEnd) return { status: 'invalid', reason: 'TSIG record has a wrong length' }
  if (error !== 0 && macSize === 0) return { status: 'rejected', error: TSIG_ERRORS[error] ?? `TSIG error ${error}` }
  if (plainName(owner.name) !== key.name) return { status: 'invalid', reason: 'response signed with another key name' }
  if (plainName(alg.name) !== ALGORITHMS[key.algorithm]!.wire) return { status: 'invalid', reason: 'response signed with another algorithm' }
  // The MAC covers the response as it was before the TSIG record: original ID, one fewer additional record.
  const unsigned = Buffer.from(response.subarray(0, start))
  unsigned.writeUInt16BE(originalId, 0)
  unsigned.writeUInt16BE(arcount - 1, 10)
  const expected = hmac(key, uint16(requestMac.length), requestMac, unsigned, variables(key, time, fudge, error, Buffer.from(other)))
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return { status: 'invalid', reason: 'response MAC does not match' }
  if (error !== 0) return { status: 'rejected', error: TSIG_ERRORS[error] ?? `TSIG error ${error}` }
  if (Math.abs(Math.floor(now / 1000) - time) > fudge) return { status: 'invalid', reason: 'response signed at a time outside the allowed clock difference' }
  return { status: 'verified' }
}
