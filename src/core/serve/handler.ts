import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CID } from 'multiformats/cid'
import * as dagPb from '@ipld/dag-pb'
import { BlockCache, treeBlocks, type BlockCacheOptions } from '../blocks/cache.js'
import type { GatewayFileSource } from '../blocks/gateway-file.js'
import type { BlockSource } from '../blocks/types.js'
import { BlockNotFoundError, DigestMismatchError, TreeError } from '../errors.js'
import { MEDIA_TYPES } from '../image/model.js'
import { silentLogger, type Logger } from '../logger.js'
import { isDigest, isTag } from '../registry/reference.js'
import { blobStream, VerifiedFiles } from './blob-stream.js'
import type { BlobFiles, BlobFileWriter } from './blob-files.js'
import { repositoryNames } from './catalog.js'
import { errorBody, notFound, RegistryError } from './errors.js'
import { readManifest, type Manifest } from './manifest.js'
import { paginate } from './paginate.js'
import { parseRange } from './range.js'
import { RepositoryReader } from './repository.js'
import type { RootResolver } from '../registry/resolve.js'
import { RootCache } from './roots.js'
import { registryText, type RegistryRef } from '../registry/location.js'
import { parseRoute, type Route } from './route.js'
import { isSha256Digest } from '../image/blob.js'

export interface RegistryHandlerOptions {
  /** Where blocks come from; every source verifies blocks against their CIDs. A BlockCache is put in front. */
  source: BlockSource
  /** The registry `/v2/<name>/…` and `/v2/_catalog` read; without it only the ipfs/, ipns/ and domain forms work. */
  defaultRegistry?: Exclude<RegistryRef, { kind: 'default' }>
  /** Looks up IPNS names and DNSLink domains; without it those forms answer NAME_UNKNOWN. */
  resolveRoot?: RootResolver
  logger?: Logger
  /**
   * Gateways asked for a blob's file whole (one response, checked leaf by leaf) when it is read
   * whole to check its digest, the first that still serves files; `source` gives the rest.
   */
  files?: GatewayFileSource[]
  /** The cache in front of `source`; default: treeBlocks (folders, file nodes, the small JSON files) up to BLOCK_CACHE_BYTES. */
  cache?: BlockCacheOptions
  /** Keeps whole blobs as files once served (BlobFiles), and serves them from there after. */
  blobFiles?: BlobFiles
  /** Blocks of a blob read ahead while streaming; default READ_AHEAD (16). */
  readAhead?: number
  /** The clock that times resolved names out (tests move it); default Date.now. */
  now?: () => number
}

export type RegistryHandler = (request: IncomingMessage, response: ServerResponse) => void

const READ_METHODS = ['GET', 'HEAD']
const EMPTY_INDEX = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] })

/**
 * A read-only OCI Distribution API over registry trees: `GET /v2/`, manifests (by tag and
 * digest, also under /blobs/), blobs (with Range), tags/list and _catalog (with n/last),
 * referrers (always an empty index). Every write method answers 405 UNSUPPORTED. Manifests are
 * checked against their digest before they are sent; blobs stream with their hash checked as
 * they go (blobStream), and a blob that does not match its digest is cut off before its last
 * byte and logged.
 */
