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

/** What is wrong with a repository name, in the user's words; undefined when nothing is. */
function nameProblem (name: string): string | undefined {
  if (name.length === 0) return 'is empty'
  if (name.length > 255) return `is ${name.length} characters long, longer than 255 characters`
  if (name !== name.toLowerCase() && NAME_RE.test(name.toLowerCase())) {
    return `has uppercase letters; repository names are lowercase: use '${name.toLowerCase()}'`
  }
  if (!NAME_RE.test(name)) return 'is not a valid image name: expected lowercase path components of [a-z0-9] joined by \'.\', \'_\', \'__\' or \'-\', separated by \'/\' (OCI reference grammar)'
  return undefined
}

/** A character as a message shows it: 'x', or U+0009 for an invisible one. */
function showChar (c: string): string {
  return /^[\x21-\x7e]$/.test(c) ? `'${c}'` : `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
}

/** What is wrong with a tag, in the user's words; undefined when nothing is. */
export function tagProblem (tag: string): string | undefined {
  if (tag.length === 0) return 'is empty'
  if (tag.length > 128) return `is ${tag.length} characters long, longer than 128 characters (the most a tag may have)`
  const bad = [...tag].find((c) => !/^[A-Za-z0-9_.-]$/.test(c))
  if (bad != null) {
    const semver = bad === '+' ? '; semver build metadata (\'+build\') cannot be part of a tag: write it with \'-\' or \'_\' instead' : ''
    return `has ${showChar(bad)}, which is not allowed in a tag (only letters, digits, '_', '.' and '-')${semver}`
  }
  if (tag.startsWith('.') || tag.startsWith('-')) return `starts with '${tag[0] as string}' (a tag starts with a letter, a digit or '_')`
  return undefined
}

export function validateName (name: string, input = 'name'): string {
  const problem = nameProblem(name)
  if (problem != null) throw new InputError(input, `${quote(name)} ${problem}`)
  const reserved = reservedNameProblem(name)
  if (reserved != null) throw new InputError(input, `repository name '${name}' ${reserved}`)
  return name
}

export function validateTag (tag: string, input = 'tags'): string {
  const problem = tagProblem(tag)
  if (problem != null) throw new InputError(input, `tag ${quote(tag)} ${problem}`)
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

/** A line of docker/metadata-action's `tags` configuration, e.g. `type=semver,pattern={{version}}`. */
const METADATA_CONFIG_RE = /^type=|\{\{.*\}\}|(^|,)\s*(pattern|enable|value|prefix|suffix|priority)=/

/**
 * Splits a `tags` input (newline- or comma-separated; bare tags or full
 * references as docker/metadata-action prints them) into tags, and the
 * repository path the references agree on, if any.
 */
export function parseTagList (value: string, input = 'tags'): { tags: string[], path?: string } {
  const config = value.split('\n').map((s) => s.trim()).find((line) => METADATA_CONFIG_RE.test(line))
  if (config != null) {
    throw new InputError(input, `${quote(config)} looks like docker/metadata-action's configuration (its own 'tags' input), not a list of tags; pass the action's output instead: tags: \${{ steps.meta.outputs.tags }}`)
  }
  const items = value.split(/[\n,]/).map((s) => s.trim()).filter((s) => s.length > 0)
  const tags: string[] = []
  let path: string | undefined
  for (const item of items) {
    if (TAG_RE.test(item)) {
      tags.push(item)
      continue
    }
    // Neither a domain, a path nor a tag separator: the item is meant as a tag.
    if (!/[/:@]/.test(item)) validateTag(item, input)
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
