import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readdir, rename } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import type { Writable } from 'node:stream'
import type { CID } from 'multiformats/cid'
import { CachedSource, defaultBlockCacheDir, DiskBlockCache } from '../blocks/disk-cache.js'
import { MemoryBlockStore } from '../blocks/memory.js'
import { FirstSource } from '../blocks/multi.js'
import type { BlockSource } from '../blocks/types.js'
import { InputError, throwIfAborted, TreeError } from '../errors.js'
import { INDEX_MEDIA_TYPES, platformString } from '../image/model.js'
import { registerTemporary, releaseTemporary, removeTemporary } from '../interrupt.js'
import { silentLogger, type OperationOptions } from '../logger.js'
import { formatBytes, Progress } from '../progress.js'
import { registryText } from '../registry/location.js'
import { RegistryError } from '../serve/errors.js'
import { RepositoryReader } from '../serve/repository.js'
import type { RootResolver } from '../registry/resolve.js'
import { exportTar, exportToDirectory, type ExportResult } from '../unixfs/export.js'
import { EXPORT_LIMITS, type ExportLimits, type LimitNames } from '../unixfs/limits.js'
import { FetchBudget, fetchDag } from './fetch-dag.js'
import { blobDigestOf, buildImageFolder, checkBlobDigest, listFolderFiles, type FolderEntry } from './folder.js'
import { selectImage, type SelectedImage } from './image.js'
import { hostPlatform, parsePlatform } from './platform.js'
import { parsePullReference, referenceText, type PullReference } from './reference.js'
import type { PullSources } from './sources.js'

export interface PullOptions extends OperationOptions {
  /** `<registry>/<name>:<tag>` or `<registry>/<name>@sha256:<hex>` (see parsePullReference). */
  reference: string
  /** Where blocks come from (openPullSources), in order. */
  sources: PullSources
  /** Looks up IPNS names and DNSLink domains; without it only `ipfs/<cid>` registries are pulled. */
  resolveRoot?: RootResolver
  /** The content cache of verified blocks; default defaultBlockCacheDir(); null: none (a temporary one, removed at the end). */
  cacheDir?: string | null
  /** `os/arch[/variant]`: by digest (or a tag naming an index), write only this platform's image. By digest, default: this machine's. */
  platform?: string
  /**
   * A path, or a stream that gets a tar (e.g. `docker load`'s stdin; not ended here). A path
   * gets an OCI layout directory (with manifest.json, as `docker save` writes) for
   * outputFormat 'oci', a tar of it for 'docker'.
   */
  output: string | Writable
  /** Default 'oci' for a path; a stream always gets a tar. */
  outputFormat?: 'oci' | 'docker'
  /** Block requests at once per blob; default 8. */
  concurrency?: number
  /** Blobs fetched at once; default 4. */
  parallelBlobs?: number
  /** Bounds of what is written (default EXPORT_LIMITS) and how the user names them. */
  limits?: Partial<ExportLimits>
  limitNames?: LimitNames<ExportLimits>
  /** Least time between progress lines; default 1000 ms. */
  progressIntervalMs?: number
  /** Input keys for errors; defaults 'reference', 'platform', 'output'. */
  inputs?: { reference?: string, platform?: string, output?: string }
}

export interface PullResult {
  /** The reference as parsed, e.g. `ipfs/bafy…/team/app:1.0`. */
  reference: string
  /** The registry root it was read from. */
  root: string
  /** The UnixFS folder written: the tag folder itself, or one built for the image chosen by digest or platform. */
  folder: string
  /** What the output's index.json names: a manifest or (a whole multi-platform tag folder) an index. */
  digest: string
  mediaType: string
  /** The platform written, when one was chosen from an index. */
  platform?: string
  /** Blocks and bytes fetched from the sources, CARs included (the rest came from the cache). */
  fetched: { blocks: number, bytes: number }
  /** Blocks that came in gateway CAR responses. */
  carBlocks: number
  written: ExportResult
}

/**
 * `ipcr pull`: resolves the reference's registry to a root, finds the tag folder (by tag) or
 * the manifest (by digest; an index gives the `platform`'s manifest) with its config and
 * layers, fetches every block into the cache (gateway CARs first, then block by block with
 * fallback, blobs in parallel), checks each blob against its sha256 digest, then writes the
 * output from the cache. Nothing is written before every block is fetched and checked; a
 * directory or tar file appears only complete. Memory stays bounded: blocks go to disk as
 * they arrive and files are streamed.
 */
