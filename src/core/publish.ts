import { mkdtemp } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import type { BlockSink, BlockSource, PutOptions } from './blocks/types.js'
import { BufferPool } from './buffer-pool.js'
import { BlockCache, dagPbOnly } from './blocks/cache.js'
import { FirstSource } from './blocks/multi.js'
import { MemoryBlockStore } from './blocks/memory.js'
import { CarFileWriter } from './car/writer.js'
import { checkDigest } from './digest.js'
import { BlobHasher } from './hash-worker.js'
import { InputError, TreeError } from './errors.js'
import { plainLine } from './escape.js'
import { registerTemporary, removeTemporary } from './interrupt.js'
import { openImageArchive, type ImageArchive } from './image/archive.js'
import { saveDockerImage, type CommandRunner } from './image/docker.js'
import { loadImage } from './image/load.js'
import { platformString, type NormalizedImage } from './image/model.js'
import { tagFolderFiles, type FolderFile } from './image/tag-folder.js'
import { silentLogger, type Logger, type OperationOptions } from './logger.js'
import { Progress, formatBytes } from './progress.js'
import { CATALOG_FILE, CATALOG_LIMITS, emptyCatalog, encodeCatalog, parseCatalog, updateCatalog, type Catalog, type CatalogTag } from './registry/catalog.js'
import { registryPaths } from './registry/layout.js'
import { parseReference, validateName, validateTag } from './registry/reference.js'
import { buildDirectory, readDirectory, type DirEntry } from './unixfs/directory.js'
import { importBytes, importFile, type DagNode } from './unixfs/file.js'
import { editTree, type TreeEdit } from './unixfs/edit.js'
import { DagBudget, PREVIOUS_ROOT_LIMITS, type ReadOptions } from './unixfs/limits.js'
import { readFileBytes, resolvePath, walkDag } from './unixfs/tree.js'

export type ImageInput =
  | { kind: 'docker', ref: string, run: CommandRunner }
  | { kind: 'file', path: string }

export type CarScope = 'new' | 'full'

export interface PublishOptions extends OperationOptions {
  image: ImageInput
  /** Repository name in the registry; defaults to the image reference's path. */
  name?: string
  tags: string[]
  description?: string
  /** Root of the registry to update; null starts a new registry. */
  previousRoot?: CID | null
  /** Where blocks of the previous root are read from. */
  sources?: BlockSource[]
  carPath: string
  carScope?: CarScope
  /** Extra places every new block is written to (e.g. the embedded store). */
  sinks?: BlockSink[]
  tempDir: string
  /** Bytes a compressed image tarball or layer may decompress to; default: 20 times its size, at least 1 GiB. */
  maxDecompressedSize?: number
  revision?: string
  now?: Date
}

export interface PublishedTag {
  tag: string
  cid: string
}

export interface PublishResult {
  rootCid: string
  previousRoot?: string
  name: string
  tags: PublishedTag[]
  /** CID of the first tag's folder. */
  imageCid: string
  digest: string
  platforms: string[]
  size: number
  description?: string
  sourceFormat: NormalizedImage['sourceFormat']
  car: { path: string, scope: CarScope, blocks: number, bytes: number }
  /** Blobs left out of a `new`-scope CAR because the previous root already had them. */
  reusedBlobs: number
}

/** Writes to every sink, and keeps dag-pb blocks so a full CAR can be walked. */
class PublishSink implements BlockSink {
  readonly dagPb = new MemoryBlockStore()
  constructor (private readonly sinks: BlockSink[]) {}
  async put (cid: CID, bytes: Uint8Array, options?: PutOptions): Promise<void> {
    if (cid.code === 0x70) await this.dagPb.put(cid, bytes)
    const onWritten = options?.onWritten
    let waiting = this.sinks.length
    // The bytes are free once every sink is done with them.
    const each = onWritten == null ? {} : { onWritten: () => { if (--waiting === 0) onWritten() } }
    await Promise.all(this.sinks.map(async (s) => { await s.put(cid, bytes, each) }))
  }
}

/** Computes CIDs without storing anything. */
const discard: BlockSink = {
  put: async (_cid, _bytes, options) => { options?.onWritten?.() }
}

