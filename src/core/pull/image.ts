import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import type { BlockSource } from '../blocks/types.js'
import { InputError, TreeError } from '../errors.js'
import { isSha256Digest } from '../image/blob.js'
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, platformString, type Platform } from '../image/model.js'
import type { AbortOptions } from '../logger.js'
import { readManifest } from '../serve/manifest.js'
import type { RepositoryReader, TreeFile } from '../serve/repository.js'
import { dagSize } from '../unixfs/tree.js'
import type { FolderBlob } from './folder.js'
import { choosePlatform, describePlatforms, type IndexEntry } from './platform.js'

/** One platform's image as the tree holds it: its manifest, config and layers, each a file of some tag folder. */
export interface SelectedImage {
  /** The digest the user gave (or the tag named): the manifest, or the index it was chosen from. */
  rootDigest: string
  platform?: Platform
  manifest: FolderBlob
  config: FolderBlob
  layers: FolderBlob[]
}

/**
 * The image `digest` names in repository `name` (an image manifest, or an index from which the
 * entry for `platform` is taken), with its config and layers, found in the repository's tag
 * folders. Manifest bytes are checked against their digests here; config and layers when read.
 */
export async function selectImage (reader: RepositoryReader, source: BlockSource, root: CID, name: string, digest: string, platform: Platform, options?: AbortOptions & { platformInput?: string }): Promise<SelectedImage> {
  const read = async (wanted: string, hint?: string): Promise<{ file: TreeFile, json: any, mediaType: string, bytes: Uint8Array }> => {
    const file = await reader.blob(root, name, wanted, options)
    const manifest = await readManifest(file, wanted, source, { signal: options?.signal, hint })
    if (manifest == null) throw new TreeError(`${name}@${wanted} is not an image manifest or index`)
    return { file, json: JSON.parse(Buffer.from(manifest.bytes).toString('utf8')), mediaType: manifest.mediaType, bytes: manifest.bytes }
  }
  let top = await read(digest)
  let chosen: Platform | undefined
  let manifestDigest = digest
  if (INDEX_MEDIA_TYPES.includes(top.mediaType)) {
    const entries = indexEntries(top.json, `${name}@${digest}`)
    const entry = choosePlatform(entries, platform)
    if (entry == null) throw new InputError(options?.platformInput ?? 'platform', `${name}@${digest} has no image for ${platformString(platform)} (it has: ${describePlatforms(entries)})`)
    chosen = entry.platform
    manifestDigest = entry.digest
    top = await read(entry.digest, entry.mediaType)
    if (!MANIFEST_MEDIA_TYPES.includes(top.mediaType)) throw new TreeError(`${name}@${entry.digest}, the ${platformString(platform)} entry of ${digest}, is not an image manifest`)
  }
  const config = descriptorOf(top.json.config, `config of ${name}@${manifestDigest}`)
  if (!Array.isArray(top.json.layers)) throw new TreeError(`${name}@${manifestDigest} has no layers list`)
  const layers = (top.json.layers as unknown[]).map((l, i) => descriptorOf(l, `layer ${i} of ${name}@${manifestDigest}`))
  const blob = async (d: { digest: string, size: number, mediaType: string }): Promise<FolderBlob> => {
    const file = await reader.blob(root, name, d.digest, options)
    if (file.size !== d.size) throw new TreeError(`blob ${d.digest} of ${name} is ${file.size} bytes in the tree where its descriptor says ${d.size}`)
    return { ...d, cid: file.cid, dagSize: file.cid.code === raw.code ? file.size : await dagSize(file.cid, source, options) }
  }
  const manifestFile = top.file
  return {
    rootDigest: digest,
    ...(chosen != null ? { platform: chosen } : {}),
    manifest: {
      digest: manifestDigest,
      size: top.bytes.length,
      mediaType: top.mediaType,
      cid: manifestFile.cid,
      dagSize: manifestFile.cid.code === raw.code ? manifestFile.size : await dagSize(manifestFile.cid, source, options)
    },
    config: await blob(config),
    layers: await Promise.all(layers.map(blob))
  }
}

function indexEntries (json: any, where: string): IndexEntry[] {
  if (!Array.isArray(json?.manifests)) throw new TreeError(`${where} is an index without a manifests list`)
  const entries: IndexEntry[] = []
  for (const m of json.manifests as any[]) {
    if (typeof m?.mediaType !== 'string' || !isSha256Digest(m.digest) || !Number.isSafeInteger(m.size)) continue
    const p = m.platform
    const platform = typeof p?.os === 'string' && typeof p?.architecture === 'string'
      ? { os: p.os, architecture: p.architecture, ...(typeof p.variant === 'string' ? { variant: p.variant } : {}) }
      : undefined
    // Attestation manifests (unknown/unknown) are no runnable platform.
    if (platform == null || platform.os === 'unknown') continue
    entries.push({ mediaType: m.mediaType, digest: m.digest, size: m.size, platform })
  }
  return entries
}

function descriptorOf (value: any, where: string): { digest: string, size: number, mediaType: string } {
  if (typeof value?.mediaType !== 'string' || !isSha256Digest(value.digest) || !Number.isSafeInteger(value.size) || value.size < 0) {
    throw new TreeError(`${where} is not a descriptor (mediaType, sha256 digest, size)`)
  }
  return { digest: value.digest, size: value.size, mediaType: value.mediaType }
}