export async function pullImage (options: PullOptions): Promise<PullResult> {
  const signal = options.signal
  const logger = options.logger ?? silentLogger
  const inputs = { reference: 'reference', platform: 'platform', output: 'output', ...options.inputs }
  const ref = parsePullReference(options.reference, inputs.reference)
  const wanted = options.platform != null ? parsePlatform(options.platform, inputs.platform) : undefined
  const format = typeof options.output === 'string' ? (options.outputFormat ?? 'oci') : 'docker'
  const refText = referenceText(ref)
  if (typeof options.output === 'string' && format === 'oci') await checkEmpty(options.output, inputs.output)
  const root = await resolveRoot(ref, options.resolveRoot, inputs.reference, signal)
  if (ref.registry.kind !== 'ipfs') logger.info(`${registryText(ref.registry)} is /ipfs/${root.toString()}`)

  const temporaryCache = options.cacheDir === null ? await mkdtemp(join(tmpdir(), 'ipcr-pull-blocks-')) : undefined
  if (temporaryCache != null) registerTemporary(temporaryCache)
  try {
    const cache = new DiskBlockCache(temporaryCache ?? options.cacheDir ?? defaultBlockCacheDir(), logger)
    const source = new CachedSource(cache, new FirstSource(options.sources.blocks))
    const reader = new RepositoryReader(source)
    const memory = new MemoryBlockStore()

    // 1. What to write: the tag folder, or a folder built for one image.
    let folder: CID
    let files: FolderEntry[]
    let digest = ''
    let mediaType = ''
    let selected: SelectedImage | undefined
    const found = async <T>(read: () => Promise<T>): Promise<T> => {
      try {
        return await read()
      } catch (err) {
        if (err instanceof RegistryError && err.status === 404) throw new InputError(inputs.reference, `${refText}: ${notFoundText(err, ref)}`, { cause: err })
        throw err
      }
    }
    if (ref.tag != null) {
      const tag = ref.tag
      const tagFolder = await found(async () => await reader.tagFolder(root, ref.name, tag, { signal }))
      if (tagFolder == null) {
        const tags = await reader.tags(root, ref.name, { signal })
        throw new InputError(inputs.reference, `${refText}: ${ref.name} has no tag ${tag} (tags: ${tags.slice(0, 20).join(', ')}${tags.length > 20 ? ', …' : ''})`)
      }
      const descriptor = await reader.descriptor(tagFolder, { signal })
      if (wanted != null && INDEX_MEDIA_TYPES.includes(descriptor.mediaType)) {
        selected = await found(async () => await selectImage(reader, source, root, ref.name, descriptor.digest, wanted, { signal, platformInput: inputs.platform }))
        folder = await buildImageFolder({ ...selected, repoTag: `${ref.name}:${tag}`, refName: tag }, memory, { signal })
      } else {
        folder = tagFolder
        digest = descriptor.digest
        mediaType = descriptor.mediaType
      }
    } else {
      const byDigest = ref.digest as string
      selected = await found(async () => await selectImage(reader, source, root, ref.name, byDigest, wanted ?? hostPlatform(), { signal, platformInput: inputs.platform }))
      folder = await buildImageFolder(selected, memory, { signal })
    }
    if (selected != null) {
      digest = selected.manifest.digest
      mediaType = selected.manifest.mediaType
      files = [selected.manifest, selected.config, ...selected.layers].map((b) => ({ path: ['blobs', 'sha256', b.digest.slice('sha256:'.length)], cid: b.cid, size: b.dagSize }))
      files = files.filter((f, i) => files.findIndex((g) => g.cid.equals(f.cid)) === i)
    } else {
      files = await listFolderFiles(folder, source, { signal })
    }

    // 2. Every block into the cache, each blob checked against its digest.
    const total = files.reduce((sum, f) => sum + f.size, 0)
    const budget = new FetchBudget(options.limits?.maxBytes ?? EXPORT_LIMITS.maxBytes, options.limitNames?.maxBytes ?? 'maxBytes')
    if (total > budget.maxBytes) throw new TreeError(`${refText} holds ${formatBytes(total)} of blocks: over the limit ${budget.limitName} (${formatBytes(budget.maxBytes)})`)
    logger.info(`${refText}: ${files.length} files, ${formatBytes(total)}${selected?.platform != null ? ` (${platformString(selected.platform)})` : ''}`)
    const progress = new Progress(logger, `fetching ${refText}`, total, options.progressIntervalMs)
    let carBlocks = 0
    let carBytes = 0
    await eachLimited(files, options.parallelBlobs ?? 4, async (file) => {
      const got = await fetchDag(file.cid, { cache, source, cars: options.sources.cars, concurrency: options.concurrency ?? 8, budget, onBlock: (n) => { progress.add(n) }, logger, signal })
      carBlocks += got.carBlocks
      carBytes += got.carBytes
      const blobDigest = blobDigestOf(file.path)
      if (blobDigest != null) await checkBlobDigest(file.cid, blobDigest, source, { signal })
    }, signal)
    progress.finish()
    const fetched = { blocks: source.fetched.blocks + carBlocks, bytes: source.fetched.bytes + carBytes }
    logger.info(`${refText}: ${fetched.blocks} blocks fetched, ${formatBytes(fetched.bytes)} (${carBlocks} blocks in gateway CARs, ${source.fetched.blocks} one by one); the rest from ${cache.label}`)

    // 3. Write from the cache (every block verified again as it is read).
    const from: BlockSource = selected != null ? new FirstSource([memory, source]) : source
    const exportOptions = { signal, logger, limits: options.limits, limitNames: options.limitNames, progressIntervalMs: options.progressIntervalMs ?? 1000 }
    let written: ExportResult
    if (typeof options.output !== 'string') {
      written = await exportTar(folder, from, options.output, exportOptions)
    } else if (format === 'docker') {
      written = await writeTarFile(options.output, folder, from, exportOptions, inputs.output)
    } else {
      written = await exportToDirectory(folder, options.output, from, exportOptions)
    }
    return {
      reference: refText,
      root: root.toString(),
      folder: folder.toString(),
      digest,
      mediaType,
      ...(selected?.platform != null ? { platform: platformString(selected.platform) } : {}),
      fetched,
      carBlocks,
      written
    }
  } finally {
    if (temporaryCache != null) await removeTemporary(temporaryCache)
  }
}

