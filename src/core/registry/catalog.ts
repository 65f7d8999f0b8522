import { CID } from 'multiformats/cid'
import { TreeError } from '../errors.js'
import { escapeControl, hasControl, quote } from '../escape.js'
import { checkJsonShape } from '../json.js'
import { PLATFORM_TOKEN_RE, isDigest, isName, isTag } from './reference.js'

/** One published tag, as catalog.json records it. */
export interface CatalogTag {
  tag: string
  /** Digest of the image manifest, or of the index for a multi-platform image. */
  digest: string
  platforms: string[]
  /** Bytes of all blobs in the tag folder. */
  size: number
  /** CID of the tag folder. */
  cid: string
  published: string
  revision?: string
}

export interface CatalogImage {
  name: string
  description?: string
  tags: CatalogTag[]
}

export interface Catalog {
  schemaVersion: 1
  updated: string
  images: CatalogImage[]
}

export const CATALOG_FILE = 'catalog.json'

/**
 * Bounds of a catalog.json this code reads or writes. A previous root past
 * them is refused before JSON.parse sees it (depth, bytes) or while it is
 * checked (entries, strings); a publish that would pass them fails.
 */
export const CATALOG_LIMITS = {
  bytes: 32 * 1024 * 1024,
  /** Nesting of arrays and objects: the schema needs 4 (catalog, images, image, tags, tag, platforms). */
  depth: 8,
  /** JSON values ('{', '[' and ',' outside strings). */
  values: 4_000_000,
  images: 10_000,
  /** Tags of all images together. */
  tags: 100_000,
  platforms: 64,
  description: 1024,
  revision: 256,
  cid: 256
}

export function emptyCatalog (): Catalog {
  return { schemaVersion: 1, updated: new Date(0).toISOString(), images: [] }
}

/** A catalog that does not follow the schema; `path` is where, e.g. `images[3].tags[0].tag`. */
class CatalogProblem extends Error {}

function problem (path: string, what: string): never {
  throw new CatalogProblem(`${path} ${what}`)
}

/** Refuses JSON nested deeper than `depth` or with more than `values` values, without parsing it. */
function checkShape (bytes: Uint8Array): void {
  const wrong = checkJsonShape(bytes, { depth: CATALOG_LIMITS.depth, values: CATALOG_LIMITS.values })
  if (wrong != null) problem('the JSON', wrong)
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/

function object (value: unknown, path: string, required: string[], optional: string[] = []): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) problem(path, 'is not an object')
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (!required.includes(key) && !optional.includes(key)) problem(path, `has an unknown key ${quote(key, 64)}`)
  }
  for (const key of required) if (!(key in record)) problem(path, `has no '${key}'`)
  return record
}

function array (value: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(value)) problem(path, 'is not an array')
  if (value.length > max) problem(path, `has ${value.length} entries, more than the limit of ${max}`)
  return value
}

function string (value: unknown, path: string, max: number, check?: { test: (s: string) => boolean, expected: string }): string {
  if (typeof value !== 'string') problem(path, 'is not a string')
  if (value.length > max) problem(path, `is ${value.length} characters long, more than the limit of ${max}`)
  if (hasControl(value)) problem(path, `${quote(value, 64)} contains control characters`)
  if (check != null && !check.test(value)) problem(path, `${quote(value, 64)} is not ${check.expected}`)
  return value
}

const timestamp = { test: (s: string) => TIMESTAMP.test(s) && Number.isFinite(Date.parse(s)), expected: 'a UTC timestamp such as 2026-01-31T12:00:00.000Z' }
const platform = {
  test: (s: string) => { const p = s.split('/'); return p.length >= 2 && p.length <= 3 && p.every((t) => PLATFORM_TOKEN_RE.test(t)) },
  expected: 'a platform such as linux/arm64/v8'
}
const cid = {
  test: (s: string) => { try { CID.parse(s); return true } catch { return false } },
  expected: 'a CID'
}

