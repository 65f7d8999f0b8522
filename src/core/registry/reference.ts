import { InputError, option, text } from '../errors.js'
import { quote } from '../escape.js'
import { reservedNameProblem } from './layout.js'

// OCI distribution-spec grammar.
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*'
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`)
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/
/** One of os, architecture or variant of a platform (GOOS/GOARCH values such as `linux`, `arm64`, `v8`). */
export const PLATFORM_TOKEN_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/

export function isName (value: string): boolean {
  return value.length > 0 && value.length <= 255 && NAME_RE.test(value) && reservedNameProblem(value) == null
}

export function isTag (value: string): boolean {
  return TAG_RE.test(value)
}

export function isDigest (value: string): boolean {
  return value.length <= 256 && DIGEST_RE.test(value)
}

export interface ImageRef {
  /** The repository name inside the registry tree, e.g. `team/app`. */
  name: string
  tag: string
}

export function validateName (name: string, input = 'name'): string {
  if (name.length === 0 || name.length > 255 || !NAME_RE.test(name)) {
    throw new InputError(input, `${quote(name)} is not a valid image name: expected lowercase path components of [a-z0-9] joined by '.', '_', '__' or '-', separated by '/' (OCI reference grammar)`)
  }
  const reserved = reservedNameProblem(name)
  if (reserved != null) throw new InputError(input, `repository name '${name}' ${reserved}`)
  return name
}

export function validateTag (tag: string, input = 'tags'): string {
  if (!TAG_RE.test(tag)) {
    throw new InputError(input, `${quote(tag)} is not a valid tag: expected up to 128 characters of [A-Za-z0-9_.-], not starting with '.' or '-'`)
  }
  return tag
}

export interface ParsedReference {
  domain?: string
  /** Path without the domain, e.g. `owner/app`. */
  path: string
  tag?: string
  digest?: string
}

/**
 * Parses a Docker-style reference such as `ghcr.io/owner/app:1.0`, `app`,
 * `localhost:5000/app:tag` or `app@sha256:...`. The first component is a
 * domain when it has a '.' or ':' or is `localhost`, as Docker decides.
 */
export function parseReference (ref: string, input: string): ParsedReference {
  let rest = ref.trim()
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST_RE.test(digest)) throw new InputError(input, `${quote(ref)} has an invalid digest (expected algorithm:hex)`)
  }
  let tag: string | undefined
  const lastSlash = rest.lastIndexOf('/')
  const colon = rest.lastIndexOf(':')
  if (colon > lastSlash) {
    tag = validateTag(rest.slice(colon + 1), input)
    rest = rest.slice(0, colon)
  }
  let domain: string | undefined
  const slash = rest.indexOf('/')
  if (slash > 0) {
    const first = rest.slice(0, slash)
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      domain = first
      rest = rest.slice(slash + 1)
    }
  }
  if (rest.length === 0 || !NAME_RE.test(rest)) {
    throw new InputError(input, `${quote(ref)} is not a valid image reference: expected [domain/]path[:tag][@digest] with a lowercase path`)
  }
  return { domain, path: rest, tag, digest }
}

/**
 * Splits a `tags` input (newline- or comma-separated; bare tags or full
 * references as docker/metadata-action prints them) into tags, and the
 * repository path the references agree on, if any.
 */
export function parseTagList (value: string, input = 'tags'): { tags: string[], path?: string } {
  const items = value.split(/[\n,]/).map((s) => s.trim()).filter((s) => s.length > 0)
  const tags: string[] = []
  let path: string | undefined
  for (const item of items) {
    if (TAG_RE.test(item)) {
      tags.push(item)
      continue
    }
    const ref = parseReference(item, input)
    if (ref.tag == null) throw new InputError(input, `${quote(item)} has no tag (expected a tag or a reference ending in :tag)`)
    if (path != null && ref.path !== path) {
      throw new InputError(input, text`references name different repositories ('${path}' and '${ref.path}'); publish one repository per step or set ${option('name')}`)
    }
    path = ref.path
    tags.push(ref.tag)
  }
  return { tags: [...new Set(tags)], path }
}
