import { throwIfAborted } from '../errors.js'
import { describeValue } from '../json.js'
import {
  archiveBlob, blobPath, isObject, jsonBytes, memoryBlob, parseDescriptor, parsePlatform, readVerifiedJson, requireBlob, stringRecord
} from './blob.js'
import { IMAGE_LIMITS } from './limits.js'
import { isBareName, selectCandidates, severalImagesError } from './select.js'
import type { Descriptor, LoadContext } from './blob.js'
import { formatError } from './image-errors.js'
import { CONFIG_MEDIA_TYPES, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MEDIA_TYPES, platformString } from './model.js'
import type { BlobRef, Platform, PlatformImage } from './model.js'

export interface LoadedGraph {
  root: BlobRef
  images: PlatformImage[]
  blobs: BlobRef[]
  repoTags: string[]
}

const MAX_DEPTH = 8

/**
 * Loads an OCI image layout (with or without Docker's manifest.json).
 * ctx.ref selects one entry of index.json (by its name annotations or digest).
 * Otherwise: one entry is the root; several images of distinct platforms get
 * a generated index listing them as the root; several other images are an
 * error listing them.
 */
export async function loadOciLayout (ctx: LoadContext): Promise<LoadedGraph> {
  const { archive, input } = ctx
  const layout = (await readVerifiedJson(ctx, 'oci-layout')).json
  if (!isObject(layout) || typeof layout.imageLayoutVersion !== 'string' || !layout.imageLayoutVersion.startsWith('1.')) {
    throw formatError(input, `oci-layout in ${archive.label}: unsupported image layout version ${describeValue(isObject(layout) ? layout.imageLayoutVersion : layout)}`)
  }
  const index = (await readVerifiedJson(ctx, 'index.json')).json
  const entries = indexEntries(ctx, index, 'index.json')
  const byDigest = new Map<string, { entry: Descriptor, names: string[], digests: string[] }>()
  for (const entry of entries) {
    const candidate = byDigest.get(entry.digest) ?? { entry, names: [], digests: [entry.digest] }
    byDigest.set(entry.digest, candidate)
    for (const name of entryNames(entry)) if (!candidate.names.includes(name)) candidate.names.push(name)
  }
  if (byDigest.size === 0) throw formatError(input, `index.json in ${archive.label} lists no manifests`)
  const selectContext = { input, refInput: ctx.refInput ?? 'image', label: archive.label }
  const chosen = selectCandidates([...byDigest.values()], ctx.ref, selectContext)
  const unique = chosen.map((c) => c.entry)

  const walker = new Walker(ctx)
  let rootEntries = [unique[0] as Descriptor]
  let root: BlobRef
  if (unique.length > 1) {
    if (!await walker.distinctPlatforms(unique)) throw severalImagesError(chosen, selectContext)
    rootEntries = unique
    root = memoryBlob(jsonBytes({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: await platformEntries(walker, unique)
    }), MEDIA_TYPES.ociIndex)
    walker.add(root)
    for (const entry of unique) await walker.visit(entry, `index.json entry ${entry.digest}`, 1, false)
  } else {
    root = await walker.visit(rootEntries[0] as Descriptor, 'index.json', 0, false) as BlobRef
  }

  return {
    root,
    images: walker.images,
    blobs: [...walker.blobs.values()],
    repoTags: await repoTagsFor(ctx, walker.images, chosen.flatMap((c) => c.names))
  }
}

/** The names index.json gives an entry: containerd's full name first, then the OCI ref name. */
function entryNames (entry: Descriptor): string[] {
  const annotations = stringRecord(entry.annotations)
  return [annotations['io.containerd.image.name'], annotations['org.opencontainers.image.ref.name']].filter((n): n is string => n != null && n !== '')
}

async function platformEntries (walker: Walker, entries: Descriptor[]): Promise<unknown[]> {
  const out: unknown[] = []
  for (const entry of entries) {
    out.push({ mediaType: entry.mediaType ?? MEDIA_TYPES.ociManifest, digest: entry.digest, size: entry.size, platform: await walker.platformOf(entry) })
  }
  return out
}

function indexEntries (ctx: LoadContext, index: unknown, where: string): Descriptor[] {
  if (!isObject(index)) throw formatError(ctx.input, `${where} in ${ctx.archive.label} is not a JSON object`)
  if (index.schemaVersion !== 2) {
    throw formatError(ctx.input, `${where} in ${ctx.archive.label} has schemaVersion ${describeValue(index.schemaVersion)}, expected 2`)
  }
  if (!Array.isArray(index.manifests)) throw formatError(ctx.input, `${where} in ${ctx.archive.label} has no manifests list`)
  if (index.manifests.length > IMAGE_LIMITS.entries) {
    throw formatError(ctx.input, `${where} in ${ctx.archive.label} lists ${index.manifests.length} manifests, more than the ${IMAGE_LIMITS.entries} allowed`)
  }
  return index.manifests.map((item: unknown, i: number) => parseDescriptor(item, `${where} manifests[${i}]`, ctx))
}

