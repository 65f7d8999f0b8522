import { createHash } from 'node:crypto'
import { Readable, Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DEFAULT_JSON_LIMIT, parseJson, readBytes } from './archive.js'
import type { ImageArchive } from './archive.js'
import { createDecompressor, DecompressionLimit } from './compression.js'
import { formatError, mismatchError } from './image-errors.js'
import { quote } from '../escape.js'
import { PLATFORM_TOKEN_RE } from '../registry/reference.js'
import { IMAGE_LIMITS } from './limits.js'
import type { BlobRef, Platform } from './model.js'

/** What every loader step needs to read blobs and name the input in errors. */
export interface LoadContext {
  archive: ImageArchive
  input: string
  signal?: AbortSignal
  /** Bytes a compressed layer may decompress to; default: defaultDecompressedLimit of its size. */
  maxDecompressedSize?: number
  /** Bytes of JSON read so far (manifests, configs, indexes), against IMAGE_LIMITS.jsonBytes. */
  jsonBytes?: number
  /** The reference that selects one image of several (see select.ts). */
  ref?: string
  /** The input that gives `ref`, for errors; default `image`. */
  refInput?: string
}

/** An OCI content descriptor, validated. */
export interface Descriptor {
  mediaType?: string
  digest: string
  size: number
  platform?: Platform
  annotations?: Record<string, string>
}

const SHA256 = /^sha256:[0-9a-f]{64}$/

export function sha256Digest (bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

/**
 * Hashes a compressed stream and, decompressed, its content (at most `limit`
 * bytes of it: DecompressionLimitError past that).
 */
export async function hashCompressed (stream: Readable, compression: 'gzip' | 'zstd', limit: number): Promise<{ digest: string, size: number, contentDigest: string }> {
  const decompressor = createDecompressor(compression)
  if (decompressor == null) throw new Error(`Node.js ${process.versions.node} cannot decompress ${compression}`)
  const raw = createHash('sha256')
  let size = 0
  const content = createHash('sha256')
  await pipeline(
    stream,
    new Transform({
      transform (chunk: Buffer, _encoding, callback) {
        raw.update(chunk)
        size += chunk.length
        callback(null, chunk)
      }
    }),
    decompressor,
    new DecompressionLimit(limit),
    new Writable({
      write (chunk: Buffer, _encoding, callback) {
        content.update(chunk)
        callback()
      }
    })
  )
  return { digest: `sha256:${raw.digest('hex')}`, size, contentDigest: `sha256:${content.digest('hex')}` }
}

/** Reads up to n leading bytes of a stream, then stops it. */
export async function readHeadBytes (stream: Readable, n: number): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  let length = 0
  try {
    for await (const chunk of stream) {
      chunks.push(Buffer.from(chunk as Uint8Array))
      length += (chunk as Uint8Array).length
      if (length >= n) break
    }
  } finally {
    stream.destroy()
  }
  return new Uint8Array(Buffer.concat(chunks).subarray(0, n))
}

export function isSha256Digest (value: unknown): value is string {
  return typeof value === 'string' && SHA256.test(value)
}

export function blobPath (digest: string): string {
  return `blobs/sha256/${digest.slice('sha256:'.length)}`
}

/** A BlobRef for bytes held in memory (generated or already verified). */
export function memoryBlob (bytes: Uint8Array, mediaType: string, digest = sha256Digest(bytes)): BlobRef {
  return { digest, size: bytes.length, mediaType, bytes, open: () => Readable.from([Buffer.from(bytes)]) }
}

/** Deterministic JSON bytes: no whitespace, key order as built. */
export function jsonBytes (value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(value), 'utf8'))
}

