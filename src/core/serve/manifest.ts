import { createHash } from 'node:crypto'
import type { BlockSource } from '../blocks/types.js'
import { DigestMismatchError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MEDIA_TYPES } from '../image/model.js'
import { fileContent } from '../unixfs/content.js'
import type { TreeFile } from './repository.js'

/** Largest manifest served (distribution's limit too); a larger blob is no manifest. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024

export interface Manifest {
  bytes: Uint8Array
  mediaType: string
}

/**
 * The bytes of a manifest blob, checked against `digest` (DigestMismatchError otherwise), or
 * undefined when the blob is no manifest (too large, not JSON, no manifest media type).
 * The media type is the manifest's own `mediaType`, else `hint` (from the tag's index.json),
 * else what its fields say (`manifests`: an OCI index, `config`: an OCI image manifest).
 */
export async function readManifest (file: TreeFile, digest: string, source: BlockSource, options?: AbortOptions & { hint?: string }): Promise<Manifest | undefined> {
  if (file.size > MAX_MANIFEST_BYTES) return undefined
  const chunks: Uint8Array[] = []
  const hash = createHash('sha256')
  let length = 0
  for await (const chunk of fileContent(file.cid, source, { signal: options?.signal, block: file.block })) {
    hash.update(chunk)
    chunks.push(chunk)
    length += chunk.byteLength
  }
  const actual = `sha256:${hash.digest('hex')}`
  if (actual !== digest) throw new DigestMismatchError(`blob ${file.cid} is stored as ${digest} but hashes to ${actual}`)
  const bytes = Buffer.concat(chunks, length)
  let json: any
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    return undefined
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined
  const known = [...MANIFEST_MEDIA_TYPES, ...INDEX_MEDIA_TYPES]
  let mediaType: string | undefined
  if (typeof json.mediaType === 'string') mediaType = json.mediaType
  else if (options?.hint != null) mediaType = options.hint
  else if (Array.isArray(json.manifests)) mediaType = MEDIA_TYPES.ociIndex
  else if (typeof json.config === 'object' && json.config !== null) mediaType = MEDIA_TYPES.ociManifest
  if (mediaType == null || !known.includes(mediaType) || json.schemaVersion !== 2) return undefined
  return { bytes, mediaType }
}
