import { throwIfAborted } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import type { ImageArchive } from './archive.js'
import { isObject, stringRecord } from './blob.js'
import type { LoadContext } from './blob.js'
import { formatError } from './image-errors.js'
import { loadDockerArchive } from './load-docker.js'
import { loadOciLayout } from './load-oci.js'
import type { NormalizedImage, SourceFormat } from './model.js'

export interface LoadImageOptions extends AbortOptions {
  /** The user-facing name of the input, for errors. */
  input: string
  /** Bytes a compressed layer may decompress to when its diff_id is checked; default: defaultDecompressedLimit of its size. */
  maxDecompressedSize?: number
  /** Selects one image when the archive holds several: a RepoTag, an OCI ref name or a digest. */
  ref?: string
  /** The input that gives `ref`, for errors; default `image`. */
  refInput?: string
}

/**
 * Reads and checks an image archive: an OCI image layout (optionally with
 * Docker's manifest.json) or a legacy docker save archive. Small JSON blobs
 * are verified here; layers only for presence and size.
 */
export async function loadImage (archive: ImageArchive, options: LoadImageOptions): Promise<NormalizedImage> {
  throwIfAborted(options.signal)
  const ctx: LoadContext = {
    archive, input: options.input, signal: options.signal, maxDecompressedSize: options.maxDecompressedSize, ref: options.ref, refInput: options.refInput
  }
  let sourceFormat: SourceFormat
  let graph
  if (archive.has('oci-layout') && archive.has('index.json')) {
    sourceFormat = archive.has('manifest.json') ? 'docker-oci-archive' : 'oci-layout'
    graph = await loadOciLayout(ctx)
  } else if (archive.has('manifest.json')) {
    sourceFormat = 'docker-archive'
    graph = await loadDockerArchive(ctx)
  } else {
    throw formatError(options.input, `${archive.label} is neither an OCI image layout (oci-layout, index.json) nor a docker save archive (manifest.json)`)
  }
  const primary = graph.images.find((image) => image.platform.os === 'linux' && image.platform.architecture === 'amd64') ?? graph.images[0]
  if (primary == null) throw formatError(options.input, `${archive.label} holds no container image (only attestations or other artifacts)`)
  const config = isObject(primary.configJson) ? primary.configJson.config : undefined
  return {
    sourceFormat,
    root: graph.root,
    images: graph.images,
    primary,
    blobs: graph.blobs,
    labels: stringRecord(isObject(config) ? config.Labels : undefined),
    repoTags: graph.repoTags
  }
}
