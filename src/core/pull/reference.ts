import { InputError } from '../errors.js'
import { quote } from '../escape.js'
import { registryPrefix, registryText, type NamedLocation } from '../registry/location.js'
import { isName, tagProblem } from '../registry/reference.js'
import { isSha256Digest } from '../image/blob.js'

/** What `ipcr pull` fetches: one repository of a registry tree, by tag or by manifest digest. */
export interface PullReference {
  registry: NamedLocation
  /** The repository inside the tree, e.g. `team/app`. */
  name: string
  /** Exactly one of tag and digest is set. */
  tag?: string
  /** `sha256:<64 hex>`. */
  digest?: string
}


/**
 * Parses `<registry>/<name>:<tag>` or `<registry>/<name>@sha256:<hex>`, where the registry is
 * `ipfs/<cid>`, `ipns/<name>` or a DNSLink domain; a leading `/` (`/ipfs/<cid>/…`) is accepted.
 * Without tag or digest the tag is `latest`, as docker does. InputError naming `input`.
 */
export function parsePullReference (value: string, input = 'reference'): PullReference {
  const refuse = (why: string): InputError =>
    new InputError(input, `${quote(value)} ${why}; expected <registry>/<name>:<tag> or <registry>/<name>@sha256:<digest>, the registry being ipfs/<cid>, ipns/<name> or a DNSLink domain`)
  let rest = value.trim().replace(/^\/+/, '')
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!isSha256Digest(digest)) throw refuse('has an invalid digest (expected sha256: and 64 lowercase hex digits)')
  }
  let tag: string | undefined
  const colon = rest.lastIndexOf(':')
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    const problem = tagProblem(tag)
    if (problem != null) throw refuse(`has a tag that ${problem}`)
    if (digest != null) throw refuse('has both a tag and a digest')
  }
  const parts = rest.split('/')
  const found = registryPrefix(parts)
  if ('problem' in found) throw refuse(`names no registry (${found.problem})`)
  if (found.registry.kind === 'default') throw refuse('names no registry')
  const name = parts.slice(found.skip).join('/')
  if (!isName(name)) throw refuse(`has no valid repository name after ${registryText(found.registry)}/`)
  return digest != null ? { registry: found.registry, name, digest } : { registry: found.registry, name, tag: tag ?? 'latest' }
}

/** The reference as a user writes it. */
export function referenceText (ref: PullReference): string {
  return `${registryText(ref.registry)}/${ref.name}${ref.digest != null ? `@${ref.digest}` : `:${ref.tag ?? 'latest'}`}`
}
