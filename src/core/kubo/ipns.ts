import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { base36 } from 'multiformats/bases/base36'
import type { CID } from 'multiformats/cid'
import { InputError } from '../errors.js'
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
  if (text.startsWith('-----BEGIN PRIVATE KEY-----')) return { bytes: new TextEncoder().encode(`${text}\n`), format: 'pem-pkcs8-cleartext' }
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

/** The IPNS name (k51…) of a libp2p protobuf private key, or undefined for PEM (Kubo derives it). */
export function ipnsNameOf (key: PrivateKeyFile): string | undefined {
  if (key.format !== 'libp2p-protobuf-cleartext') return undefined
  return peerIdFromPrivateKey(privateKeyFromProtobuf(key.bytes)).toCID().toString(base36)
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
    if (expected != null && !sameName(existing, expected)) {
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