/** InputError naming `input` unless `path` is absent or an empty folder (checked before anything is fetched). */
async function checkEmpty (path: string, input: string): Promise<void> {
  const entries = await readdir(path).catch((err) => err?.code === 'ENOENT' ? [] : [`(${String(err?.code ?? 'not a folder')})`])
  if (entries.length > 0) throw new InputError(input, `'${path}' already exists and is not an empty folder`)
}

async function resolveRoot (ref: PullReference, resolver: RootResolver | undefined, input: string, signal?: AbortSignal): Promise<CID> {
  const registry = ref.registry
  if (registry.kind === 'ipfs') return registry.root
  if (resolver == null) throw new InputError(input, `${registryText(registry)} must be looked up, and no resolver is configured`)
  return (await resolver(registry, { signal })).root
}

function notFoundText (err: RegistryError, ref: PullReference): string {
  if (err.code === 'NAME_UNKNOWN') return `the registry has no repository ${ref.name}`
  if (err.code === 'BLOB_UNKNOWN') return `no tag folder of ${ref.name} holds ${(err.detail as { digest?: string } | undefined)?.digest ?? 'the blob'}`
  return err.message
}

/** A tar of `folder` at `path`, written to a temporary sibling renamed into place at the end. */
async function writeTarFile (path: string, folder: CID, source: BlockSource, options: Parameters<typeof exportTar>[3], input: string): Promise<ExportResult> {
  await mkdir(dirname(path), { recursive: true }).catch((err) => { throw new InputError(input, `cannot create the folder of '${path}': ${err?.code ?? err}`) })
  const temp = join(dirname(path), `.${basename(path)}.ipcr-pull-${randomBytes(6).toString('hex')}`)
  registerTemporary(temp)
  try {
    const out = createWriteStream(temp, { flags: 'wx' })
    const opened = new Promise<void>((resolve, reject) => { out.once('open', () => { resolve() }); out.once('error', reject) })
    await opened
    let result: ExportResult
    try {
      result = await exportTar(folder, source, out, options)
    } finally {
      await new Promise<void>((resolve, reject) => { out.end((err?: Error | null) => { if (err != null) reject(err); else resolve() }) })
    }
    await rename(temp, path)
    releaseTemporary(temp)
    return result
  } catch (err) {
    await removeTemporary(temp)
    throw err
  }
}

/** Runs `task` on every item, at most `limit` at once; the first failure stops new starts and is thrown once all running ones end. */
async function eachLimited<T> (items: T[], limit: number, task: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0
  let failure: unknown
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T
      try {
        throwIfAborted(signal)
        await task(item)
      } catch (err) {
        if (failure === undefined) failure = err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  if (failure !== undefined) throw failure
}
