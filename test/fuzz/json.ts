// JSON target: index.json, image manifests, configs, oci-layout, Docker's manifest.json and
// catalog.json with mutated structure and types (null, deep nesting, huge numbers, wrong types,
// control characters, long lists). Digests are recomputed after each document is mutated, so a
// mutation reaches the parser behind the digest check. Image documents are loaded from an image
// layout folder with openImageArchive + loadImage; catalogs go through parseCatalog,
// updateCatalog and encodeCatalog, as publish does with a previous root's catalog.
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { encodeCatalog, parseCatalog, updateCatalog } from '../../src/core/registry/catalog.js'
import { sometimes, step, Violation, type Target } from './harness.js'
import { file, loadArchive, nastyName, tarBytes } from './tar.js'

/** JSON text spliced in as it is (numbers JSON.stringify cannot write, deep nesting). */
export class Raw {
  constructor (readonly text: string) {}
}

/** JSON text of `value`; Raw parts go in verbatim. */
export function serialize (value: unknown): string {
  if (value instanceof Raw) return value.text
  if (Array.isArray(value)) return `[${value.map(serialize).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

const nastyString = fc.oneof(
  nastyName,
  fc.constantFrom(
    'sha256:' + 'a'.repeat(64), 'sha256:' + 'A'.repeat(64), 'sha512:' + 'a'.repeat(128), 'sha256:', 'amd64\n::warning title=x::injected',
    '<script>alert(1)</script>', '\u0000\u0001\u001f', '\ud800', 'application/vnd.oci.image.index.v1+json',
    'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+json', 'linux', 'amd64', 'unknown'
  ),
  fc.string({ unit: 'binary', maxLength: 30 })
)

/** Values that broke JSON handling somewhere: wrong types, extremes, deep nesting. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53 + 2, -(2 ** 31), 1e308, '', [], {}, [null], { length: 5 }),
  fc.constantFrom(new Raw('1e400'), new Raw('-1e400'), new Raw('18446744073709551617'), new Raw('-0'), new Raw('0.0000000000000000001')),
  fc.integer({ min: 1, max: 30000 }).map((n) => new Raw('['.repeat(n) + ']'.repeat(n))),
  fc.integer({ min: 1, max: 30000 }).map((n) => new Raw('{"a":'.repeat(n) + 'null' + '}'.repeat(n))),
  nastyString,
  fc.jsonValue({ maxDepth: 3 })
)

type Mutation =
  | { kind: 'replace', at: number, value: unknown }
  | { kind: 'delete', at: number }
  | { kind: 'wrap', at: number }
  | { kind: 'repeat', at: number, times: number, vary: boolean }
  | { kind: 'addKey', at: number, key: string, value: unknown }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: nastyValue }), weight: 4 },
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('wrap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), times: fc.oneof(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 100, max: 40000 })), vary: fc.boolean() }),
  fc.record({ kind: fc.constant('addKey' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'mediaType', 'platform', 'annotations', 'manifests', 'Config'), fc.string({ maxLength: 8 })), value: nastyValue })
)

interface Slot { parent: any, key: string | number }

/** Every node of a document as (parent, key), the root as (holder, 'root'), depth-first. */
function slots (holder: { root: unknown }): Slot[] {
  const out: Slot[] = []
  const visit = (parent: any, key: string | number): void => {
    out.push({ parent, key })
    const value = parent[key]
    if (value instanceof Raw || value === null || typeof value !== 'object') return
    if (Array.isArray(value)) value.forEach((_, i) => visit(value, i))
    else for (const k of Object.keys(value)) visit(value, k)
  }
  visit(holder, 'root')
  return out
}

/** A deep copy that keeps Raw parts (fast-check's values must not be changed in place). */
function clone (value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Raw) return value
  if (Array.isArray(value)) return value.map(clone)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: clone(v), enumerable: true, configurable: true, writable: true })
  return out
}

function vary (value: unknown, i: number): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Raw) return value
  const copy: any = clone(value)
  if (typeof copy.digest === 'string') copy.digest = 'sha256:' + createHash('sha256').update(`${copy.digest}${i}`).digest('hex')
  else if (!Array.isArray(copy)) copy[`k${i}`] = i
  return copy
}

/** Nodes in a value (long texts count one per 64 characters), counted up to `cap`. */
function nodeCount (value: unknown, cap: number): number {
  let n = 0
  const visit = (v: unknown): void => {
    n += v instanceof Raw ? Math.ceil(v.text.length / 64) : typeof v === 'string' ? Math.ceil(v.length / 64) : 1
    if (n >= cap || v === null || typeof v !== 'object' || v instanceof Raw) return
    for (const child of Array.isArray(v) ? v : Object.values(v)) visit(child)
  }
  visit(value)
  return n
}

/** Documents stay below about this many nodes (repeats are cut): at most some 10 MB of JSON. */
const MAX_NODES = 200_000

export function mutate (document: unknown, mutations: Mutation[]): unknown {
  const holder = { root: clone(document) }
  for (const m of mutations) {
    const all = slots(holder)
    const { parent, key } = all[m.at % all.length] as Slot
    const value = parent[key]
    switch (m.kind) {
      case 'replace': parent[key] = clone(m.value); break
      case 'delete':
        if (parent === holder) holder.root = null
        else if (Array.isArray(parent)) parent.splice(key as number, 1)
        else delete parent[key]
        break
      case 'wrap': parent[key] = [value]; break
      case 'repeat': {
        const times = Math.max(1, Math.min(m.times, Math.floor((MAX_NODES - nodeCount(holder.root, MAX_NODES)) / nodeCount(value, MAX_NODES))))
        if (Array.isArray(parent)) parent.splice(key as number, 0, ...Array.from({ length: times - 1 }, (_, i) => m.vary ? vary(value, i) : clone(value)))
        else parent[key] = Array.from({ length: times }, (_, i) => m.vary ? vary(value, i) : clone(value))
        break
      }
      case 'addKey':
        if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Raw)) {
          Object.defineProperty(value, m.key, { value: clone(m.value), enumerable: true, configurable: true, writable: true })
        }
        break
    }
  }
  return holder.root
}

type Doc = 'config' | 'manifest' | 'index' | 'layout' | 'dockerManifest'

export interface JsonInput {
  kind: 'oci' | 'docker' | 'catalog'
  /** Mutations per document, applied before the documents that name it by digest are built. */
  mutations: Array<{ doc: Doc, mutation: Mutation }>
  /** Text damage to one document: cut at a fraction (1/1000), or a byte order mark. */
  text: { doc: Doc, cut: number | null, bom: boolean } | null
}

export const jsonInput: fc.Arbitrary<JsonInput> = fc.record({
  kind: fc.constantFrom('oci' as const, 'docker' as const, 'catalog' as const),
  mutations: fc.array(fc.record({ doc: fc.constantFrom<Doc>('config', 'manifest', 'index', 'layout', 'dockerManifest'), mutation }), { minLength: 1, maxLength: 4 }),
  text: sometimes(fc.record({ doc: fc.constantFrom<Doc>('config', 'manifest', 'index', 'layout', 'dockerManifest'), cut: sometimes(fc.integer({ min: 0, max: 999 }), 1), bom: fc.boolean() }), 6)
})

const sha = (text: string): string => createHash('sha256').update(text).digest('hex')
const layer = tarBytes([file('hello.txt', 'hello\n')])
const layerHex = createHash('sha256').update(layer).digest('hex')

function documentText (input: JsonInput, doc: Doc, value: unknown): string {
  const muts = input.mutations.filter((m) => m.doc === doc).map((m) => m.mutation)
  let text = serialize(muts.length === 0 ? value : mutate(value, muts))
  if (input.text?.doc === doc) {
    if (input.text.cut != null) text = text.slice(0, Math.floor(text.length * input.text.cut / 1000))
    if (input.text.bom) text = '\ufeff' + text
  }
  return text
}

/** The files of the input's image layout or docker archive (path → text or bytes). */
export function imageFiles (input: JsonInput): Map<string, string | Uint8Array> {
  const files = new Map<string, string | Uint8Array>()
  const config = documentText(input, 'config', {
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: { a: 'b' }, Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerHex}`] },
    history: [{ created_by: 'fuzz' }]
  })
  if (input.kind === 'docker') {
    files.set(`${sha(config)}.json`, config)
    files.set('abc/layer.tar', layer)
    files.set('manifest.json', documentText(input, 'dockerManifest', [{ Config: `${sha(config)}.json`, RepoTags: ['fuzz:latest'], Layers: ['abc/layer.tar'] }]))
    return files
  }
  const manifest = documentText(input, 'manifest', {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: Buffer.byteLength(config) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerHex}`, size: layer.length }],
    annotations: { 'org.opencontainers.image.title': 'fuzz' }
  })
  const index = documentText(input, 'index', {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${sha(manifest)}`,
      size: Buffer.byteLength(manifest),
      platform: { os: 'linux', architecture: 'amd64' },
      annotations: { 'org.opencontainers.image.ref.name': 'latest' }
    }]
  })
  files.set(`blobs/sha256/${sha(config)}`, config)
  files.set(`blobs/sha256/${sha(manifest)}`, manifest)
  files.set(`blobs/sha256/${layerHex}`, layer)
  files.set('index.json', index)
  files.set('oci-layout', documentText(input, 'layout', { imageLayoutVersion: '1.0.0' }))
  // Docker 25+ archives add manifest.json next to the layout.
  if (input.mutations.some((m) => m.doc === 'dockerManifest')) {
    files.set('manifest.json', documentText(input, 'dockerManifest', [{ Config: `blobs/sha256/${sha(config)}`, RepoTags: ['fuzz:latest'], Layers: [`blobs/sha256/${layerHex}`] }]))
  }
  return files
}

