import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../blocks/types.js'
import { throwIfAborted } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { CATALOG_FILE, CATALOG_LIMITS, parseCatalog } from '../registry/catalog.js'
import { REPOSITORY_ENTRIES } from '../registry/layout.js'
import { isName } from '../registry/reference.js'
import { directoryEntries, type DirEntry } from '../unixfs/directory.js'
import { decodeUnixFS } from '../unixfs/hamt.js'
import { DagBudget } from '../unixfs/limits.js'
import { readFileBytes, resolvePath } from '../unixfs/tree.js'

/** Folder levels searched for repositories when a tree has no catalog.json. */
const MAX_NAME_DEPTH = 16

/**
 * The repository names of a registry tree, sorted: those catalog.json lists, or, in a tree
 * without one, every folder path holding a `tags` folder (searched breadth-first, bounded by
 * the limits for reading a previous root and CATALOG_LIMITS.images names).
 */
export async function repositoryNames (root: CID, source: BlockSource, options?: AbortOptions): Promise<string[]> {
  const catalog = await resolvePath(root, [CATALOG_FILE], source, options)
  if (catalog != null) {
    const bytes = await readFileBytes(catalog.cid, source, { signal: options?.signal, maxBytes: CATALOG_LIMITS.bytes })
    return parseCatalog(bytes, `root ${root}`).images.map((i) => i.name).sort(byCodeUnits)
  }
  const budget = new DagBudget()
  const counted = budget.source(source)
  const names: string[] = []
  let level: Array<{ cid: CID, path: string[] }> = [{ cid: root, path: [] }]
  for (let depth = 0; depth < MAX_NAME_DEPTH && level.length > 0; depth++) {
    const next: typeof level = []
    for (const folder of level) {
      throwIfAborted(options?.signal)
      for await (const entry of entriesOf(folder.cid, counted, budget, options)) {
        if (entry.cid.code !== dagPb.code) continue
        if (entry.name === REPOSITORY_ENTRIES.tags) {
          const name = folder.path.join('/')
          if (isName(name)) names.push(name)
          continue
        }
        if (names.length + next.length > CATALOG_LIMITS.images) break
        next.push({ cid: entry.cid, path: [...folder.path, entry.name] })
      }
    }
    level = next
  }
  return names.sort(byCodeUnits).slice(0, CATALOG_LIMITS.images)
}

/** A folder's entries; none when the dag-pb node is a file, not a folder. */
async function * entriesOf (cid: CID, source: BlockSource, budget: DagBudget, options?: AbortOptions): AsyncGenerator<DirEntry> {
  const bytes = await source.get(cid, options)
  const type = decodeUnixFS(cid, bytes).unixfs.type
  if (type !== 'directory' && type !== 'hamt-sharded-directory') return
  yield * directoryEntries(cid, source, { signal: options?.signal, budget, block: bytes })
}

function byCodeUnits (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
