import { createHash } from 'node:crypto'
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import type { BlockSink, BlockSource } from '../blocks/types.js'
import { DigestMismatchError, throwIfAborted, TreeError } from '../errors.js'
import { jsonBytes } from '../image/blob.js'
import { MEDIA_TYPES } from '../image/model.js'
import type { AbortOptions } from '../logger.js'
import { fileContent, readBlock } from '../unixfs/content.js'
import { buildDirectory, readDirectory, type DirEntry } from '../unixfs/directory.js'
import { importBytes } from '../unixfs/file.js'
import { isDirectory } from '../unixfs/export.js'

/** A file of a folder in the tree: its path inside the folder, UnixFS root and DAG size (its link's Tsize). */
export interface FolderEntry {
  path: string[]
  cid: CID
  size: number
}

/** Depth a tag folder has (blobs/sha256/<hex>), with room to spare. */
const MAX_FOLDER_DEPTH = 8
/** Files of one tag folder: an image has at most 127 layers per platform; a few dozen platforms. */
const MAX_FOLDER_FILES = 100_000

/** Every file under `folder` (directories read, file contents not), depth-first. */
export async function listFolderFiles (folder: CID, source: BlockSource, options?: AbortOptions): Promise<FolderEntry[]> {
  const files: FolderEntry[] = []
  async function visit (cid: CID, path: string[]): Promise<void> {
    throwIfAborted(options?.signal)
    if (path.length > MAX_FOLDER_DEPTH) throw new TreeError(`folder ${folder} is more than ${MAX_FOLDER_DEPTH} levels deep at ${path.join('/')}`)
    for (const entry of await readDirectory(cid, source, { signal: options?.signal })) {
      const at = [...path, entry.name]
      if (entry.cid.code === dagPb.code && isDirectory(entry.cid, await readBlock(entry.cid, source, options))) {
        await visit(entry.cid, at)
        continue
      }
      files.push({ path: at, cid: entry.cid, size: entry.size })
      if (files.length > MAX_FOLDER_FILES) throw new TreeError(`folder ${folder} holds more than ${MAX_FOLDER_FILES} files`)
    }
  }
  await visit(folder, [])
  return files
}

/** The `sha256:<hex>` a blob file is named by (blobs/sha256/<hex>), or undefined for other files. */
export function blobDigestOf (path: string[]): string | undefined {
  return path.length === 3 && path[0] === 'blobs' && path[1] === 'sha256' && /^[a-f0-9]{64}$/.test(path[2] as string) ? `sha256:${path[2] as string}` : undefined
}

/** Reads the file at `cid` whole (streamed) and checks it hashes to `digest`; DigestMismatchError otherwise. */
export async function checkBlobDigest (cid: CID, digest: string, source: BlockSource, options?: AbortOptions): Promise<void> {
  const hash = createHash('sha256')
  for await (const chunk of fileContent(cid, source, { signal: options?.signal })) hash.update(chunk)
  const actual = `sha256:${hash.digest('hex')}`
  if (actual !== digest) throw new DigestMismatchError(`blob ${cid} is stored as ${digest} but its content hashes to ${actual}`)
}

/** One blob of the image written by digest: its descriptor and where its file is in the tree. */
export interface FolderBlob {
  digest: string
  size: number
  mediaType: string
  cid: CID
  /** The file's DAG size (a link's Tsize). */
  dagSize: number
}

/**
 * Writes into `sink` the UnixFS folder of one image manifest in the tag folder layout (an OCI
 * image layout with index.json naming `manifest`, plus manifest.json for `docker load`), its
 * blobs linked where they are in the tree (nothing of them is copied). Returns its root.
 */
export async function buildImageFolder (image: { manifest: FolderBlob, config: FolderBlob, layers: FolderBlob[], repoTag?: string, refName?: string }, sink: BlockSink, options?: AbortOptions): Promise<CID> {
  const blobs = new Map<string, FolderBlob>()
  for (const blob of [image.manifest, image.config, ...image.layers]) blobs.set(blob.digest, blob)
  const hex = (digest: string): string => digest.slice('sha256:'.length)
  const sha256 = await buildDirectory([...blobs.values()].map((b) => ({ name: hex(b.digest), cid: b.cid, size: b.dagSize })), sink, options)
  const blobsDir = await buildDirectory([{ name: 'sha256', cid: sha256.cid, size: sha256.size }], sink, options)
  const annotations: Record<string, string> = {}
  if (image.repoTag != null) annotations['io.containerd.image.name'] = image.repoTag
  if (image.refName != null) annotations['org.opencontainers.image.ref.name'] = image.refName
  const index = jsonBytes({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [{ mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.size, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) }]
  })
  const manifest = jsonBytes([{
    Config: `blobs/sha256/${hex(image.config.digest)}`,
    RepoTags: image.repoTag != null ? [image.repoTag] : [],
    Layers: image.layers.map((l) => `blobs/sha256/${hex(l.digest)}`)
  }])
  const layout = jsonBytes({ imageLayoutVersion: '1.0.0' })
  const entries: DirEntry[] = [{ name: 'blobs', cid: blobsDir.cid, size: blobsDir.size }]
  for (const [name, bytes] of [['index.json', index], ['manifest.json', manifest], ['oci-layout', layout]] as const) {
    const file = await importBytes(bytes, sink, options)
    entries.push({ name, cid: file.cid, size: file.size })
  }
  return (await buildDirectory(entries, sink, options)).cid
}