export function isObject (value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Validates a descriptor found at `where`. */
export function parseDescriptor (value: unknown, where: string, ctx: LoadContext): Descriptor {
  if (!isObject(value)) throw formatError(ctx.input, `${where} in ${ctx.archive.label}: descriptor is not an object`)
  const { mediaType, digest, size, platform, annotations } = value
  if (typeof digest !== 'string') throw formatError(ctx.input, `${where} in ${ctx.archive.label}: descriptor has no digest`)
  if (!SHA256.test(digest)) {
    throw formatError(ctx.input, `${where} in ${ctx.archive.label}: unsupported digest '${digest}' (only sha256:<64 hex> is supported)`)
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw formatError(ctx.input, `${where} in ${ctx.archive.label}: descriptor ${digest} has an invalid size`)
  }
  if (mediaType !== undefined && typeof mediaType !== 'string') {
    throw formatError(ctx.input, `${where} in ${ctx.archive.label}: descriptor ${digest} has an invalid mediaType`)
  }
  const descriptor: Descriptor = { digest, size }
  if (mediaType !== undefined) descriptor.mediaType = mediaType
  const parsedPlatform = parsePlatform(platform, ctx, `${where} platform`)
  if (parsedPlatform != null) descriptor.platform = parsedPlatform
  if (isObject(annotations)) descriptor.annotations = stringRecord(annotations)
  return descriptor
}

/**
 * os/architecture/variant from a descriptor's platform or an image config at
 * `where`; undefined when os or architecture is absent or empty. A value that
 * is present must be a short token (GOOS/GOARCH style, e.g. `linux`, `arm64`,
 * `v8`): these strings reach logs, catalog.json and summaries.
 */
export function parsePlatform (value: unknown, ctx: LoadContext, where: string): Platform | undefined {
  if (!isObject(value)) return undefined
  const field = (key: 'os' | 'architecture' | 'variant'): string | undefined => {
    const item = value[key]
    if (item === undefined || item === null || item === '') return undefined
    if (typeof item !== 'string' || !PLATFORM_TOKEN_RE.test(item)) {
      const shown = typeof item === 'string' ? quote(item, 80) : typeof item
      throw formatError(ctx.input, `${where} in ${ctx.archive.label}: platform ${key} ${shown} is not a platform name (expected 1 to 64 of A-Z a-z 0-9 . _ + -, such as linux, arm64 or v8)`)
    }
    return item
  }
  const os = field('os')
  const architecture = field('architecture')
  const variant = field('variant')
  if (os == null || architecture == null) return undefined
  const platform: Platform = { os, architecture }
  if (variant != null) platform.variant = variant
  return platform
}

export function stringRecord (value: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!isObject(value)) return out
  for (const [key, item] of Object.entries(value)) if (typeof item === 'string') out[key] = item
  return out
}

/** Checks that a descriptor's blob is present with the right size; throws otherwise. */
export function requireBlob (ctx: LoadContext, descriptor: Descriptor, where: string, hint = ''): string {
  const path = blobPath(descriptor.digest)
  if (!ctx.archive.has(path)) {
    throw formatError(ctx.input, `${ctx.archive.label} is missing blob ${descriptor.digest} (${path}), referenced by ${where}${hint}`)
  }
  const size = ctx.archive.size(path)
  if (size !== descriptor.size) {
    throw mismatchError(ctx.input, `${path} in ${ctx.archive.label} is ${size} bytes, but ${where} says ${descriptor.size}`)
  }
  return path
}

/** A blob streamed from the archive; its bytes are verified by whoever streams them. */
export function archiveBlob (ctx: LoadContext, path: string, digest: string, size: number, mediaType: string): BlobRef {
  const { archive } = ctx
  return { digest, size, mediaType, open: () => archive.open(path), chunks: (options) => archive.chunks(path, options) }
}

/** Reads a small JSON file at `path`, optionally verifying it against `digest`. */
export async function readVerifiedJson (ctx: LoadContext, path: string, digest?: string): Promise<{ bytes: Uint8Array, json: unknown }> {
  const size = ctx.archive.has(path) ? ctx.archive.size(path) : 0
  ctx.jsonBytes = (ctx.jsonBytes ?? 0) + Math.min(size, DEFAULT_JSON_LIMIT)
  if (ctx.jsonBytes > IMAGE_LIMITS.jsonBytes) {
    throw formatError(ctx.input, `${ctx.archive.label}: its manifests, indexes and configs take more than ${IMAGE_LIMITS.jsonBytes} bytes of JSON (at '${path}')`)
  }
  const bytes = await readBytes(ctx.archive, path, DEFAULT_JSON_LIMIT, ctx.input)
  if (digest !== undefined) {
    const actual = sha256Digest(bytes)
    if (actual !== digest) {
      throw mismatchError(ctx.input, `${path} in ${ctx.archive.label} hashes to ${actual}, expected ${digest}`)
    }
  }
  return { bytes, json: parseJson(bytes, path, ctx.archive.label, ctx.input) }
}
