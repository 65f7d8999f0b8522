import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import type { BlockSink, BlockSource } from '../blocks/types.js'
import { InputError, throwIfAborted, TreeError } from '../errors.js'
import type { ReadOptions } from './limits.js'
import { buildDirectory, checkName, compareNames, findEntry, readDirectory, type DirEntry } from './directory.js'
import type { DagNode } from './file.js'
import { decodeUnixFS, putInShardedDirectory } from './hamt.js'
import { dagSize } from './tree.js'

export interface TreeEdit {
  /** Names from the root, e.g. ['app', 'tags', 'v1']. */
  path: string[]
  /** What to put at `path`; null deletes it. */
  node: DagNode | null
}

type Child = DagNode | PendingDir

/**
 * A directory being edited; children are either untouched links or directories being edited.
 * A basic (or new) directory holds all its entries. A HAMT holds its root shard and only the
 * names looked up or changed, so an edit reads just the shards on those names' hash paths.
 * An existing HAMT is taken to be over the threshold, as it is when built under the profile.
 */
class PendingDir {
  private readonly entries: Map<string, Child>
  /** Names a HAMT had before the edit (undefined: absent), as looked up on their hash paths. */
  private readonly before = new Map<string, DirEntry | undefined>()
  private readonly removed = new Set<string>()

  /** `where`: the directory's path from the root, for errors. */
  constructor(readonly where: string[], entries: DirEntry[] = [], readonly shard?: CID) {
    this.entries = new Map(entries.map((entry) => [entry.name, { cid: entry.cid, size: entry.size }]))
  }

  static async load(cid: CID, where: string[], source: BlockSource | null, options?: ReadOptions): Promise<PendingDir> {
    if (source == null) throw new InputError('source', `a block source is needed to edit existing directory /${where.join('/')}`)
    return await naming(where, async () => {
      const bytes = await source.get(cid, options)
      if (cid.code === dagPb.code && decodeUnixFS(cid, bytes).unixfs.type === 'hamt-sharded-directory') return new PendingDir(where, [], cid)
      return new PendingDir(where, await readDirectory(cid, source, options))
    })
  }

  async get(name: string, source: BlockSource | null, options?: ReadOptions): Promise<Child | undefined> {
    const child = this.entries.get(name)
    if (child != null || this.shard == null || this.removed.has(name)) return child
    if (source == null) throw new InputError('source', 'a block source is needed to edit a sharded directory')
    const entry = await naming(this.where, async () => await this.original(name, source, options))
    return entry == null ? undefined : { cid: entry.cid, size: entry.size }
  }

  set(name: string, child: Child): void {
    this.entries.set(name, child)
    this.removed.delete(name)
  }

  delete(name: string): void {
    this.entries.delete(name)
    if (this.shard != null) this.removed.add(name)
  }

  async flush(source: BlockSource | null, sink: BlockSink, options?: ReadOptions): Promise<DagNode> {
    const changed: DirEntry[] = []
    for (const [name, child] of this.entries) {
      const node = child instanceof PendingDir ? await child.flush(source, sink, options) : child
      changed.push({ name, cid: node.cid, size: node.size })
    }
    if (this.shard == null) return buildDirectory(changed, sink, options)
    if (source == null) throw new InputError('source', 'a block source is needed to edit a sharded directory')
    return await naming(this.where, async () => await this.flushShard(this.shard as CID, changed, source, sink, options))
  }

  /**
   * A HAMT that only grows stays a HAMT: patch the hash paths. Otherwise it may fall back to a
   * basic directory, which takes every entry: read them all and build anew.
   */
  private async flushShard(shard: CID, changed: DirEntry[], source: BlockSource, sink: BlockSink, options?: ReadOptions): Promise<DagNode> {
    let growth = 0
    if (this.removed.size === 0) {
      for (const entry of changed) {
        const old = await this.original(entry.name, source, options)
        growth += linkBytes(entry) - (old == null ? 0 : linkBytes(old))
      }
    }
    if (this.removed.size === 0 && growth >= 0) return putInShardedDirectory(shard, changed, source, sink, options)
    const all = new Map((await readDirectory(shard, source, options)).map((entry) => [entry.name, entry]))
    for (const name of this.removed) all.delete(name)
    for (const entry of changed) all.set(entry.name, entry)
    return buildDirectory([...all.values()].sort(compareNames), sink, options)
  }

