/**
 * The w3up agent key and its UCAN delegation, read and checked without any
 * network: the key parses, the proof is a delegation to that key, and it grants
 * the abilities an upload needs on one space.
 */
import { CAR, CBOR, Delegation } from '@ucanto/core'
import type { Delegation as UcanDelegation, Signer } from '@ucanto/interface'
import * as ed25519 from '@ucanto/principal/ed25519'
import { base64 } from 'multiformats/bases/base64'
import { CID } from 'multiformats/cid'
import { InputError } from '../errors.js'

/** What `uploadCAR` invokes on the space: blob, index, upload (filecoin/offer is issued by the agent itself). */
export const UPLOAD_ABILITIES = ['space/blob/add', 'space/index/add', 'upload/add'] as const
/** Cheap reads preflight may use, first granted wins. */
export const READ_ABILITIES = ['space/info', 'upload/list', 'space/blob/list'] as const

const CAR_CODE = 0x0202
const IDENTITY = 0x00

export interface W3upProof {
  delegation: UcanDelegation
  /** did:key of the space the abilities are granted on. */
  space: `did:key:${string}`
  /** Every ability granted on that space (as written: may be `*` or `space/*`). */
  abilities: string[]
}

/** The agent's key as `w3 key create` prints it (`# did:key:…` comment line, then the `Mg…` key), or its JSON `{did, key}`. */
export function parseAgentKey (secret: string, input = 'w3up-key'): Signer<`did:key:${string}`> {
  let text = secret.trim()
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as { key?: unknown }
      if (typeof json.key === 'string') text = json.key
    } catch {}
  }
  const line = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  if (line.length !== 1) throw new InputError(input, 'expected one agent private key as `w3 key create` prints it (a line starting with Mg…)')
  try {
    return ed25519.parse(line[0] as string) as Signer<`did:key:${string}`>
  } catch {
    throw new InputError(input, 'is not an Ed25519 agent private key as `w3 key create` prints it (a line starting with Mg…)')
  }
}

/** Does a granted ability (`*`, `space/*`, exact) cover `wanted`? */
export function grants (granted: string, wanted: string): boolean {
  if (granted === '*' || granted === wanted) return true
  return granted.endsWith('/*') && wanted.startsWith(granted.slice(0, -1))
}

function extract (archive: Uint8Array): UcanDelegation {
  const { roots, blocks } = CAR.decode(archive)
  const root = roots[0]
  if (root == null) throw new Error('no root')
  const variant = CBOR.decode(root.bytes) as Record<string, unknown>
  const link = CID.asCID(variant['ucan@0.9.1'])
  if (link == null) throw new Error('not a ucan@0.9.1 archive')
  return Delegation.view({ root: link as any, blocks: blocks as any })
}

/** The delegation archive bytes: a base64 CID of the CAR (`w3 delegation create --base64`) or a base64 CAR. */
function archiveBytes (text: string): Uint8Array {
  try {
    const cid = CID.parse(text, base64)
    if (cid.code === CAR_CODE && cid.multihash.code === IDENTITY) return cid.multihash.digest
  } catch {}
  const bytes = Buffer.from(text.replace(/^m/, ''), 'base64')
  if (bytes.length === 0) throw new Error('empty')
  return new Uint8Array(bytes)
}

/** Reads the proof and finds the space it grants the upload abilities on, to `agent`. */
export function parseProof (secret: string, agent: `did:key:${string}`, input = 'w3up-proof'): W3upProof {
  let delegation: UcanDelegation
  try {
    delegation = extract(archiveBytes(secret.replace(/\s+/g, '')))
  } catch {
    throw new InputError(input, 'is not a UCAN delegation as `w3 delegation create --base64` prints it')
  }
  if (delegation.audience.did() !== agent) {
    throw new InputError(input, `is delegated to ${delegation.audience.did()}, not to the agent key (${agent}): create it with \`w3 delegation create ${agent} …\``)
  }
  const expiration = delegation.expiration
  if (Number.isFinite(expiration) && expiration * 1000 < Date.now()) {
    throw new InputError(input, `expired at ${new Date(expiration * 1000).toISOString()}`)
  }
  const bySpace = new Map<string, string[]>()
  for (const c of delegation.capabilities) {
    if (typeof c.with !== 'string' || !c.with.startsWith('did:key:')) continue
    bySpace.set(c.with, [...(bySpace.get(c.with) ?? []), c.can])
  }
  for (const [space, abilities] of bySpace) {
    if (UPLOAD_ABILITIES.every((wanted) => abilities.some((g) => grants(g, wanted)))) {
      return { delegation, space: space as `did:key:${string}`, abilities }
    }
  }
  const seen = [...bySpace].map(([space, abilities]) => `${space}: ${abilities.join(', ')}`).join('; ')
  throw new InputError(input, `does not grant ${UPLOAD_ABILITIES.join(', ')} on one space (it grants ${seen === '' ? 'nothing on a space' : seen})`)
}
