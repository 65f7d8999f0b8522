import type { PrivateKey } from '@libp2p/interface'
import { createIPNSRecordWithExpiration, extractPublicKeyFromIPNSRecord, marshalIPNSRecord, multihashToIPNSRoutingKey, unmarshalIPNSRecord } from 'ipns'
import { publicKeyFromMultihash } from '@libp2p/crypto/keys'
import { CID } from 'multiformats/cid'
import { IpnsRecordError } from '../errors.js'
import { remoteMessage } from '../redact.js'
import type { IpnsName } from './name.js'

/** The IPNS record size limit of the specification (and of every implementation). */
export const MAX_RECORD_BYTES = 10 * 1024

/** What a V2 signature covers: this prefix and the record's CBOR data. */
const SIGNATURE_PREFIX = Buffer.from('ipns-signature:')

/** A record that was signed here or checked against its name. */
export interface IpnsRecordInfo {
  name: IpnsName
  /** The record's value as written, e.g. `/ipfs/bafy…`. */
  value: string
  /** The root CID when the value is `/ipfs/<cid>`. */
  root?: CID
  sequence: bigint
  /** End of validity (EOL). */
  validity: Date
  /** How long resolvers may cache it, in milliseconds. */
  ttlMs: number
  /** The marshalled record, as stored and sent. */
  bytes: Uint8Array
}

export interface SignOptions {
  sequence: bigint
  /** Validity from `now`, in milliseconds. */
  lifetimeMs: number
  ttlMs: number
  now?: number
}

/** RFC 3339 with nanoseconds, as go-ipns writes EOLs. */
function rfc3339 (ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z')
}

/** Signs `/ipfs/<root>` with V1 and V2 signatures (readable by old and new resolvers). */
export async function signRecord (key: PrivateKey, name: IpnsName, root: CID, options: SignOptions): Promise<IpnsRecordInfo> {
  const now = options.now ?? Date.now()
  const validity = rfc3339(now + options.lifetimeMs)
  const record = await createIPNSRecordWithExpiration(key, `/ipfs/${root.toV1().toString()}`, options.sequence, validity, {
    v1Compatible: true,
    ttlNs: BigInt(Math.round(options.ttlMs)) * 1_000_000n
  })
  const bytes = marshalIPNSRecord(record)
  return await inspectRecord(name, bytes, { source: 'the record signed here', now })
}

/** Re-signs a record's value with a new validity and sequence (republish). */
export async function resignRecord (key: PrivateKey, record: IpnsRecordInfo, options: SignOptions): Promise<IpnsRecordInfo> {
  if (record.root == null) throw new IpnsRecordError(`the record of /ipns/${record.name.text} holds ${remoteMessage(record.value, 120)}, not /ipfs/<cid>: ipcr republishes only registry roots`)
  return await signRecord(key, record.name, record.root, options)
}

export interface InspectOptions {
  /** Where the record came from, for messages: `router https://…`, `Kubo http://…`. */
  source: string
  now?: number
  /** Accept an expired record (its sequence still counts); default false. */
  allowExpired?: boolean
}

/**
 * Checks a record against the name it was fetched for: at most 10 KiB, a
 * public key that is the name's (embedded in the name, or in the record and
 * hashing to it), a V2 signature by that key, an EOL validity not past (unless
 * allowed), and a value that is a path. Any failure is an IpnsRecordError
 * that names the source.
 */
export async function inspectRecord (name: IpnsName, bytes: Uint8Array, options: InspectOptions): Promise<IpnsRecordInfo> {
  const refuse = (why: string): IpnsRecordError => new IpnsRecordError(`IPNS record for /ipns/${name.text} from ${options.source}: ${why}`)
  if (bytes.byteLength > MAX_RECORD_BYTES) throw refuse(`${bytes.byteLength} bytes, more than the ${MAX_RECORD_BYTES} an IPNS record may have`)
  let record
  try {
    record = unmarshalIPNSRecord(bytes)
  } catch (err) {
    throw refuse(`not a valid IPNS record (${remoteMessage((err as Error).message, 120)})`)
  }
  let publicKey
  try {
    publicKey = extractPublicKeyFromIPNSRecord(record) ?? (name.multihash.code === 0x00 ? publicKeyFromMultihash(name.multihash as never) : undefined)
  } catch {
    throw refuse('its embedded public key cannot be read')
  }
  if (publicKey == null) throw refuse('it carries no public key and the name does not embed one')
  const routingKey = multihashToIPNSRoutingKey(publicKey.toMultihash() as never)
  if (Buffer.compare(Buffer.from(routingKey), Buffer.from(name.routingKey)) !== 0) {
    throw refuse('it is signed by the key of another name (refused: a record for a different name, or forged)')
  }
  let signed = false
  try {
    signed = await publicKey.verify(Buffer.concat([SIGNATURE_PREFIX, record.data]), record.signatureV2)
  } catch {}
  if (!signed) throw refuse('its signature does not verify against the name\'s key (refused: forged or corrupted)')
  // unmarshalIPNSRecord checked that V1 fields match the signed CBOR data.
  const validity = parseValidity(record.validity)
  if (validity == null) throw refuse(`its validity ${remoteMessage(record.validity, 60)} is not an RFC 3339 time`)
  const now = options.now ?? Date.now()
  if (validity.getTime() <= now && options.allowExpired !== true) throw refuse(`it expired at ${validity.toISOString()}`)
  const value = record.value
  const match = /^\/ipfs\/([A-Za-z0-9]+)$/.exec(value)
  let root: CID | undefined
  if (match != null) {
    try {
      root = CID.parse(match[1] as string)
    } catch {}
  }
  const ttl = record.ttl ?? 0n
  return {
    name,
    value,
    ...(root != null ? { root } : {}),
    sequence: record.sequence,
    validity,
    ttlMs: Number(ttl / 1_000_000n),
    bytes
  }
}

/** An RFC 3339 EOL with up to nanosecond precision, as Date (milliseconds). */
function parseValidity (text: string): Date | null {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text)
  if (match == null) return null
  const fraction = (match[2] ?? '').padEnd(3, '0').slice(0, 3)
  const time = Date.parse(`${match[1] as string}.${fraction}${match[3] as string}`)
  return Number.isFinite(time) ? new Date(time) : null
}

/** The better of two records of one name, as IPNS selects: higher sequence, then later validity. */
export function newer (a: IpnsRecordInfo, b: IpnsRecordInfo): IpnsRecordInfo {
  if (a.sequence !== b.sequence) return a.sequence > b.sequence ? a : b
  return a.validity.getTime() >= b.validity.getTime() ? a : b
}