const TAG = { tag: 'v1', digest: 'sha256:' + 'b'.repeat(64), platforms: ['linux/amd64'], size: 1234, cid: 'bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354', published: '2026-01-01T00:00:00.000Z' }

/** A previous root's catalog.json: the catalog document (mutated as 'index') as text. */
export function catalogText (input: JsonInput): string {
  return documentText({ ...input, mutations: input.mutations.map((m) => ({ ...m, doc: m.doc === 'index' || m.doc === 'manifest' ? 'index' : m.doc })) }, 'index', {
    schemaVersion: 1,
    updated: '2026-01-01T00:00:00.000Z',
    images: [
      { name: 'fuzz/app', description: 'the app', tags: [TAG, { ...TAG, tag: 'v0', revision: 'abc' }] },
      { name: 'other', tags: [{ ...TAG, tag: 'latest' }] }
    ]
  })
}

/** What a catalog entry must look like for it to be carried into the next catalog. */
function checkCatalog (bytes: Uint8Array): void {
  const value = JSON.parse(Buffer.from(bytes).toString('utf8'))
  const bad = (what: string): never => { throw new Violation('invalid-catalog-kept', `the new catalog.json has ${what}`) }
  if (value?.schemaVersion !== 1 || typeof value.updated !== 'string' || !Array.isArray(value.images)) bad('a wrong top level')
  for (const image of value.images) {
    if (image === null || typeof image !== 'object' || Array.isArray(image)) bad('an image that is not an object')
    if (typeof image.name !== 'string' || image.name === '') bad(`an image whose name is ${JSON.stringify(image.name)}`)
    if (image.description !== undefined && typeof image.description !== 'string') bad('a description that is not a string')
    if (!Array.isArray(image.tags)) bad(`image ${image.name} whose tags are not a list`)
    for (const tag of image.tags) {
      if (tag === null || typeof tag !== 'object' || Array.isArray(tag)) bad(`a tag of ${image.name} that is not an object`)
      for (const key of ['tag', 'digest', 'cid', 'published']) if (typeof tag[key] !== 'string') bad(`a tag of ${image.name} whose ${key} is ${JSON.stringify(tag[key])?.slice(0, 40)}`)
      if (typeof tag.size !== 'number' || !Number.isSafeInteger(tag.size) || tag.size < 0) bad(`a tag of ${image.name} whose size is ${JSON.stringify(tag.size)}`)
      if (!Array.isArray(tag.platforms) || !tag.platforms.every((p: unknown) => typeof p === 'string')) bad(`a tag of ${image.name} with bad platforms`)
    }
  }
}

