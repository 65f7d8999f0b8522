import type { Readable } from 'node:stream'
import type { ChunkOptions } from './archive.js'
import { blobPath, jsonBytes } from './blob.js'
import { MEDIA_TYPES } from './model.js'
import type { NormalizedImage } from './model.js'

/** One file of a tag folder: small ones carry bytes, blobs a stream and the digest to check. */
export interface FolderFile {
  /** Relative to the tag folder, e.g. 'blobs/sha256/<hex>'. */
  path: string
  size: number
  /** sha256:<hex> the bytes must hash to. */
  digest?: string
  bytes?: Uint8Array
  open?: () => Readable
  chunks?: (options: ChunkOptions) => AsyncGenerator<Uint8Array>
}

/**
 * The files of /<name>/tags/<tag>/ in Docker 25+ `docker save` layout: an OCI
 * image layout plus manifest.json for classic `docker load`. Sorted by path.
 */
export function tagFolderFiles (image: NormalizedImage, ref: { name: string, tag: string }): FolderFile[] {
  const { root, primary } = image
  const index = jsonBytes({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [{
      mediaType: root.mediaType,
      digest: root.digest,
      size: root.size,
      annotations: {
        'io.containerd.image.name': `${ref.name}:${ref.tag}`,
        'org.opencontainers.image.ref.name': ref.tag
      }
    }]
  })
  const manifest = jsonBytes([{
    Config: blobPath(primary.config.digest),
    RepoTags: [`${ref.name}:${ref.tag}`],
    Layers: primary.layers.map((layer) => blobPath(layer.digest))
  }])
  const layout = jsonBytes({ imageLayoutVersion: '1.0.0' })

  const files: FolderFile[] = [
    { path: 'oci-layout', size: layout.length, bytes: layout },
    { path: 'index.json', size: index.length, bytes: index },
    { path: 'manifest.json', size: manifest.length, bytes: manifest }
  ]
  for (const blob of image.blobs) {
    const file: FolderFile = { path: blobPath(blob.digest), size: blob.size, digest: blob.digest, open: () => blob.open() }
    if (blob.chunks != null) file.chunks = blob.chunks.bind(blob)
    if (blob.bytes != null) file.bytes = blob.bytes
    files.push(file)
  }
  return files.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
}
