import { peerIdFromString } from '@libp2p/peer-id'
import type { CID } from 'multiformats/cid'
import { ipnsNameOf, type PrivateKeyFile } from '../ipns/keys.js'
import { remoteMessage } from '../redact.js'
import type { AbortOptions } from '../logger.js'
import { KuboError, type KuboRpc } from './rpc.js'

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