function isAttestation (descriptor: Descriptor): boolean {
  return descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (descriptor.platform?.os === 'unknown' && descriptor.platform.architecture === 'unknown')
}

const UNSUPPORTED_HINTS: Record<string, string> = {
  'application/vnd.docker.distribution.manifest.v1+json': ' (Docker schema 1 manifests are not supported)',
  'application/vnd.docker.distribution.manifest.v1+prettyjws': ' (Docker schema 1 manifests are not supported)'
}

class Walker {
  readonly blobs = new Map<string, BlobRef>()
  readonly images: PlatformImage[] = []
  private readonly imageManifests = new Set<string>()
  private readonly visited = new Map<string, BlobRef | undefined>()
  private readonly cache = new Map<string, { bytes: Uint8Array, json: unknown }>()

  constructor (private readonly ctx: LoadContext) {}

  add (blob: BlobRef): void {
    if (!this.blobs.has(blob.digest)) this.blobs.set(blob.digest, blob)
  }

  /** True when every entry is an image manifest and their platforms differ. */
  async distinctPlatforms (entries: Descriptor[]): Promise<boolean> {
    const seen = new Set<string>()
    for (const entry of entries) {
      if (entry.mediaType != null && !MANIFEST_MEDIA_TYPES.includes(entry.mediaType)) return false
      const platform = await this.platformOf(entry)
      if (platform == null) return false
      const key = platformString(platform)
      if (seen.has(key)) return false
      seen.add(key)
    }
    return true
  }

  /** The descriptor's platform, else the one its config names. */
  async platformOf (entry: Descriptor): Promise<Platform | undefined> {
    if (entry.platform != null) return entry.platform
    const manifest = await this.readJsonBlob(entry, 'index.json')
    if (!isObject(manifest.json) || !isObject(manifest.json.config)) return undefined
    const config = parseDescriptor(manifest.json.config, `manifest ${entry.digest} config`, this.ctx)
    if (config.mediaType == null || !CONFIG_MEDIA_TYPES.includes(config.mediaType)) return undefined
    return parsePlatform((await this.readJsonBlob(config, `manifest ${entry.digest}`)).json, this.ctx, `config ${config.digest}`)
  }

  /** Visits a manifest or index and what it references; returns its blob. */
  async visit (descriptor: Descriptor, where: string, depth: number, attestation: boolean): Promise<BlobRef | undefined> {
    const { ctx } = this
    throwIfAborted(ctx.signal)
    // Each manifest or index is walked once, however often indexes list it.
    const key = `${descriptor.digest} ${String(attestation)}`
    if (this.visited.has(key)) return this.visited.get(key)
    if (this.visited.size >= IMAGE_LIMITS.manifests) {
      throw formatError(ctx.input, `${ctx.archive.label}: more than ${IMAGE_LIMITS.manifests} manifests and indexes, at ${where}`)
    }
    const blob = await this.walk(descriptor, where, depth, attestation)
    this.visited.set(key, blob)
    return blob
  }

  private async walk (descriptor: Descriptor, where: string, depth: number, attestation: boolean): Promise<BlobRef | undefined> {
    const { ctx } = this
    if (depth > MAX_DEPTH) throw formatError(ctx.input, `${ctx.archive.label}: indexes nested deeper than ${MAX_DEPTH} at ${where}`)
    const known = [...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES]
    if (descriptor.mediaType != null && !known.includes(descriptor.mediaType)) {
      if (attestation) return undefined
      throw formatError(ctx.input, `${where} in ${ctx.archive.label}: unsupported media type '${descriptor.mediaType}'${UNSUPPORTED_HINTS[descriptor.mediaType] ?? ''}`)
    }
    if (attestation && !ctx.archive.has(blobPath(descriptor.digest))) return undefined
    const hint = depth > 0 && !attestation ? ' (the archive may hold only some platforms of a multi-platform image)' : ''
    const { bytes, json } = await this.readJsonBlob(descriptor, where, hint)
    if (!isObject(json)) throw formatError(ctx.input, `${where} in ${ctx.archive.label}: ${descriptor.digest} is not a JSON object`)
    const mediaType = descriptor.mediaType ?? (typeof json.mediaType === 'string' ? json.mediaType : undefined) ??
      (Array.isArray(json.manifests) ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest)
    if (!known.includes(mediaType)) {
      throw formatError(ctx.input, `${where} in ${ctx.archive.label}: ${descriptor.digest} has unsupported media type '${mediaType}'${UNSUPPORTED_HINTS[mediaType] ?? ''}`)
    }
    const blob = memoryBlob(bytes, mediaType, descriptor.digest)
    this.add(blob)

    const isIndex = INDEX_MEDIA_TYPES.includes(mediaType)
    const name = `${isIndex ? 'index' : 'manifest'} ${descriptor.digest}`
    if (isIndex) {
      for (const child of indexEntries(ctx, json, name)) {
        await this.visit(child, name, depth + 1, attestation || isAttestation(child))
      }
    } else {
      await this.visitManifest(descriptor, blob, json, name, attestation)
    }
    return blob
  }

