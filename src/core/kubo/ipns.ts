import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { base36 } from 'multiformats/bases/base36'
import type { CID } from 'multiformats/cid'
import { InputError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { KuboError, type KuboRpc } from './rpc.js'

export interface PrivateKeyFile {
  bytes: Uint8Array
  format: 'libp2p-protobuf-cleartext' | 'pem-pkcs8-cleartext'
}

/** A key secret: PEM (PKCS#8) text, or base64 of a libp2p protobuf private key (as `ipfs key export` writes). */
export function parsePrivateKey (secret: string, input = 'ipns-private-key'): PrivateKeyFile {
  const text = secret.trim()
  if (text.startsWith('-----BEGIN PRIVATE KEY-----')) return { bytes: new TextEncoder().encode(`${text}\n`), format: 'pem-pkcs8-cleartext' }
  if (!/^[A-Za-z0-9+/=_-]+$/.test(text)) throw new InputError(input, 'expected a PEM PKCS#8 private key or base64 of a libp2p protobuf private key')
  const bytes = Buffer.from(text, 'base64')
  try {
    privateKeyFromProtobuf(bytes)
  } catch {
    throw new InputError(input, 'expected a PEM PKCS#8 private key or base64 of a libp2p protobuf private key (the base64 does not decode to a libp2p key)')
  }
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
  const keys = await rpc.call('key/list', async (signal) => await rpc.client.key.list({ signal }), options)
  return keys.find((k) => k.name === name)?.id
}

/**
 * Imports a key into Kubo's keystore under `name`, unless a key of that name
 * is there already. kubo-rpc-client's key.import() does not work against
 * Kubo, so this sends the multipart request itself.
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
  const url = new URL(`${rpc.config.url.toString().replace(/\/+$/, '')}/api/v0/key/import`)
  url.searchParams.set('arg', name)
  url.searchParams.set('format', key.format)
  url.searchParams.set('allow-any-key-type', 'true')
  const result = await rpc.call('key/import', async (signal) => {
    const form = new FormData()
    form.append('file', new Blob([key.bytes]), 'key')
    const response = await fetch(url, { method: 'POST', body: form, headers: rpc.config.headers, signal })
    const body = await response.text()
    if (!response.ok) {
      const error: any = new Error(safeMessage(body))
      error.response = response
      throw error
    }
    return JSON.parse(body) as { Name: string, Id: string }
  }, options)
  return result.Id
}

function safeMessage (body: string): string {
  try {
    return String(JSON.parse(body).Message ?? body).slice(0, 300)
  } catch {
    return body.slice(0, 300)
  }
}

export interface NamePublishOptions extends AbortOptions {
  /** Record lifetime, e.g. '48h' (Kubo's default). */
  lifetime?: string
}

/** `name publish --key` of `/ipfs/<root>`; returns the IPNS name. */
export async function publishName (rpc: KuboRpc, key: string, root: CID, options: NamePublishOptions = {}): Promise<string> {
  const result = await rpc.call(`name/publish --key=${key}`, async (signal) => await rpc.client.name.publish(`/ipfs/${root}`, {
    key,
    resolve: false,
    allowOffline: true,
    ...(options.lifetime != null ? { lifetime: options.lifetime } : {}),
    signal
  }), options)
  return result.name
}
