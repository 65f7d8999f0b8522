import { registryPrefix, type RegistryRef } from '../registry/location.js'
import { isName } from '../registry/reference.js'
import { RegistryError } from './errors.js'

export type Route =
  | { endpoint: 'base' }
  | { endpoint: 'catalog', registry: RegistryRef }
  | { endpoint: 'manifest' | 'blob' | 'referrers', registry: RegistryRef, name: string, reference: string }
  | { endpoint: 'tags', registry: RegistryRef, name: string }
  /** Blob uploads: a write, always refused. */
  | { endpoint: 'upload' }

/** Splits `<registry>/<name>` (the registry part optional); RegistryError when either is malformed. */
function splitRepository (path: string): { registry: RegistryRef, name: string } {
  const parts = path.split('/')
  const found = registryPrefix(parts)
  if ('problem' in found) throw new RegistryError(400, 'NAME_INVALID', `invalid repository name: ${found.problem}`, { name: path })
  const name = parts.slice(found.skip).join('/')
  if (!isName(name)) throw new RegistryError(400, 'NAME_INVALID', 'invalid repository name', { name: path })
  return { registry: found.registry, name }
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