  private async visitManifest (descriptor: Descriptor, manifest: BlobRef, json: Record<string, any>, where: string, attestation: boolean): Promise<void> {
    const { ctx } = this
    if (json.schemaVersion !== 2) {
      throw formatError(ctx.input, `${where} in ${ctx.archive.label} has schemaVersion ${describeValue(json.schemaVersion)}, expected 2`)
    }
    if (!Array.isArray(json.layers)) throw formatError(ctx.input, `${where} in ${ctx.archive.label} has no layers list`)
    if (json.layers.length > IMAGE_LIMITS.layers) {
      throw formatError(ctx.input, `${where} in ${ctx.archive.label} lists ${json.layers.length} layers, more than the ${IMAGE_LIMITS.layers} allowed`)
    }
    const config = parseDescriptor(json.config, `${where} config`, ctx)
    const layers = json.layers.map((item: unknown, i: number) => parseDescriptor(item, `${where} layers[${i}]`, ctx))
    const isImage = config.mediaType != null && CONFIG_MEDIA_TYPES.includes(config.mediaType)

    if (attestation || !isImage) {
      // Attestations and other artifacts: keep whichever of their blobs are present.
      for (const item of [config, ...layers]) {
        const path = blobPath(item.digest)
        if (ctx.archive.has(path) && ctx.archive.size(path) === item.size) {
          this.add(archiveBlob(ctx, path, item.digest, item.size, item.mediaType ?? 'application/octet-stream'))
        }
      }
      return
    }

    const configRead = await this.readJsonBlob(config, where)
    const configRef = memoryBlob(configRead.bytes, config.mediaType as string, config.digest)
    const layerRefs = layers.map((layer: Descriptor, i: number) => {
      const path = requireBlob(ctx, layer, `${where} layers[${i}]`)
      return archiveBlob(ctx, path, layer.digest, layer.size, layer.mediaType ?? MEDIA_TYPES.ociLayer)
    })
    this.add(configRef)
    for (const layer of layerRefs) this.add(layer)
    if (this.imageManifests.has(manifest.digest)) return
    this.imageManifests.add(manifest.digest)
    const platform = parsePlatform(configRead.json, ctx, `${where} config ${config.digest}`) ?? descriptor.platform ?? { os: 'unknown', architecture: 'unknown' }
    this.images.push({ platform, manifest, config: configRef, layers: layerRefs, configJson: configRead.json })
  }

  private async readJsonBlob (descriptor: Descriptor, where: string, hint = ''): Promise<{ bytes: Uint8Array, json: any }> {
    const cached = this.cache.get(descriptor.digest)
    if (cached != null) return cached
    const path = requireBlob(this.ctx, descriptor, where, hint)
    const result = await readVerifiedJson(this.ctx, path, descriptor.digest)
    this.cache.set(descriptor.digest, result)
    return result
  }
}

/** RepoTags from Docker's manifest.json for the loaded configs, else the names index.json gives the chosen entries. */
async function repoTagsFor (ctx: LoadContext, images: PlatformImage[], entryNames: string[]): Promise<string[]> {
  const tags = new Set<string>()
  if (ctx.archive.has('manifest.json')) {
    const configPaths = new Set(images.map((image) => blobPath(image.config.digest)))
    const manifest = (await readVerifiedJson(ctx, 'manifest.json')).json
    if (Array.isArray(manifest)) {
      if (manifest.length > IMAGE_LIMITS.entries) {
        throw formatError(ctx.input, `manifest.json in ${ctx.archive.label} lists ${manifest.length} images, more than the ${IMAGE_LIMITS.entries} allowed`)
      }
      for (const item of manifest) {
        if (isObject(item) && typeof item.Config === 'string' && configPaths.has(item.Config)) addRepoTags(ctx, tags, item.RepoTags)
      }
    }
  }
  if (tags.size === 0) {
    // A full name stands for its bare ref name (containerd writes both).
    const full = entryNames.filter((n) => !isBareName(n))
    for (const name of full.length > 0 ? full : entryNames) tags.add(name)
  }
  return [...tags]
}

/** Adds the strings of a RepoTags list to `tags`, up to IMAGE_LIMITS.repoTags in all. */
export function addRepoTags (ctx: LoadContext, tags: Set<string>, list: unknown): void {
  if (!Array.isArray(list)) return
  for (const tag of list) {
    if (typeof tag !== 'string') continue
    tags.add(tag)
    if (tags.size > IMAGE_LIMITS.repoTags) {
      throw formatError(ctx.input, `${ctx.archive.label} names more than ${IMAGE_LIMITS.repoTags} RepoTags in manifest.json`)
    }
  }
}
