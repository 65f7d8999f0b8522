import { privateKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { createHash, createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { InputError } from '../errors.js'
import { quote } from '../escape.js'
import { addSecret, remoteMessage } from '../redact.js'
import type { AbortOptions } from '../logger.js'
import { KuboError, type KuboRpc } from './rpc.js'

export interface PrivateKeyFile {
  bytes: Uint8Array
  format: 'libp2p-protobuf-cleartext' | 'pem-pkcs8-cleartext'
}

/**
 * A key secret: PEM (PKCS#8) text, base64 of a libp2p protobuf private key, or
 * (as bytes) the binary libp2p protobuf file `ipfs key export` writes.
 */
export function parsePrivateKey (secret: string | Uint8Array, input = 'ipns-private-key'): PrivateKeyFile {
  if (typeof secret !== 'string') {
    addSecret(secret)
    try {
      privateKeyFromProtobuf(secret)
      return { bytes: secret, format: 'libp2p-protobuf-cleartext' }
    } catch {
      return parsePrivateKey(Buffer.from(secret).toString('utf8'), input)
    }
  }
  const text = secret.trim()
  // The key, each line of it (PEM) and its bytes are secrets: redacted from anything ipcr prints.
  addSecret(text)
  for (const line of text.split(/\r?\n/)) if (!line.startsWith('-----')) addSecret(line)
  if (text.startsWith('-----BEGIN PRIVATE KEY-----')) {
    pemPrivateKey(text, input)
    return { bytes: new TextEncoder().encode(`${text}\n`), format: 'pem-pkcs8-cleartext' }
  }
  const block = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1]
  if (block != null) {
    throw new InputError(input, `a PEM '${block}' block is not a PKCS#8 private key ('BEGIN PRIVATE KEY', unencrypted); convert it with 'openssl pkcs8 -topk8 -nocrypt -in KEY.pem'`)
  }
  if (!/^[A-Za-z0-9+/=_-]+$/.test(text)) throw new InputError(input, 'expected a PEM PKCS#8 private key or base64 of a libp2p protobuf private key')
  const bytes = Buffer.from(text, 'base64')
  try {
    privateKeyFromProtobuf(bytes)
  } catch {
    throw new InputError(input, 'expected a PEM PKCS#8 private key or base64 of a libp2p protobuf private key (the base64 does not decode to a libp2p key)')
  }
  addSecret(bytes)
  return { bytes, format: 'libp2p-protobuf-cleartext' }
}

/** A PEM PKCS#8 private key of a type Kubo imports (Ed25519, RSA, ECDSA), checked before Kubo sees it. */
export function pemPrivateKey (text: string, input = 'ipns-private-key'): KeyObject {
  const expected = 'expected a PEM PKCS#8 private key (Ed25519, RSA or ECDSA; e.g. from `openssl genpkey -algorithm ed25519`) or base64 of a libp2p protobuf private key'
  let key: KeyObject
  try {
    key = createPrivateKey({ key: text, format: 'pem' })
  } catch {
    throw new InputError(input, `the PEM block is not a readable private key (${expected})`)
  }
  if (!['ed25519', 'rsa', 'ec'].includes(key.asymmetricKeyType ?? '')) {
    throw new InputError(input, `a ${key.asymmetricKeyType ?? 'unknown'} key cannot be an IPNS key (${expected})`)
  }
  return key
}

/** The libp2p protobuf of a public key, as go-libp2p marshals it (Ed25519: raw; RSA, ECDSA: PKIX DER). */
function publicKeyProtobuf (key: KeyObject): Uint8Array {
  const publicKey = key.type === 'public' ? key : createPublicKey(key)
  const [type, data] = publicKey.asymmetricKeyType === 'ed25519'
    ? [1, Buffer.from(String(publicKey.export({ format: 'jwk' }).x), 'base64url')]
    : [publicKey.asymmetricKeyType === 'rsa' ? 0 : 3, publicKey.export({ type: 'spki', format: 'der' })]
  const length: number[] = []
  for (let n = data.length; ; n >>>= 7) {
    if (n < 0x80) { length.push(n); break }
    length.push((n & 0x7f) | 0x80)
  }
  return Buffer.concat([Uint8Array.from([0x08, type, 0x12, ...length]), data])
}

/**
 * The IPNS name (k51… for Ed25519) of a key, as Kubo derives it: the libp2p-key
 * CID of the public key's protobuf, inlined up to 42 bytes, else its SHA-256.
 */
export function ipnsNameOf (key: PrivateKeyFile): string {
  let proto: Uint8Array
  if (key.format === 'libp2p-protobuf-cleartext') {
    const privateKey = privateKeyFromProtobuf(key.bytes)
    // @libp2p/crypto encodes ECDSA public keys unlike go-libp2p: take them through node:crypto.
    proto = privateKey.type === 'ECDSA'
      ? publicKeyProtobuf(createPublicKey({ key: privateKey.publicKey.jwk as JsonWebKey, format: 'jwk' }))
      : publicKeyToProtobuf(privateKey.publicKey)
  } else {
    proto = publicKeyProtobuf(pemPrivateKey(new TextDecoder().decode(key.bytes)))
  }
  const digest = proto.length <= 42 ? Digest.create(0x00, proto) : Digest.create(0x12, createHash('sha256').update(proto).digest())
  return CID.createV1(0x72, digest).toString(base36)
}

function sameName (a: string, b: string): boolean {
  try {
    return peerIdFromString(a).equals(peerIdFromString(b))
  } catch {
    return a === b
  }
}

/** The IPNS name of a key in Kubo's keystore, or undefined when there is no such key. */
export async function findKey (rpc: KuboRpc, name: string, options: AbortOptions = {}): Promise<string | undefined> {
  const answer = await rpc.json<{ Keys?: Array<{ Name?: unknown, Id?: unknown }> }>('key/list', {}, options)
  const key = (answer?.Keys ?? []).find((k) => k?.Name === name)
  return key != null ? String(key.Id) : undefined
}

/**
 * Imports a key into Kubo's keystore under `name`, unless a key of that name
 * is there already. The key goes as a multipart file (as Kubo wants it),
 * through the RPC layer: never to another origin, and never into an error.
 */
export async function ensureKey (rpc: KuboRpc, name: string, key: PrivateKeyFile, options: AbortOptions = {}): Promise<string> {
  const expected = ipnsNameOf(key)
  const existing = await findKey(rpc, name, options)
  if (existing != null) {
    if (!sameName(existing, expected)) {
      throw new KuboError(`${rpc.label}: the keystore already has a different key named '${name}' (${existing}); remove it or choose another ipns-key`)
    }
    return existing
  }
  const form = new FormData()
  form.append('file', new Blob([key.bytes]), 'key')
  const result = await rpc.json<{ Name?: unknown, Id?: unknown }>('key/import', {
    args: [name],
    params: { format: key.format, 'allow-any-key-type': true },
    body: form
  }, { ...options, description: 'key/import' })
  return String(result?.Id)
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
/** Go's time.ParseDuration limit (int64 nanoseconds, about 292 years). */
const MAX_DURATION_MS = 9_223_372_036_854

/**
 * An IPNS record lifetime in Go duration syntax, as Kubo's `name publish
 * --lifetime` reads it: `48h`, `1h30m`, `90s`, `1.5h` (units ns, us, ms, s, m, h;
 * no days). Returns milliseconds; refuses anything Kubo would refuse, and zero.
 */
export function parseLifetime (value: string, input = 'ipns-lifetime'): number {
  const text = value.trim()
  const expected = "expected a Go duration such as '48h', '1h30m' or '90s' (units ns, us, ms, s, m, h; 2 days is '48h')"
  if (!/^(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.test(text)) throw new InputError(input, `${quote(value, 40)} is not a duration (${expected})`)
  let ms = 0
  for (const [, number, unit] of text.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) ms += Number(number) * (DURATION_UNITS[unit as string] as number)
  if (!(ms > 0)) throw new InputError(input, `${quote(value, 40)} is zero: a record with no lifetime is expired when published (${expected})`)
  if (ms > MAX_DURATION_MS) throw new InputError(input, `${quote(value, 40)} is longer than Kubo can take (at most about 2562047h)`)
  return ms
}

export interface NamePublishOptions extends AbortOptions {
  /** Record lifetime, e.g. '48h' (Kubo's default). */
  lifetime?: string
}

/** `name publish --key` of `/ipfs/<root>`; returns the IPNS name. */
export async function publishName (rpc: KuboRpc, key: string, root: CID, options: NamePublishOptions = {}): Promise<string> {
  const result = await rpc.json<{ Name?: unknown }>('name/publish', {
    args: [`/ipfs/${root}`],
    params: { key, resolve: false, 'allow-offline': true, lifetime: options.lifetime }
  }, { ...options, description: `name/publish --key=${key}` })
  const name = String(result?.Name)
  // The name goes into logs and outputs: only a multibase name (k51…, 12D3…, Qm…) is accepted.
  if (!/^[A-Za-z0-9]{1,128}$/.test(name)) throw new KuboError(`${rpc.label}: name/publish answered with something that is not an IPNS name: ${remoteMessage(name, 80)}`)
  return name
}
