import { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { createHash, createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { InputError } from '../errors.js'
import { addSecret } from '../redact.js'

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
  return protobufKey(type, data)
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

/** The key as @libp2p/crypto signs with it: PEM keys are read through node:crypto. */
export async function signingKey (key: PrivateKeyFile, input = 'ipns-private-key'): Promise<PrivateKey> {
  if (key.format === 'libp2p-protobuf-cleartext') return privateKeyFromProtobuf(key.bytes)
  const pem = pemPrivateKey(new TextDecoder().decode(key.bytes), input)
  if (pem.asymmetricKeyType === 'ed25519') {
    const seed = Buffer.from(String(pem.export({ format: 'jwk' }).d), 'base64url')
    addSecret(seed)
    return await generateKeyPairFromSeed('Ed25519', seed)
  }
  if (pem.asymmetricKeyType === 'rsa') {
    // libp2p's RSA private key protobuf: type 0, PKCS#1 DER.
    const der = pem.export({ type: 'pkcs1', format: 'der' })
    addSecret(der)
    return privateKeyFromProtobuf(protobufKey(0, der))
  }
  throw new InputError(input, `a PEM ${pem.asymmetricKeyType ?? 'unknown'} key can be imported into Kubo but not signed with here (expected Ed25519 or RSA)`)
}

/** A libp2p key protobuf: field 1 (type), field 2 (data). */
function protobufKey (type: number, data: Uint8Array): Uint8Array {
  const length: number[] = []
  for (let n = data.length; ; n >>>= 7) {
    if (n < 0x80) { length.push(n); break }
    length.push((n & 0x7f) | 0x80)
  }
  return Buffer.concat([Uint8Array.from([0x08, type, 0x12, ...length]), data])
}

export type KeyType = 'ed25519' | 'rsa'

/** A new key as `ipfs key export` writes it (libp2p protobuf), with its IPNS name. */
export async function generateKey (type: KeyType = 'ed25519', rsaBits = 2048): Promise<{ key: PrivateKeyFile, name: string }> {
  const privateKey = type === 'rsa' ? await generateKeyPair('RSA', rsaBits) : await generateKeyPair('Ed25519')
  const key: PrivateKeyFile = { bytes: privateKeyToProtobuf(privateKey), format: 'libp2p-protobuf-cleartext' }
  return { key, name: ipnsNameOf(key) }
}