export const jsonTarget: Target<JsonInput> = {
  name: 'json',
  arbitrary: jsonInput,
  save: (input) => {
    if (input.kind === 'catalog') return { ext: 'catalog.json', bytes: Buffer.from(catalogText(input)) }
    return { ext: `${input.kind}.json`, bytes: Buffer.from(JSON.stringify(Object.fromEntries([...imageFiles(input)].map(([k, v]) => [k, typeof v === 'string' ? v : Buffer.from(v).toString('base64')])), null, 1)) }
  },
  run: async (input, sandbox) => {
    sandbox.step = 'encode'
    if (input.kind === 'catalog') {
      const bytes = Buffer.from(catalogText(input))
      const catalog = await step(sandbox, 'parseCatalog', undefined, async () => parseCatalog(bytes))
      const updated = await step(sandbox, 'updateCatalog', undefined, async () =>
        updateCatalog(catalog, { name: 'fuzz/app', description: 'new', tags: [{ ...TAG, tag: 'v2' }], updated: '2026-02-02T00:00:00.000Z' }))
      const out = await step(sandbox, 'encodeCatalog', undefined, async () => encodeCatalog(updated))
      sandbox.step = 'catalog output'
      checkCatalog(out)
      return
    }
    const dir = join(sandbox.dir, 'input')
    for (const [path, content] of imageFiles(input)) {
      await mkdir(join(dir, path, '..'), { recursive: true })
      await writeFile(join(dir, path), content)
    }
    await loadArchive(dir, sandbox)
  }
}
