import { mkdtemp, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import type { BlockSink, BlockSource, PutOptions } from './blocks/types.js'
import { BufferPool } from './buffer-pool.js'
import { BlockCache, dagPbOnly } from './blocks/cache.js'
import { CountingSink } from './blocks/counting.js'
import { FirstSource } from './blocks/multi.js'
import { MemoryBlockStore } from './blocks/memory.js'
import { CarFileWriter } from './car/writer.js'
import { checkDigest } from './digest.js'
import { BlobHasher } from './hash-worker.js'
import { InputError, option, text } from './errors.js'
import { plainLine, quote } from './escape.js'
import { registerTemporary, removeTemporary } from './interrupt.js'
import { openImageArchive, type ImageArchive } from './image/archive.js'
import { saveDockerImage, type CommandRunner } from './image/docker.js'
import { loadImage } from './image/load.js'
import { platformString, type NormalizedImage } from './image/model.js'
import { tagFolderFiles, type FolderFile } from './image/tag-folder.js'
import { silentLogger, type Logger, type OperationOptions } from './logger.js'
import { Progress, formatBytes } from './progress.js'
import { CATALOG_FILE, emptyCatalog, type Catalog, type CatalogTag } from './registry/catalog.js'
import { registryPaths } from './registry/layout.js'
import { inPreviousRoot, patchRoot, readPreviousCatalog, type PatchFolder, type RegistryPatch } from './registry/patch.js'
import { isTag, parseReference, validateName, validateTag } from './registry/reference.js'
import { isBareName, refMatches } from './image/select.js'
import { buildDirectory, readDirectory, type DirEntry } from './unixfs/directory.js'
import { importBytes, importFile, type DagNode } from './unixfs/file.js'
import { DagBudget, PREVIOUS_ROOT_LIMITS, type ReadOptions } from './unixfs/limits.js'
import { resolvePath, walkDag } from './unixfs/tree.js'

export type ImageInput =
  | { kind: 'docker', ref: string, run: CommandRunner, /** docker (default) or podman */ command?: string }
  /**
   * An archive or layout. `ref` selects one image of several (a RepoTag, an OCI ref name or a
   * digest); `path` may also name it skopeo's way, `DIR:REF`, when DIR exists and `path` does not.
   */
  | { kind: 'file', path: string, ref?: string }

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
  /**
   * Where the CAR of the new blocks is written (nothing is there unless publish
   * succeeds). Absent: no CAR is written (runPipeline writes a temporary one
   * when a destination needs it).
   */
  carPath?: string
  carScope?: CarScope
  /** Extra places every new block is written to (e.g. the embedded store). */
  sinks?: BlockSink[]
  tempDir: string
  /** Bytes a compressed image tarball or layer may decompress to; default: 20 times its size, at least 1 GiB. */
  maxDecompressedSize?: number
  revision?: string
  /**
   * The time catalog.json records: the shells pass SOURCE_DATE_EPOCH here (see sourceDateEpoch).
   * Default: the image's creation time (config `created`) when it is valid and not in the future,
   * else the clock. catalog.json's `updated` never goes back before the previous root's.
   */
  now?: Date
  /** Milliseconds between progress lines; default PROGRESS_INTERVAL_MS (1 s). */
  progressIntervalMs?: number
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
  /** Config digest of the primary platform: the image ID `docker images` shows. */
  imageId: string
  platforms: string[]
  size: number
  description?: string
  sourceFormat: NormalizedImage['sourceFormat']
  /**
   * The new blocks and the CAR that holds them. `path` is absent when no CAR was
   * kept: none was asked for (then `bytes` counts the blocks' bytes), or runPipeline
   * wrote a temporary one for a destination and removed it.
   */
  car: { path?: string, scope: CarScope, blocks: number, bytes: number }
  /** Blobs left out of a `new`-scope CAR because the previous root already had them. */
  reusedBlobs: number
  /** The source revision recorded in catalog.json, when one was given. */
  revision?: string
}

