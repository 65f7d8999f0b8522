import type { Readable } from 'node:stream'
import type { ChunkOptions } from './archive.js'

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json'
} as const

export const INDEX_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]
export const CONFIG_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig]

export interface Platform {
  os: string
  architecture: string
  variant?: string
}

/** One blob as it will be stored under blobs/sha256/. */
export interface BlobRef {
  /** sha256:<64 hex> */
  digest: string
  size: number
  mediaType: string
  /** The raw bytes; layer bytes are not verified yet, whoever streams them must hash them. */
  open(): Readable
  /** The raw bytes in pooled chunks (see ImageArchive.chunks); blobs read from an archive have it. */
  chunks?(options: ChunkOptions): AsyncGenerator<Uint8Array>
  /** Present for small JSON blobs that were generated or already read (and verified). */
  bytes?: Uint8Array
}

export interface PlatformImage {
  platform: Platform
  manifest: BlobRef
  config: BlobRef
  layers: BlobRef[]
  configJson: any
}

export type SourceFormat =
  /** Legacy `docker save`: manifest.json, <id>/layer.tar, <hex>.json. */
  | 'docker-archive'
  /** Docker 25+ `docker save`: OCI layout plus manifest.json. */
  | 'docker-oci-archive'
  /** Pure OCI image layout (tar or directory). */
  | 'oci-layout'

export interface NormalizedImage {
  sourceFormat: SourceFormat
  /** What the image digest names: the image manifest, or the multi-platform index. */
  root: BlobRef
  /** Every runnable platform image (attestations excluded). */
  images: PlatformImage[]
  /** linux/amd64 when present, else the first image. */
  primary: PlatformImage
  /** Every blob to store, deduplicated, root first. */
  blobs: BlobRef[]
  /** The primary config's config.Labels. */
  labels: Record<string, string>
  /** RepoTags of the source manifest.json, or names from index.json annotations. */
  repoTags: string[]
}

export function platformString (platform: Platform): string {
  return `${platform.os}/${platform.architecture}${platform.variant != null ? `/${platform.variant}` : ''}`
}
