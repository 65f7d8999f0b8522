import type { CID } from 'multiformats/cid'
import { BlockCache, dagPbOnly } from '../blocks/cache.js'
import { FirstSource } from '../blocks/multi.js'
import { CountingSink } from '../blocks/counting.js'
import type { BlockSink, BlockSource } from '../blocks/types.js'
import { InputError, TreeError } from '../errors.js'
import { silentLogger, type AbortOptions, type OperationOptions } from '../logger.js'
import { editTree, type TreeEdit } from '../unixfs/edit.js'
import { importBytes, type DagNode } from '../unixfs/file.js'
import { DagBudget, PREVIOUS_ROOT_LIMITS, type ReadOptions } from '../unixfs/limits.js'
import { readFileBytes, resolvePath } from '../unixfs/tree.js'
import { CATALOG_LIMITS, emptyCatalog, encodeCatalog, parseCatalog, updateCatalog, type Catalog, type CatalogTag } from './catalog.js'
import { registryPaths } from './layout.js'

/** One tag folder a publish puts into the tree. */
export interface PatchFolder {
  tag: string
  /** Where it goes: registryPaths.tag(name, tag). */
  path: string[]
  node: DagNode
}

/**
 * What one publish changes in a registry tree, as a value: it applies to any root, without the
 * image. Its nodes are referenced by CID; their blocks are wherever that publish stored them.
 */
export interface RegistryPatch {
  /** Repository name. */
  name: string
  folders: PatchFolder[]
  /** README-short.txt of the repository, when the publish had a description. */
  readme?: DagNode
  /** catalog.json changes: this publish's entries, the description and the time it records. */
  catalog: { tags: CatalogTag[], description?: string, time: string }
}

/** Runs `work`, naming `where` (e.g. `previous root bafy…`) and the path in any TreeError it throws. */
async function naming<T> (where: string, path: string[], work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof TreeError) throw new TreeError(`${where}, /${path.join('/')}: ${err.message}`, { cause: err })
    throw err
  }
}

/** Runs `work`, naming the previous root and the path in any TreeError it throws. */
export async function inPreviousRoot<T> (root: CID, path: string[], work: () => Promise<T>): Promise<T> {
  return await naming(`previous root ${root.toString()}`, path, work)
}

/** The catalog.json of a root the tree is edited from (empty when it has none), bounded by CATALOG_LIMITS. */
export async function readPreviousCatalog (root: CID, source: BlockSource, options: ReadOptions): Promise<Catalog> {
  const path = registryPaths.catalog()
  const bytes = await inPreviousRoot(root, path, async () => {
    const node = await resolvePath(root, path, source, options)
    return node == null ? undefined : await readFileBytes(node.cid, source, { ...options, maxBytes: CATALOG_LIMITS.bytes })
  })
  return bytes == null ? emptyCatalog() : parseCatalog(bytes, `previous root ${root.toString()}`)
}

/**
 * Applies `patch` to `root`, whose catalog is `current`: writes the merged catalog.json and the
 * rebuilt directories to `sink`. The catalog's last change never goes back in time.
 */
export async function patchRoot (patch: RegistryPatch, root: CID | null, current: Catalog, source: BlockSource | null, sink: BlockSink, options: ReadOptions): Promise<DagNode> {
  const { time, description, tags } = patch.catalog
  const updated = Date.parse(current.updated) > Date.parse(time) ? current.updated : time
  const catalog = updateCatalog(current, { name: patch.name, description, tags, updated })
  const catalogNode = await importBytes(encodeCatalog(catalog), sink, { signal: options.signal })
  const edits: TreeEdit[] = patch.folders.map((f) => ({ path: f.path, node: f.node }))
  if (patch.readme != null) edits.push({ path: registryPaths.readme(patch.name), node: patch.readme })
  edits.push({ path: registryPaths.catalog(), node: catalogNode })
  return root != null
    ? await inPreviousRoot(root, [], async () => await editTree(root, edits, source, sink, options))
    : await editTree(null, edits, source, sink, { signal: options.signal })
}

export interface ApplyPatchOptions extends OperationOptions {
  /** Where the blocks of `root` are read from. */
  sources: BlockSource[]
  /** Where the new blocks (rebuilt directories, catalog.json) are written. */
  sink: BlockSink
}

export interface AppliedPatch {
  root: CID
  /** Cumulative size of the new root. */
  size: number
  /** Distinct new blocks written to the sink, and their bytes. */
  blocks: number
  bytes: number
}

/**
 * Applies a publish's patch to another root (e.g. the one a registry's name moved to while this
 * run published): reads that root's catalog.json and the directories on the edited paths, with
 * the bounds of a previous root, and writes only the new directories and catalog.json. Nothing of
 * the image is read or written: its tag folders are linked by CID. For a tag both roots hold,
 * the patch's folder and catalog entry win.
 */
export async function applyPatch (patch: RegistryPatch, root: CID | null, options: ApplyPatchOptions): Promise<AppliedPatch> {
  const logger = options.logger ?? silentLogger
  const { signal } = options
  if (root != null && options.sources.length === 0) {
    throw new InputError('sources', `root ${root.toString()} was given to patch but no block source to read it from`)
  }
  const budget = new DagBudget(PREVIOUS_ROOT_LIMITS)
  const source = root != null ? budget.source(new BlockCache(new FirstSource(options.sources), { keep: dagPbOnly })) : null
  const current = root != null && source != null ? await readPreviousCatalog(root, source, { signal, budget }) : emptyCatalog()
  const sink = new CountingSink(options.sink)
  const node = await patchRoot(patch, root, current, source, sink, { signal, budget })
  logger.info(`Applied ${patch.name}:${patch.folders.map((f) => f.tag).join(', ')} onto ${root?.toString() ?? 'an empty registry'}: root ${node.cid.toString()} (${sink.blocks} new blocks)`)
  return { root: node.cid, size: node.size, blocks: sink.blocks, bytes: sink.bytes }
}

/**
 * True when every tag folder of `patch` is in the tree at `root`, at its path, with the CID this
 * patch wrote (false when one is absent or another folder is there). Reads only the directories
 * on those paths, bounded as a previous root is; a TreeError names the root and the path.
 */
export async function hasTags (root: CID, patch: RegistryPatch, source: BlockSource, options: AbortOptions = {}): Promise<boolean> {
  const budget = new DagBudget(PREVIOUS_ROOT_LIMITS)
  // Caching is the caller's (the pipeline reads through one cache for the run).
  const bounded = budget.source(source)
  for (const folder of patch.folders) {
    const found = await naming(`root ${root.toString()}`, folder.path, async () => await resolvePath(root, folder.path, bounded, { signal: options.signal, budget }))
    if (found == null || !found.cid.equals(folder.node.cid)) return false
  }
  return true
}