/** A result whose CAR was kept at carPath. */
export interface KeptCar {
  car: PublishResult['car'] & { path: string }
}

/** Writes to every sink; a block's bytes are free (onWritten) once every sink is done with them. */
export function fanOut (sinks: BlockSink[]): BlockSink {
  return {
    put: async (cid, bytes, options) => {
      const onWritten = options?.onWritten
      if (sinks.length === 0) {
        onWritten?.()
        return
      }
      let waiting = sinks.length
      const each = onWritten == null ? {} : { onWritten: () => { if (--waiting === 0) onWritten() } }
      await Promise.all(sinks.map(async (s) => { await s.put(cid, bytes, each) }))
    }
  }
}

/** Writes to every sink, counts distinct blocks, and keeps dag-pb blocks so a full CAR can be walked. */
class PublishSink extends CountingSink {
  readonly dagPb = new MemoryBlockStore()
  constructor (sinks: BlockSink[]) {
    super(fanOut(sinks))
  }

  override async put (cid: CID, bytes: Uint8Array, options?: PutOptions): Promise<void> {
    if (cid.code === 0x70) await this.dagPb.put(cid, bytes)
    await super.put(cid, bytes, options)
  }
}

/** Computes CIDs without storing anything. */
const discard: BlockSink = {
  put: async (_cid, _bytes, options) => { options?.onWritten?.() }
}

/** 1 MiB read buffers, the UnixFS chunk size, shared by every blob import. */
const readBuffers = new BufferPool(1024 * 1024, 64)

/**
 * True when a bare ref (`1.0`, `tool`) chose the image by an OCI ref name, a tag: the archive
 * names the image, and no name of it is a repository the ref could mean (`app` for `app:latest`).
 */
function refIsTag (ref: string, image: NormalizedImage): boolean {
  return isBareName(ref) && isTag(ref) && image.repoTags.length > 0 &&
    !image.repoTags.some((name) => !isBareName(name) && refMatches(ref, name))
}

function resolveName (options: PublishOptions, image: NormalizedImage): string {
  if (options.name != null && options.name !== '') return validateName(options.name, 'name')
  const ref = options.image.ref
  if (ref != null && !/^sha256:/.test(ref) && !refIsTag(ref, image)) return validateName(parseReference(ref, 'image').path, 'image')
  const repoTag = image.repoTags.find((t) => !isBareName(t))
  if (repoTag != null) return validateName(parseReference(repoTag, 'image-file').path, 'image-file')
  throw new InputError('name', 'no repository name given and the image archive names none (expected a name such as "team/app")')
}

/**
 * The tags to publish: the `tags` option; else the tag of the reference the image was chosen by;
 * else the archive's own tag when it names exactly one; else `latest`.
 */
function resolveTags (options: PublishOptions, image: NormalizedImage): string[] {
  if (options.tags.length > 0) return options.tags.map((t) => validateTag(t, 'tags'))
  const ref = options.image.ref
  if (ref != null && !/^sha256:/.test(ref)) {
    if (refIsTag(ref, image)) return [ref]
    const tag = parseReference(ref, 'image').tag
    if (tag != null) return [tag]
  }
  if (image.repoTags.length === 1) {
    const only = image.repoTags[0] as string
    const tag = isBareName(only) ? (isTag(only) ? only : undefined) : tagOf(only)
    if (tag != null) return [tag]
  }
  return ['latest']
}

function tagOf (reference: string): string | undefined {
  try {
    return parseReference(reference, 'image-file').tag
  } catch {
    return undefined
  }
}

/**
 * Splits skopeo's `DIR:REF` form (`layout:1.0`) when `path` does not exist but
 * the part before the first ':' does; a ref given both ways must agree.
 */