export function createRegistryHandler (options: RegistryHandlerOptions): RegistryHandler {
  const logger = options.logger ?? silentLogger
  const source = new BlockCache(options.source, { keep: treeBlocks, ...options.cache })
  const reader = new RepositoryReader(source)
  const roots = new RootCache(options.resolveRoot, options.now)
  const verified = new VerifiedFiles()

  async function rootOf (registry: RegistryRef): Promise<CID> {
    const actual = registry.kind === 'default' ? options.defaultRegistry : registry
    if (actual == null) throw new RegistryError(404, 'NAME_UNKNOWN', 'this server has no default registry: name one as ipfs/<cid>/<name>, ipns/<name>/<name> or <domain>/<name>')
    if (actual.kind === 'ipfs') return actual.root
    return await roots.get(actual)
  }

  async function manifest (root: CID, name: string, reference: string, signal: AbortSignal): Promise<{ manifest: Manifest, digest: string }> {
    if (reference.includes(':')) {
      const digest = checkDigest(reference)
      if (!isSha256Digest(digest)) throw notFound.manifest(reference)
      let file
      try {
        file = await reader.blob(root, name, digest, { signal })
      } catch (err) {
        if (err instanceof RegistryError && err.code === 'BLOB_UNKNOWN') throw notFound.manifest(reference)
        throw err
      }
      const found = await readManifest(file, digest, source, { signal })
      if (found == null) throw notFound.manifest(reference)
      return { manifest: found, digest }
    }
    if (!isTag(reference)) throw notFound.manifest(reference)
    const folder = await reader.tagFolder(root, name, reference, { signal })
    if (folder == null) throw notFound.manifest(reference)
    const descriptor = await reader.descriptor(folder, { signal })
    const file = await reader.blobIn(folder, descriptor.digest, { signal })
    if (file == null) throw new TreeError(`tag folder ${folder} has no blob for its manifest ${descriptor.digest}`)
    const found = await readManifest(file, descriptor.digest, source, { signal, hint: descriptor.mediaType })
    if (found == null) throw new TreeError(`the blob ${descriptor.digest} of tag folder ${folder} is not a manifest`)
    return { manifest: found, digest: descriptor.digest }
  }

  async function serve (route: Route, request: IncomingMessage, response: ServerResponse, url: URL, signal: AbortSignal): Promise<void> {
    const head = request.method === 'HEAD'
    switch (route.endpoint) {
      case 'base':
        sendJson(response, 200, '{}', 'application/json', head)
        return
      case 'upload':
        throw unsupported()
      case 'catalog': {
        const names = await repositoryNames(await rootOf(route.registry), source, { signal })
        const page = paginate(names, url)
        if (page.next != null) response.setHeader('Link', `<${url.pathname}?${page.next}>; rel="next"`)
        sendJson(response, 200, JSON.stringify({ repositories: page.items }), 'application/json', head)
        return
      }
      case 'tags': {
        const tags = await reader.tags(await rootOf(route.registry), route.name, { signal })
        const page = paginate(tags, url)
        if (page.next != null) response.setHeader('Link', `<${url.pathname}?${page.next}>; rel="next"`)
        sendJson(response, 200, JSON.stringify({ name: fullName(route.registry, route.name), tags: page.items }), 'application/json', head)
        return
      }
      case 'referrers': {
        checkDigest(route.reference)
        await reader.tagsFolder(await rootOf(route.registry), route.name, { signal })
        sendJson(response, 200, EMPTY_INDEX, MEDIA_TYPES.ociIndex, head)
        return
      }
      case 'manifest': {
        const { manifest: found, digest } = await manifest(await rootOf(route.registry), route.name, route.reference, signal)
        response.writeHead(200, {
          'Content-Type': found.mediaType,
          'Content-Length': String(found.bytes.byteLength),
          'Docker-Content-Digest': digest
        })
        response.end(head ? undefined : found.bytes)
        return
      }
      case 'blob': {
        const digest = checkDigest(route.reference)
        if (!isSha256Digest(digest)) throw notFound.blob(digest)
        const found = await reader.blob(await rootOf(route.registry), route.name, digest, { signal })
        const headers: Record<string, string> = {
          'Content-Type': 'application/octet-stream',
          'Docker-Content-Digest': digest,
          'Accept-Ranges': 'bytes'
        }
        if (head) {
          response.writeHead(200, { ...headers, 'Content-Length': String(found.size) })
          response.end()
          return
        }
        const kept = await options.blobFiles?.find(digest, found.size)
        const range = parseRange(header(request, 'range'), found.size)
        if (range === 'unsatisfiable') {
          response.writeHead(416, { ...headers, 'Content-Range': `bytes */${found.size}`, 'Content-Length': '0' })
          response.end()
          return
        }
        const span = range ?? { start: 0, end: found.size }
        if (range != null) headers['Content-Range'] = `bytes ${span.start}-${span.end - 1}/${found.size}`
        // Headers go with the first byte: content refused before it gets an error answer instead.
        const start = (): void => {
          if (!response.headersSent) response.writeHead(range != null ? 206 : 200, { ...headers, 'Content-Length': String(span.end - span.start) })
        }
        const out = async (chunk: Uint8Array): Promise<void> => {
          start()
          if (!response.write(chunk)) await once(response, 'drain', { signal })
        }
        // The chunk that completes the blob goes out once the kept copy is in place: a client that
        // has the whole blob finds it kept.
        const send = async (chunks: AsyncIterable<Uint8Array>, copy?: BlobFileWriter): Promise<void> => {
          let position = span.start
          for await (const chunk of chunks) {
            position += chunk.byteLength
            await copy?.write(chunk)
            if (position === span.end) await copy?.commit()
            await out(chunk)
          }
          start()
        }
        if (kept != null && options.blobFiles != null) {
          start()
          await options.blobFiles.copy(kept, span, response, signal)
          response.end()
          return
        }
        // A whole blob served from blocks is kept as a file on its way (only once it matched its digest).
        const file = await reader.withBlock(found, { signal })
        const copy = range == null ? await options.blobFiles?.writer(digest) : undefined
        try {
          const gateway = file.cid.code === dagPb.code ? options.files?.find((files) => files.unusable == null) : undefined
          const read = gateway != null ? gateway.content.bind(gateway) : undefined
          await send(blobStream(file, digest, span, source, { signal, verified, readAhead: options.readAhead, read }), copy)
        } catch (err) {
          await copy?.abort()
          throw err
        }
        response.end()
      }
    }
  }

  return (request, response) => {
    const controller = new AbortController()
    response.on('close', () => { if (!response.writableFinished) controller.abort() })
    response.setHeader('Docker-Distribution-Api-Version', 'registry/2.0')
    const url = new URL(request.url ?? '/', 'http://registry.invalid')
    response.on('finish', () => { logger.debug(`registry: ${request.method ?? ''} ${url.pathname} ${response.statusCode}`) })
    void (async () => {
      try {
        if (!READ_METHODS.includes(request.method ?? '')) throw unsupported()
        const route = parseRoute(url.pathname)
        if (route == null) throw new RegistryError(404, 'UNSUPPORTED', 'no such endpoint in this registry')
        await serve(route, request, response, url, controller.signal)
      } catch (err) {
        answerError(err, request, response, url, logger, controller.signal)
      }
    })()
  }
}