function parseTag (value: unknown, path: string): CatalogTag {
  const t = object(value, path, ['tag', 'digest', 'platforms', 'size', 'cid', 'published'], ['revision'])
  const size = t.size
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) problem(`${path}.size`, 'is not a byte count')
  const tag: CatalogTag = {
    tag: string(t.tag, `${path}.tag`, 128, { test: isTag, expected: 'a tag' }),
    digest: string(t.digest, `${path}.digest`, 256, { test: isDigest, expected: 'a digest' }),
    platforms: array(t.platforms, `${path}.platforms`, CATALOG_LIMITS.platforms).map((p, i) => string(p, `${path}.platforms[${i}]`, 200, platform)),
    size,
    cid: string(t.cid, `${path}.cid`, CATALOG_LIMITS.cid, cid),
    published: string(t.published, `${path}.published`, 64, timestamp)
  }
  if (t.revision !== undefined) tag.revision = string(t.revision, `${path}.revision`, CATALOG_LIMITS.revision)
  return tag
}

function parseImage (value: unknown, path: string): CatalogImage {
  const i = object(value, path, ['name', 'tags'], ['description'])
  const name = string(i.name, `${path}.name`, 255, { test: isName, expected: 'a repository name the registry tree allows' })
  const image: CatalogImage = { name, tags: [] }
  if (i.description !== undefined) image.description = string(i.description, `${path}.description`, CATALOG_LIMITS.description)
  const seen = new Set<string>()
  image.tags = array(i.tags, `${path}.tags`, CATALOG_LIMITS.tags).map((t, n) => {
    const tag = parseTag(t, `${path}.tags[${n}]`)
    if (seen.has(tag.tag)) problem(`${path}.tags[${n}].tag`, `'${tag.tag}' is listed twice`)
    seen.add(tag.tag)
    return tag
  })
  return image
}

/** Checks a parsed catalog against the schema and the limits; returns a copy holding only what the schema names. */
function checkCatalog (value: unknown): Catalog {
  const c = object(value, 'the catalog', ['schemaVersion', 'updated', 'images'])
  if (c.schemaVersion !== 1) problem('schemaVersion', 'is not 1 (this ipcr writes schema version 1)')
  const updated = string(c.updated, 'updated', 64, timestamp)
  const names = new Set<string>()
  let tags = 0
  const images = array(c.images, 'images', CATALOG_LIMITS.images).map((item, n) => {
    const image = parseImage(item, `images[${n}]`)
    if (names.has(image.name)) problem(`images[${n}].name`, `'${image.name}' is listed twice`)
    names.add(image.name)
    tags += image.tags.length
    if (tags > CATALOG_LIMITS.tags) problem('images', `hold more than ${CATALOG_LIMITS.tags} tags together, the limit`)
    return image
  })
  return { schemaVersion: 1, updated, images }
}

/**
 * Reads a catalog.json written by ipcr, strictly: every field is checked, an
 * unknown key or a malformed entry fails the whole file (a registry whose
 * catalog is corrupt is not silently rewritten), and only checked values are
 * kept. `where` names the file's root in errors, e.g. `previous root bafy…`.
 */
export function parseCatalog (bytes: Uint8Array, where = 'the previous root'): Catalog {
  const label = `${CATALOG_FILE} of ${where}`
  try {
    if (bytes.length > CATALOG_LIMITS.bytes) problem('the file', `is ${bytes.length} bytes, more than the limit of ${CATALOG_LIMITS.bytes}`)
    checkShape(bytes)
    let value: unknown
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
    } catch (err) {
      problem('the file', `is not valid UTF-8 JSON: ${escapeControl((err as Error).message)}`)
    }
    return checkCatalog(value)
  } catch (err) {
    if (err instanceof CatalogProblem) throw new TreeError(`${label}: ${err.message}`)
    throw err
  }
}

/** Adds or replaces tags of one image; keeps images and tags sorted so the bytes are stable. */
export function updateCatalog (catalog: Catalog, update: { name: string, description?: string, tags: CatalogTag[], updated: string }): Catalog {
  const images = catalog.images.filter((i) => i.name !== update.name)
  const previous = catalog.images.find((i) => i.name === update.name)
  const replaced = new Set(update.tags.map((t) => t.tag))
  const tags = [...(previous?.tags ?? []).filter((t) => !replaced.has(t.tag)), ...update.tags]
    .sort((a, b) => a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0)
  const description = update.description ?? previous?.description
  images.push({ name: update.name, ...(description != null ? { description } : {}), tags })
  images.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  // What this writes, the next publish must be able to read.
  try {
    return checkCatalog({ schemaVersion: 1, updated: update.updated, images })
  } catch (err) {
    if (err instanceof CatalogProblem) throw new TreeError(`${CATALOG_FILE} of the new root: ${err.message}`)
    throw err
  }
}

export function encodeCatalog (catalog: Catalog): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(catalog, null, 2) + '\n')
}