async function resolveImageFile (input: { path: string, ref?: string }): Promise<{ path: string, ref?: string }> {
  const exists = async (p: string): Promise<boolean> => await stat(p).then(() => true, () => false)
  const colon = input.path.indexOf(':')
  if (colon <= 0 || await exists(input.path) || !await exists(input.path.slice(0, colon))) {
    return { path: input.path, ...(input.ref != null && input.ref !== '' ? { ref: input.ref } : {}) }
  }
  const path = input.path.slice(0, colon)
  const ref = input.path.slice(colon + 1)
  if (input.ref != null && input.ref !== '' && input.ref !== ref) {
    throw new InputError('image', `${quote(input.ref)} and the reference in image-file ${quote(input.path)} name different images; give one`)
  }
  return { path, ref }
}

/** The time recorded for this publish (see PublishOptions.now), as an ISO string. */
function publishTime (options: PublishOptions, image: NormalizedImage): string {
  if (options.now != null) return options.now.toISOString()
  const clock = Date.now()
  const created: unknown = image.primary.configJson?.created
  const time = typeof created === 'string' ? Date.parse(created) : NaN
  return new Date(Number.isFinite(time) && time > 0 && time <= clock ? time : clock).toISOString()
}

/** SOURCE_DATE_EPOCH (seconds since 1970, as reproducible builds set it) as a Date; undefined when unset or empty. */
export function sourceDateEpoch (value: string | undefined, input = 'SOURCE_DATE_EPOCH'): Date | undefined {
  if (value == null || value.trim() === '') return undefined
  const seconds = Number(value.trim())
  if (!/^\d{1,12}$/.test(value.trim()) || !Number.isSafeInteger(seconds)) {
    throw new InputError(input, `${quote(value)} is not a time in seconds since 1970-01-01 (expected digits only, e.g. the output of git log -1 --format=%ct)`)
  }
  return new Date(seconds * 1000)
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
export async function publish (options: PublishOptions & { carPath: string }): Promise<PublishResult & KeptCar>
export async function publish (options: PublishOptions): Promise<PublishResult>
export async function publish (options: PublishOptions): Promise<PublishResult> {
  return (await publishWithPatch(options)).result
}

/**
 * publish(), and the change it made to the tree as a value (for runPipeline): applyPatch puts the
 * same tags onto another root, hasTags checks a root holds them.
 */
export async function publishWithPatch (options: PublishOptions): Promise<{ result: PublishResult, patch: RegistryPatch }> {
  const logger: Logger = options.logger ?? silentLogger
  const { signal } = options
  const scope = options.carScope ?? 'new'
  for (const tag of options.tags) validateTag(tag, 'tags')
  if (options.previousRoot != null && (options.sources ?? []).length === 0) {
    throw new InputError('previous-root', text`a previous root was given but no block source to read it from (set ${option('gateways')}, ${option('previous-car')} or ${option('kubo-rpc-url')})`)
  }
  const work = await mkdtemp(join(options.tempDir, 'ipcr-publish-'))
  registerTemporary(work)
  let archive: ImageArchive | undefined
  let car: CarFileWriter | undefined
  try {
    const input = options.image.kind === 'docker' ? 'image' : 'image-file'
    const archivePath = options.image.kind === 'docker'
      ? await logger.group(`Export ${options.image.ref} from Docker`, async () => {
        const img = options.image as { ref: string, run: CommandRunner, command?: string }
        return await saveDockerImage(img.ref, { run: img.run, command: img.command, tempDir: work, input, signal, logger, progressIntervalMs: options.progressIntervalMs })
      })
      : undefined
    const file = options.image.kind === 'file' ? await resolveImageFile(options.image) : undefined
    const { maxDecompressedSize } = options
    archive = await openImageArchive(archivePath ?? (file?.path as string), { input, tempDir: work, signal, maxDecompressedSize })
    const image = await loadImage(archive, { input, signal, maxDecompressedSize, ref: file?.ref, refInput: 'image' })
    const chosen: PublishOptions = file != null ? { ...options, image: { kind: 'file', ...file } } : options
    const name = resolveName(chosen, image)
    const tags = resolveTags(chosen, image)
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

    if (options.carPath != null) car = await CarFileWriter.create(options.carPath)
    const sink = new PublishSink([...(car != null ? [car] : []), ...(options.sinks ?? [])])

    const files = tagFolderFiles(image, { name, tag: tags[0] as string })
    const blobFiles = files.filter((f) => f.path.startsWith('blobs/sha256/'))
    const total = blobFiles.reduce((n, f) => n + f.size, 0)
    let reused = 0
    const blobEntries = await logger.group(`Import ${blobFiles.length} blobs (${formatBytes(total)})`, async () => {
      const progress = new Progress(logger, 'imported', total, options.progressIntervalMs)
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
    const folders: PatchFolder[] = []
    const published: PublishedTag[] = []
    const now = publishTime(options, image)
    const catalogTags: CatalogTag[] = []
    for (const tag of tags) {
      const entries: DirEntry[] = [{ name: 'blobs', ...blobsDir }]
      for (const file of tagFolderFiles(image, { name, tag }).filter((f) => !f.path.startsWith('blobs/'))) {
        if (file.bytes == null) throw new Error(`${file.path} has no bytes`)
        const node = await importBytes(file.bytes, sink, { signal })
        entries.push({ name: file.path, cid: node.cid, size: node.size })
      }
      const folder = await buildDirectory(entries, sink, { signal })
      folders.push({ tag, path: registryPaths.tag(name, tag), node: { cid: folder.cid, size: folder.size } })
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
    const readme = description != null ? await importBytes(new TextEncoder().encode(`${description}\n`), sink, { signal }) : undefined
    const patch: RegistryPatch = {
      name,
      folders,
      ...(readme != null ? { readme: { cid: readme.cid, size: readme.size } } : {}),
      catalog: { tags: catalogTags, ...(description != null ? { description } : {}), time: now }
    }
    // catalog.json's last change never goes back in time, whatever the image's creation time.
    const root = await patchRoot(patch, previousRoot, previousCatalog, source, sink, { signal, budget })
    if (scope === 'full' && allSources != null && car != null) {
      await logger.group('Copy the unchanged part of the registry into the CAR', async () => {
        const full = new FirstSource([sink.dagPb, allSources])
        for await (const block of walkDag(root.cid, full, { signal, skip: (cid: CID) => cid.code === 0x55 && car?.has(cid) === true })) {
          await car?.put(block.cid, block.bytes)
        }
      })
    }
    const written = car != null ? await car.close(root.cid) : undefined
    car = undefined
    if (written != null) logger.info(`CAR written to ${written.path} (${scope} scope: ${written.blocks} blocks, ${formatBytes(written.bytes)})`)
    const result: PublishResult = {
      rootCid: root.cid.toString(),
      ...(previousRoot != null ? { previousRoot: previousRoot.toString() } : {}),
      name,
      tags: published,
      imageCid: (published[0] as PublishedTag).cid,
      digest: image.root.digest,
      imageId: image.primary.config.digest,
      platforms,
      size: total,
      ...(description != null ? { description } : {}),
      sourceFormat: image.sourceFormat,
      car: written != null ? { path: written.path, scope, blocks: written.blocks, bytes: written.bytes } : { scope, blocks: sink.blocks, bytes: sink.bytes },
      reusedBlobs: reused,
      ...(options.revision != null && options.revision !== '' ? { revision: options.revision } : {})
    }
    return { result, patch }
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

/** Two roots are the same, or both absent. */
export function sameRoot (a: CID | null, b: CID | null): boolean {
  return a == null ? b == null : b != null && a.equals(b)
}

export function parseCid (value: string, input: string): CID {
  try {
    return CID.parse(value.trim().replace(/^\/ipfs\//, ''))
  } catch {
    throw new InputError(input, `'${value}' is not a CID (expected a CIDv0 Qm… or CIDv1 such as bafy…)`)
  }
}

export { CATALOG_FILE }
