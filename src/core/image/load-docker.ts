import { posix } from 'node:path'
import { throwIfAborted } from '../errors.js'
import {
  archiveBlob, hashCompressed, isObject, isSha256Digest, jsonBytes, memoryBlob, parsePlatform, readHeadBytes, readVerifiedJson
} from './blob.js'
import type { LoadContext } from './blob.js'
import { DecompressionLimitError, detectCompression, MAGIC_BYTES } from './compression.js'
import { formatError, mismatchError } from './image-errors.js'
import { defaultDecompressedLimit, IMAGE_LIMITS } from './limits.js'
import { addRepoTags } from './load-oci.js'
import { selectCandidates, severalImagesError } from './select.js'
import type { LoadedGraph } from './load-oci.js'
import { formatBytes } from '../progress.js'
import { MEDIA_TYPES } from './model.js'
import type { BlobRef } from './model.js'

const LAYER_TYPES = {
  none: MEDIA_TYPES.ociLayer,
  gzip: MEDIA_TYPES.ociLayerGzip,
  zstd: MEDIA_TYPES.ociLayerZstd
} as const

/**
 * Loads a legacy `docker save` archive and generates its OCI image manifest.
 * When manifest.json lists several images, ctx.ref selects one (by RepoTag or image ID).
 * The config bytes are kept as they are, so the image ID stays the same.
 */
export async function loadDockerArchive (ctx: LoadContext): Promise<LoadedGraph> {
  const { archive, input } = ctx
  const label = archive.label
  const list = (await readVerifiedJson(ctx, 'manifest.json')).json
  if (!Array.isArray(list) || list.length === 0) throw formatError(input, `manifest.json in ${label} is not a non-empty list`)
  if (list.length > IMAGE_LIMITS.entries) {
    throw formatError(input, `manifest.json in ${label} lists ${list.length} images, more than the ${IMAGE_LIMITS.entries} allowed`)
  }
  const candidates = list.map((entry: unknown, i: number) => {
    if (!isObject(entry) || typeof entry.Config !== 'string' || !Array.isArray(entry.Layers) ||
      !entry.Layers.every((layer: unknown) => typeof layer === 'string')) {
      throw formatError(input, `manifest.json in ${label}: entry ${i} needs a Config path and a Layers list`)
    }
    const names = new Set<string>()
    addRepoTags(ctx, names, entry.RepoTags)
    const hex = /^(?:sha256:)?([0-9a-f]{64})(?:\.json)?$/.exec(posix.basename(entry.Config))
    return { entry, names: [...names], digests: hex != null ? [`sha256:${hex[1] as string}`] : [] }
  })
  const selectContext = { input, refInput: ctx.refInput ?? 'image', label }
  const chosen = selectCandidates(candidates, ctx.ref, selectContext)
  // Entries of one config are one image (docker save lists each tag of it).
  if (new Set(chosen.map((c) => c.entry.Config)).size > 1) throw severalImagesError(chosen, selectContext)
  const entry = (chosen[0] as typeof candidates[number]).entry
  if (entry.Layers.length > IMAGE_LIMITS.layers) {
    throw formatError(input, `manifest.json in ${label} lists ${entry.Layers.length} layers, more than the ${IMAGE_LIMITS.layers} allowed`)
  }
  const configPath: string = entry.Config
  const layerPaths: string[] = entry.Layers
  for (const path of [configPath, ...layerPaths]) {
    if (!archive.has(path)) throw formatError(input, `${label} is missing '${path}', named in manifest.json`)
  }

  // A config named after its hex (as docker save does) must hash to it.
  const hexMatch = /^(?:sha256:)?([0-9a-f]{64})(?:\.json)?$/.exec(posix.basename(configPath))
  const { bytes: configBytes, json: configJson } = await readVerifiedJson(ctx, configPath, hexMatch != null ? `sha256:${hexMatch[1] as string}` : undefined)
  if (!isObject(configJson)) throw formatError(input, `${configPath} in ${label} is not a JSON object`)
  const diffIds: unknown = configJson.rootfs?.diff_ids
  if (!Array.isArray(diffIds) || !diffIds.every(isSha256Digest)) {
    throw formatError(input, `${configPath} in ${label} has no valid rootfs.diff_ids (sha256 digests)`)
  }
  if (diffIds.length !== layerPaths.length) {
    throw formatError(input, `${configPath} in ${label} lists ${diffIds.length} diff_ids but manifest.json lists ${layerPaths.length} layers`)
  }

  const config = memoryBlob(configBytes, MEDIA_TYPES.ociConfig)
  const layers: BlobRef[] = []
  for (const [i, path] of layerPaths.entries()) {
    throwIfAborted(ctx.signal)
    const size = archive.size(path)
    const compression = detectCompression(await readHeadBytes(archive.open(path), MAGIC_BYTES))
    if (compression === 'xz' || compression === 'bzip2') {
      throw formatError(input, `layer '${path}' in ${label} is ${compression}-compressed, which is not supported`)
    }
    const diffId = diffIds[i] as string
    // Uncompressed layers: digest = diff_id, checked by whoever streams the bytes.
    const digest = compression === 'none' ? diffId : await compressedLayerDigest(ctx, path, compression, size, diffId)
    layers.push(archiveBlob(ctx, path, digest, size, LAYER_TYPES[compression]))
  }

  const manifest = memoryBlob(jsonBytes({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((layer) => ({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }))
  }), MEDIA_TYPES.ociManifest)

  const platform = parsePlatform(configJson, ctx, `config ${configPath}`) ?? { os: 'unknown', architecture: 'unknown' }
  const blobs = new Map<string, BlobRef>()
  for (const blob of [manifest, config, ...layers]) if (!blobs.has(blob.digest)) blobs.set(blob.digest, blob)
  const repoTags = new Set(chosen.flatMap((c) => c.names))
  return {
    root: manifest,
    images: [{ platform, manifest, config, layers, configJson }],
    blobs: [...blobs.values()],
    repoTags: [...repoTags]
  }
}

/**
 * The digest of a compressed layer, after checking that its content hashes
 * to its diff_id. Decompression stops at the limit: a bomb is not inflated.
 */
async function compressedLayerDigest (ctx: LoadContext, path: string, compression: 'gzip' | 'zstd', size: number, diffId: string): Promise<string> {
  const { archive, input } = ctx
  const where = `layer '${path}' in ${archive.label}`
  const limit = ctx.maxDecompressedSize ?? defaultDecompressedLimit(size)
  let hashed
  try {
    hashed = await hashCompressed(archive.open(path), compression, limit)
  } catch (err: any) {
    if (err instanceof DecompressionLimitError) {
      throw formatError(input, `${where} ${compression}-decompresses to more than ${formatBytes(limit)}; if the image is genuine, raise max-decompressed-size`)
    }
    throw formatError(input, `${where}: cannot ${compression}-decompress it: ${err.message as string}`, { cause: err })
  }
  if (hashed.size !== size) throw mismatchError(input, `${where} changed while being read`)
  if (hashed.contentDigest !== diffId) {
    throw mismatchError(input, `${where} decompresses to content with digest ${hashed.contentDigest}, but the config's rootfs.diff_ids says ${diffId}`)
  }
  return hashed.digest
}
