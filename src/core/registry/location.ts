import { CID } from 'multiformats/cid'
import { InputError } from '../errors.js'
import { quote } from '../escape.js'

/**
 * Where a registry tree lives: a root CID (`ipfs/<cid>`), an IPNS name (`ipns/<k51…>`), a
 * DNSLink domain (a first component with a dot), or the default registry a server was given.
 */
export type RegistryRef =
  | { kind: 'ipfs', root: CID }
  | { kind: 'ipns', name: string }
  | { kind: 'dnslink', domain: string }
  | { kind: 'default' }

/** A registry named by the user (never the default). */
export type NamedLocation = Exclude<RegistryRef, { kind: 'default' }>

/** The text of a registry reference, as it stands in a URL path (e.g. `ipfs/bafy…`), '' for the default. */
export function registryText (registry: RegistryRef): string {
  switch (registry.kind) {
    case 'ipfs': return `ipfs/${registry.root.toString()}`
    case 'ipns': return `ipns/${registry.name}`
    case 'dnslink': return registry.domain
    default: return ''
  }
}

const DOMAIN_RE = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/
const IPNS_NAME_RE = /^[a-z0-9]{1,128}$/

/**
 * The registry at the start of `parts` (path components) and how many components it takes:
 * `ipfs/<cid>` and `ipns/<name>` take two, a domain one (only when more follow), anything else
 * none (the default registry). A malformed registry part gives `problem` instead.
 */
export function registryPrefix (parts: string[]): { registry: RegistryRef, skip: number } | { problem: string } {
  if (parts[0] === 'ipfs' || parts[0] === 'ipns') {
    const value = parts[1] ?? ''
    if (parts[0] === 'ipfs') {
      try {
        return { registry: { kind: 'ipfs', root: CID.parse(value) }, skip: 2 }
      } catch {
        return { problem: 'not a CID after ipfs/' }
      }
    }
    if (!IPNS_NAME_RE.test(value)) return { problem: 'not an IPNS name after ipns/' }
    return { registry: { kind: 'ipns', name: value }, skip: 2 }
  }
  if ((parts[0] ?? '').includes('.') && parts.length > 1) {
    if (!DOMAIN_RE.test(parts[0] as string)) return { problem: 'not a domain' }
    return { registry: { kind: 'dnslink', domain: parts[0] as string }, skip: 1 }
  }
  return { registry: { kind: 'default' }, skip: 0 }
}

/**
 * A registry as a user names it (the default registry of `ipcr serve`): `ipfs/<cid>`,
 * `ipns/<name>` (either with a leading `/`) or a DNSLink domain. InputError naming `input`.
 */
export function parseRegistry (value: string, input = 'registry'): NamedLocation {
  const text = value.trim().replace(/^\/+/, '').replace(/\/+$/, '')
  const parts = text.split('/')
  const shape = parts.length === 2 ? parts[0] === 'ipfs' || parts[0] === 'ipns' : parts.length === 1 && text.includes('.')
  if (shape) {
    const found = registryPrefix([...parts, 'x'])
    if ('registry' in found && found.registry.kind !== 'default') return found.registry
  }
  throw new InputError(input, `${quote(value)} is not a registry: expected ipfs/<cid>, ipns/<name> or a DNSLink domain`)
}