/** 1 MiB read buffers, the UnixFS chunk size, shared by every blob import. */
const readBuffers = new BufferPool(1024 * 1024, 64)

function resolveName (options: PublishOptions, image: NormalizedImage): string {
  if (options.name != null && options.name !== '') return validateName(options.name, 'name')
  if (options.image.kind === 'docker') return validateName(parseReference(options.image.ref, 'image').path, 'image')
  const repoTag = image.repoTags.find((t) => t.includes(':') || t.includes('/'))
  if (repoTag != null) return validateName(parseReference(repoTag, 'image-file').path, 'image-file')
  throw new InputError('name', 'no repository name given and the image archive names none (expected a name such as "team/app")')
}

function resolveTags (options: PublishOptions): string[] {
  if (options.tags.length > 0) return options.tags.map((t) => validateTag(t, 'tags'))
  if (options.image.kind === 'docker') {
    const tag = parseReference(options.image.ref, 'image').tag
    if (tag != null) return [tag]
  }
  return ['latest']
}

/** How many of the repository's latest tags are searched for blobs a new publish can reuse. */
const REUSE_TAGS = 8

/**
 * Finds blobs the previous root already holds for this repository, by digest
 * hex, in its REUSE_TAGS most recently published tags (by catalog.json), so
 * the cost stays flat however many tags the repository has.
 */
async function previousBlobs (root: CID, name: string, catalog: Catalog, source: BlockSource, options: ReadOptions): Promise<Map<string, DagNode>> {
  const known = new Map<string, DagNode>()
  const tagsPath = registryPaths.tags(name)
  const tagsDir = await inPreviousRoot(root, tagsPath, async () => await resolvePath(root, tagsPath, source, options))
  if (tagsDir == null) return known
  const recent = (catalog.images.find((i) => i.name === name)?.tags ?? [])
    .slice()
    .sort((a, b) => a.published < b.published ? 1 : a.published > b.published ? -1 : 0)
    .slice(0, REUSE_TAGS)
  const read = new Set<string>()
  for (const tag of recent) {
    const path = [...tagsPath, tag.tag, 'blobs', 'sha256']
    await inPreviousRoot(root, path, async () => {
      const blobs = await resolvePath(tagsDir.cid, path.slice(tagsPath.length), source, options)
      // Tags of one image share their blob folder: read each folder once.
      if (blobs == null || read.has(blobs.cid.toString())) return
      read.add(blobs.cid.toString())
      for (const entry of await readDirectory(blobs.cid, source, options)) known.set(entry.name, { cid: entry.cid, size: entry.size })
    })
  }
  return known
}

/** Runs `work`, naming the previous root and the path in any TreeError it throws. */
async function inPreviousRoot<T> (root: CID, path: string[], work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof TreeError) throw new TreeError(`previous root ${root}, /${path.join('/')}: ${err.message}`, { cause: err })
    throw err
  }
}