function unsupported (): RegistryError {
  return new RegistryError(405, 'UNSUPPORTED', 'this registry is read-only: the operation is unsupported')
}

/** `reference` when it is a digest; DIGEST_INVALID (400) when it is not one (any algorithm; only sha256 can be found). */
function checkDigest (reference: string): string {
  const [algorithm] = reference.split(':')
  if (!isDigest(reference) || (algorithm === 'sha256' && !isSha256Digest(reference))) {
    throw new RegistryError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', { digest: reference })
  }
  return reference
}

function header (request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function fullName (registry: RegistryRef, name: string): string {
  const prefix = registryText(registry)
  return prefix === '' ? name : `${prefix}/${name}`
}

function sendJson (response: ServerResponse, status: number, body: string, contentType: string, head: boolean): void {
  const bytes = Buffer.from(body)
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(bytes.byteLength) })
  response.end(head ? undefined : bytes)
}

/** Sends `err` as a spec error body, or, once a body has started, cuts the connection (the client sees a short body). */
function answerError (err: unknown, request: IncomingMessage, response: ServerResponse, url: URL, logger: Logger, signal: AbortSignal): void {
  if (signal.aborted) {
    response.destroy()
    return
  }
  let error: RegistryError
  if (err instanceof RegistryError) {
    error = err
  } else {
    const message = err instanceof Error ? err.message : String(err)
    const where = `${request.method ?? ''} ${url.pathname}`
    if (err instanceof DigestMismatchError) logger.warn(`registry: refused ${where}: ${message}`)
    else logger.warn(`registry: ${where} failed: ${message}`)
    error = err instanceof BlockNotFoundError
      ? new RegistryError(503, 'UNAVAILABLE', 'a block of the registry tree could not be fetched from any source')
      : new RegistryError(500, 'UNKNOWN', err instanceof DigestMismatchError ? 'stored content does not match its digest' : err instanceof TreeError ? 'the registry tree is malformed' : 'internal error')
  }
  if (response.headersSent) {
    response.destroy()
    return
  }
  const body = Buffer.from(errorBody(error))
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Content-Length': String(body.byteLength) }
  if (error.status === 405) headers.Allow = 'GET, HEAD'
  // A body sent with the request is not read: the connection cannot carry another request.
  if (request.headers['content-length'] != null || request.headers['transfer-encoding'] != null) headers.Connection = 'close'
  response.writeHead(error.status, headers)
  response.end(request.method === 'HEAD' ? undefined : body)
}
