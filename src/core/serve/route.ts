import { CID } from 'multiformats/cid'
import { InputError } from '../errors.js'
import { quote } from '../escape.js'
import { isName } from '../registry/reference.js'
import { RegistryError } from './errors.js'

/**
 * Which registry a request reads: a root CID (`/v2/ipfs/<cid>/…`), an IPNS name
 * (`/v2/ipns/<k51…>/…`), a DNSLink domain (`/v2/<domain>/…`, a first component with a dot),
 * or the default registry given at start (`/v2/<name>/…`).
 */
export type RegistryRef =
  | { kind: 'ipfs', root: CID }
  | { kind: 'ipns', name: string }
  | { kind: 'dnslink', domain: string }
  | { kind: 'default' }

export type Route =
  | { endpoint: 'base' }
  | { endpoint: 'catalog', registry: RegistryRef }
  | { endpoint: 'manifest' | 'blob' | 'referrers', registry: RegistryRef, name: string, reference: string }
  | { endpoint: 'tags', registry: RegistryRef, name: string }
  /** Blob uploads: a write, always refused. */
  | { endpoint: 'upload' }

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

/** Splits `<registry>/<name>` (the registry part optional); RegistryError when either is malformed. */
function splitRepository (path: string): { registry: RegistryRef, name: string } {
  const parts = path.split('/')
  let registry: RegistryRef = { kind: 'default' }
  let skip = 0
  if (parts[0] === 'ipfs' || parts[0] === 'ipns') {
    const value = parts[1] ?? ''
    if (parts[0] === 'ipfs') {
      let root: CID
      try {
        root = CID.parse(value)
      } catch {
        throw new RegistryError(400, 'NAME_INVALID', 'invalid repository name: not a CID after ipfs/', { name: path })
      }
      registry = { kind: 'ipfs', root }
    } else {
      if (!IPNS_NAME_RE.test(value)) throw new RegistryError(400, 'NAME_INVALID', 'invalid repository name: not an IPNS name after ipns/', { name: path })
      registry = { kind: 'ipns', name: value }
    }
    skip = 2
  } else if ((parts[0] ?? '').includes('.') && parts.length > 1) {
    if (!DOMAIN_RE.test(parts[0] as string)) throw new RegistryError(400, 'NAME_INVALID', 'invalid repository name: not a domain', { name: path })
    registry = { kind: 'dnslink', domain: parts[0] as string }
    skip = 1
  }
  const name = parts.slice(skip).join('/')
  if (!isName(name)) throw new RegistryError(400, 'NAME_INVALID', 'invalid repository name', { name: path })
  return { registry, name }
}

/** The route of a request path (without its query), or undefined when it is no registry endpoint. */
export function parseRoute (pathname: string): Route | undefined {
  if (pathname === '/v2' || pathname === '/v2/') return { endpoint: 'base' }
  if (!pathname.startsWith('/v2/')) return undefined
  const rest = pathname.slice(4)
  if (rest === '_catalog') return { endpoint: 'catalog', registry: { kind: 'default' } }
  if (rest.endsWith('/_catalog')) {
    const prefix = rest.slice(0, -'/_catalog'.length)
    const { registry } = splitRepository(`${prefix}/x`)
    if (registry.kind === 'default') return undefined
    return { endpoint: 'catalog', registry }
  }
  if (/\/blobs\/uploads(\/|$)/.test(rest)) return { endpoint: 'upload' }
  const tags = /^(.+)\/tags\/list$/.exec(rest)
  if (tags != null) return { endpoint: 'tags', ...splitRepository(tags[1] as string) }
  const match = /^(.+)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(rest)
  if (match == null) return undefined
  const endpoint = match[2] === 'manifests' ? 'manifest' : match[2] === 'blobs' ? 'blob' : 'referrers'
  return { endpoint, ...splitRepository(match[1] as string), reference: match[3] as string }
}

/**
 * A registry as a user names it (the default registry of `ipcr serve`): `ipfs/<cid>`,
 * `ipns/<name>` (either with a leading `/`) or a DNSLink domain. InputError naming `input`.
 */
export function parseRegistry (value: string, input = 'registry'): Exclude<RegistryRef, { kind: 'default' }> {
  const text = value.trim().replace(/^\/+/, '').replace(/\/+$/, '')
  const parts = text.split('/')
  const shape = parts.length === 2 ? parts[0] === 'ipfs' || parts[0] === 'ipns' : parts.length === 1 && text.includes('.')
  if (shape) {
    try {
      const { registry } = splitRepository(`${text}/x`)
      if (registry.kind !== 'default') return registry
    } catch {}
  }
  throw new InputError(input, `${quote(value)} is not a registry: expected ipfs/<cid>, ipns/<name> or a DNSLink domain`)
}