async function * once (bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

/**
 * Imports one blob as a UnixFS file and checks it against its digest on the
 * way: a worker thread hashes each leaf and the whole blob in one pass.
 */
async function importBlob (file: FolderFile, sink: BlockSink, label: string, progress: Progress, signal?: AbortSignal): Promise<DagNode> {
  // Chunks read from the archive belong to nobody else: they move to the worker
  // and back, and return to the pool once written. file.bytes stays put.
  const pooled = file.bytes == null
  const source = pooled ? fileContent(file, signal) : once(file.bytes as Uint8Array)
  const hasher = new BlobHasher(pooled, signal)
  try {
    let size = 0
    const content = async function * (): AsyncGenerator<Uint8Array> {
      for await (const chunk of source) {
        size += chunk.length
        progress.add(chunk.length)
        yield chunk
      }
    }
    const node = await importFile(content(), sink, {
      signal,
      hashLeaf: hasher.hashChunk,
      ...(pooled ? { releaseLeaf: (bytes: Uint8Array) => { readBuffers.give(bytes) } } : {})
    })
    if (file.digest != null) checkDigest(await hasher.digest(), size, { digest: file.digest, size: file.size, label })
    return node
  } finally {
    hasher.close()
    // On failure the importer may stop pulling without ending its source: close the file now.
    await source.return(undefined)
  }
}

function fileContent (file: FolderFile, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  if (file.chunks == null) throw new Error(`no content for ${file.path}`)
  return file.chunks({ pool: readBuffers, signal })
}

/**
 * Publishes one image under one or more tags into a registry tree: reads and
 * verifies the image, builds the UnixFS DAG locally, patches it into the
 * previous root and writes the new blocks as a CAR. Nothing is written at
 * `carPath` unless everything succeeds.
 */
export async function publish (options: PublishOptions): Promise<PublishResult> {
  const logger: Logger = options.logger ?? silentLogger
  const { signal } = options
  const scope = options.carScope ?? 'new'
  const tags = resolveTags(options)
  if (options.previousRoot != null && (options.sources ?? []).length === 0) {
    throw new InputError('previous-root', 'a previous root was given but no block source to read it from (set gateways, a CAR or a store)')
  }
  const work = await mkdtemp(join(options.tempDir, 'ipcr-publish-'))
  registerTemporary(work)
  let archive: ImageArchive | undefined
  let car: CarFileWriter | undefined
  try {
    const input = options.image.kind === 'docker' ? 'image' : 'image-file'
    const archivePath = options.image.kind === 'docker'
      ? await logger.group(`Export ${options.image.ref} from Docker`, async () => {
        const img = options.image as { ref: string, run: CommandRunner }
        return await saveDockerImage(img.ref, { run: img.run, tempDir: work, input, signal })
      })
      : options.image.path
    const { maxDecompressedSize } = options
    archive = await openImageArchive(archivePath, { input, tempDir: work, signal, maxDecompressedSize })
    const image = await loadImage(archive, { input, signal, maxDecompressedSize })
    const name = resolveName(options, image)
    const description = plainLine(options.description ?? image.labels['org.opencontainers.image.description'])
    const platforms = image.images.map((i) => platformString(i.platform))
    logger.info(`Image ${image.root.digest} (${image.sourceFormat}; ${platforms.join(', ')}) → ${name}:${tags.join(', ')}`)

    const previousRoot = options.previousRoot ?? null
    // What is read of the previous root (catalog, recent blob folders, edited directories) is
    // bounded by one budget; the full-scope copy below walks it with its own bound.
    const budget = new DagBudget(PREVIOUS_ROOT_LIMITS)
    // One cache in front of every source for the whole run: the catalog, the blob folders,
    // the edited directories and a full-scope copy each fetch a block at most once.
    const allSources = previousRoot != null ? new BlockCache(new FirstSource(options.sources ?? []), { keep: dagPbOnly }) : null
    const source = allSources != null ? budget.source(allSources) : null
    const { previousCatalog, known } = previousRoot != null && source != null
      ? await logger.group(`Read the previous registry root ${previousRoot}`, async () => {
        const previousCatalog = await readPreviousCatalog(previousRoot, source, { signal, budget })
        return { previousCatalog, known: await previousBlobs(previousRoot, name, previousCatalog, source, { signal, budget }) }
      })
      : { previousCatalog: emptyCatalog(), known: new Map<string, DagNode>() }

    car = await CarFileWriter.create(options.carPath)
    const sink = new PublishSink([car, ...(options.sinks ?? [])])

    const files = tagFolderFiles(image, { name, tag: tags[0] as string })
    const blobFiles = files.filter((f) => f.path.startsWith('blobs/sha256/'))
    const total = blobFiles.reduce((n, f) => n + f.size, 0)
    let reused = 0
    const blobEntries = await logger.group(`Import ${blobFiles.length} blobs (${formatBytes(total)})`, async () => {
      const progress = new Progress(logger, 'imported', total)
      const entries: DirEntry[] = []
      for (const file of blobFiles) {
        const hex = file.path.slice('blobs/sha256/'.length)
        const label = `${input} blob ${file.digest ?? hex}`
        const previous = scope === 'new' ? known.get(hex) : undefined
        let node = await importBlob(file, previous != null ? discard : sink, label, progress, signal)
        if (previous != null) {
          if (previous.cid.equals(node.cid)) {
            reused++
          } else {
            // The previous tree was built differently: store our own blocks.
            node = await importBlob(file, sink, label, progress, signal)
          }
        }
        entries.push({ name: hex, cid: node.cid, size: node.size })
      }
      progress.finish()
      return entries
    })

    const sha256Dir = await buildDirectory(blobEntries, sink, { signal })
    const blobsDir = await buildDirectory([{ name: 'sha256', ...sha256Dir }], sink, { signal })
    const edits: TreeEdit[] = []
    const published: PublishedTag[] = []
    const now = (options.now ?? new Date()).toISOString()
    const catalogTags: CatalogTag[] = []
    for (const tag of tags) {
      const entries: DirEntry[] = [{ name: 'blobs', ...blobsDir }]
      for (const file of tagFolderFiles(image, { name, tag }).filter((f) => !f.path.startsWith('blobs/'))) {
        if (file.bytes == null) throw new Error(`${file.path} has no bytes`)
        const node = await importBytes(file.bytes, sink, { signal })
        entries.push({ name: file.path, cid: node.cid, size: node.size })
      }
      const folder = await buildDirectory(entries, sink, { signal })
      edits.push({ path: registryPaths.tag(name, tag), node: folder })
      published.push({ tag, cid: folder.cid.toString() })
      catalogTags.push({
        tag,
        digest: image.root.digest,
        platforms,
        size: total,
        cid: folder.cid.toString(),
        published: now,
        ...(options.revision != null && options.revision !== '' ? { revision: options.revision } : {})
      })
    }
    if (description != null) {
      const readme = await importBytes(new TextEncoder().encode(`${description}\n`), sink, { signal })
      edits.push({ path: registryPaths.readme(name), node: readme })
    }
    const catalog = updateCatalog(previousCatalog, { name, description, tags: catalogTags, updated: now })
    const catalogNode = await importBytes(encodeCatalog(catalog), sink, { signal })
    edits.push({ path: registryPaths.catalog(), node: catalogNode })

    const root = previousRoot != null
      ? await inPreviousRoot(previousRoot, [], async () => await editTree(previousRoot, edits, source, sink, { signal, budget }))
      : await editTree(null, edits, source, sink, { signal })
    if (scope === 'full' && allSources != null) {
      await logger.group('Copy the unchanged part of the registry into the CAR', async () => {
        const full = new FirstSource([sink.dagPb, allSources])
        for await (const block of walkDag(root.cid, full, { signal, skip: (cid: CID) => cid.code === 0x55 && car?.has(cid) === true })) {
          await car?.put(block.cid, block.bytes)
        }
      })
    }
    const written = await car.close(root.cid)
    car = undefined
    return {
      rootCid: root.cid.toString(),
      ...(previousRoot != null ? { previousRoot: previousRoot.toString() } : {}),
      name,
      tags: published,
      imageCid: (published[0] as PublishedTag).cid,
      digest: image.root.digest,
      platforms,
      size: total,
      ...(description != null ? { description } : {}),
      sourceFormat: image.sourceFormat,
      car: { path: written.path, scope, blocks: written.blocks, bytes: written.bytes },
      reusedBlobs: reused
    }
  } finally {
    // Each step runs even when the one before it fails.
    try {
      if (car != null) await car.abort()
    } finally {
      try {
        if (archive != null) await archive.close()
      } finally {
        await removeTemporary(work)
      }
    }
  }
}

async function readPreviousCatalog (root: CID, source: BlockSource, options: ReadOptions): Promise<Catalog> {
  const path = registryPaths.catalog()
  const bytes = await inPreviousRoot(root, path, async () => {
    const node = await resolvePath(root, path, source, options)
    return node == null ? undefined : await readFileBytes(node.cid, source, { ...options, maxBytes: CATALOG_LIMITS.bytes })
  })
  return bytes == null ? emptyCatalog() : parseCatalog(bytes, `previous root ${root.toString()}`)
}

export function parseCid (value: string, input: string): CID {
  try {
    return CID.parse(value.trim().replace(/^\/ipfs\//, ''))
  } catch {
    throw new InputError(input, `'${value}' is not a CID (expected a CIDv0 Qm… or CIDv1 such as bafy…)`)
  }
}

export { CATALOG_FILE }