  private async original(name: string, source: BlockSource, options?: ReadOptions): Promise<DirEntry | undefined> {
    if (!this.before.has(name)) this.before.set(name, await findEntry(this.shard as CID, name, source, options))
    return this.before.get(name)
  }
}

/** Runs `work`, naming the directory at `where` in any TreeError it throws. */
async function naming<T>(where: string[], work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof TreeError) throw new TreeError(`cannot edit /${where.join('/')}: ${err.message}`, { cause: err })
    throw err
  }
}

/** Bytes a link takes in a basic directory block: the measure of the HAMT threshold. */
function linkBytes(entry: DirEntry): number {
  const name = encoder.encode(entry.name).length
  const cid = entry.cid.bytes.length
  const body = 1 + varintLength(cid) + cid + 1 + varintLength(name) + name + 1 + varintLength(entry.size)
  return 1 + varintLength(body) + body
}

function varintLength(value: number): number {
  let length = 1
  while (value >= 0x80) {
    value = Math.floor(value / 0x80)
    length++
  }
  return length
}

const encoder = new TextEncoder()

/**
 * Applies `edits` in order to the tree at `root` (or to an empty tree), creating missing directories.
 * Reads from `source` only the directories on the edited paths (in HAMTs, only the shards on the
 * edited names' hash paths, unless an edit removes or shrinks entries) and writes only the
 * rebuilt directories' blocks to `sink` (blocks it read unchanged are not written again).
 */
export async function editTree(root: CID | null, edits: TreeEdit[], source: BlockSource | null, sink: BlockSink, options?: ReadOptions): Promise<DagNode> {
  if (root != null && edits.length === 0) {
    if (source == null) throw new InputError('source', 'a block source is needed to size an unedited root')
    return { cid: root, size: await dagSize(root, source, options) }
  }
  // Every block read once, kept for the edit (directory blocks only), and never written again.
  const read = new Map<string, Promise<Uint8Array>>()
  const cached: BlockSource | null = source == null
    ? null
    : {
        label: source.label,
        get: async (cid, opts) => {
          const key = cid.toString()
          let bytes = read.get(key)
          if (bytes == null) {
            bytes = source.get(cid, opts)
            read.set(key, bytes)
            bytes.catch(() => { read.delete(key) })
          }
          return await bytes
        }
      }
  const top = root == null ? new PendingDir([]) : await PendingDir.load(root, [], cached, options)
  for (const edit of edits) {
    throwIfAborted(options?.signal)
    if (edit.path.length === 0) throw new InputError('edits', 'an edit path must name at least one entry')
    for (const name of edit.path) checkName(name)
    let dir = top
    let missing = false
    for (let i = 0; i < edit.path.length - 1; i++) {
      const name = edit.path[i] as string
      const child = await dir.get(name, cached, options)
      let next: PendingDir
      if (child instanceof PendingDir) {
        next = child
      } else if (child == null) {
        if (edit.node == null) {
          missing = true
          break
        }
        next = new PendingDir(edit.path.slice(0, i + 1))
      } else {
        next = await PendingDir.load(child.cid, edit.path.slice(0, i + 1), cached, options)
      }
      dir.set(name, next)
      dir = next
    }
    if (missing) continue
    const last = edit.path[edit.path.length - 1] as string
    if (edit.node != null) dir.set(last, { cid: edit.node.cid, size: edit.node.size })
    else if (await dir.get(last, cached, options) != null) dir.delete(last)
  }

  const newBlocks: BlockSink = {
    put: async (cid, bytes, opts) => {
      if (!read.has(cid.toString())) await sink.put(cid, bytes, opts)
    }
  }
  return await top.flush(cached, newBlocks, options)
}
