import * as dagPb from '@ipld/dag-pb'
import { murmur364 } from '@multiformats/murmur3'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { BlockSink, BlockSource } from '../blocks/types.js'
import { throwIfAborted, TreeError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import type { DirEntry } from './directory.js'
import type { DagNode } from './file.js'
import { directoryLimit, directoryTooLarge, MAX_HAMT_DEPTH, type ReadOptions } from './limits.js'

/** HAMT parameters of Kubo and the unixfs-v1-2025 profile: 256 slots, murmur3-x64-64. */
export const HAMT_FANOUT = 256
export const HAMT_HASH_TYPE = 0x22
const PREFIX_LENGTH = 2 // hex digits of (fanout - 1)
const READ_CONCURRENCY = 16

const encoder = new TextEncoder()

/**
 * The hash of a name, read one byte (one 256-slot level) at a time: level d is byte d of
 * murmur3-x64-64(name); past 8 levels it continues with the hash of name + [d / 8], as go-unixfs does.
 */
export class NameHash {
  private readonly name: Uint8Array
  private readonly hashes: Uint8Array[] = []

  constructor(name: string) {
    this.name = encoder.encode(name)
  }

  async slot(depth: number): Promise<number> {
    const round = Math.floor(depth / 8)
    while (this.hashes.length <= round) {
      const n = this.hashes.length
      const input = n === 0 ? this.name : Uint8Array.from([...this.name, n])
      this.hashes.push((await murmur364.digest(input)).digest)
    }
    return (this.hashes[round] as Uint8Array)[depth % 8] as number
  }
}

/** Writes a HAMT-sharded directory (fanout 256) holding `entries`; the root shard's DagNode. */
export async function buildShardedDirectory(entries: DirEntry[], sink: BlockSink, options?: AbortOptions): Promise<DagNode> {
  return buildShard(entries.map(leaf), 0, sink, options)
}

interface Leaf { entry: DirEntry, hash: NameHash }

function leaf(entry: DirEntry): Leaf {
  return { entry, hash: new NameHash(entry.name) }
}

async function buildShard(leaves: Leaf[], depth: number, sink: BlockSink, options?: AbortOptions): Promise<DagNode> {
  throwIfAborted(options?.signal)
  const links = new Map<number, dagPb.PBLink>()
  for (const [slot, group] of await groupBySlot(leaves, depth)) links.set(slot, await slotLink(slot, group, depth, sink, options))
  return writeShard(links, sink, options)
}

/**
 * Puts entries (new names or replacements) into the HAMT whose root shard is `root`, reading
 * and rewriting only the shards on their names' hash paths. The result is the HAMT a full
 * build of the new entry set would give: a slot holds an entry alone, or a sub-shard once two
 * names share it. Only for growing a HAMT: whether the directory should stay sharded is the caller's call.
 */
export async function putInShardedDirectory(root: CID, entries: DirEntry[], source: BlockSource, sink: BlockSink, options?: AbortOptions): Promise<DagNode> {
  return putInShard(root, entries.map(leaf), 0, source, sink, options)
}

async function putInShard(cid: CID, leaves: Leaf[], depth: number, source: BlockSource, sink: BlockSink, options?: AbortOptions): Promise<DagNode> {
  throwIfAborted(options?.signal)
  if (depth > MAX_HAMT_DEPTH) throw new TreeError(`HAMT shard ${cid} is more than ${MAX_HAMT_DEPTH} levels deep`)
  const { node, unixfs } = await readShard(cid, source, options)
  // ipfs-unixfs does not decode the hash type; the fanout is checked.
  if (unixfs.fanout !== BigInt(HAMT_FANOUT)) throw new TreeError(`HAMT shard ${cid} has fanout ${unixfs.fanout}, not ${HAMT_FANOUT}`)
  const links = new Map<number, dagPb.PBLink>()
  for (const link of node.Links) {
    const name = link.Name ?? ''
    const slot = Number.parseInt(name.slice(0, PREFIX_LENGTH), 16)
    if (!/^[0-9A-F]{2}/.test(name) || links.has(slot)) throw new TreeError(`HAMT shard ${cid} has an invalid link name '${name}'`)
    links.set(slot, link)
  }
  for (const [slot, group] of await groupBySlot(leaves, depth)) {
    const link = links.get(slot)
    if (link?.Name === slotPrefix(slot)) {
      const child = await putInShard(link.Hash, group, depth + 1, source, sink, options)
      links.set(slot, { Name: slotPrefix(slot), Hash: child.cid, Tsize: child.size })
      continue
    }
    // A slot holding one entry keeps it, unless a new entry has its name.
    const name = link?.Name?.slice(PREFIX_LENGTH)
    if (link != null && name != null && !group.some((l) => l.entry.name === name)) group.push(leaf({ name, cid: link.Hash, size: link.Tsize ?? 0 }))
    links.set(slot, await slotLink(slot, group, depth, sink, options))
  }
  return writeShard(links, sink, options)
}

async function groupBySlot(leaves: Leaf[], depth: number): Promise<Map<number, Leaf[]>> {
  const slots = new Map<number, Leaf[]>()
  for (const l of leaves) {
    const slot = await l.hash.slot(depth)
    const group = slots.get(slot)
    if (group == null) slots.set(slot, [l])
    else group.push(l)
  }
  // In slot order, so sub-shards are written in the order of their links.
  return new Map([...slots].sort((a, b) => a[0] - b[0]))
}

function slotPrefix(slot: number): string {
  return slot.toString(16).toUpperCase().padStart(PREFIX_LENGTH, '0')
}

/** The link a slot gets: its one entry, or a sub-shard of the next level holding them all. */
async function slotLink(slot: number, group: Leaf[], depth: number, sink: BlockSink, options?: AbortOptions): Promise<dagPb.PBLink> {
  if (group.length === 1) {
    const { entry } = group[0] as Leaf
    return { Name: slotPrefix(slot) + entry.name, Hash: entry.cid, Tsize: entry.size }
  }
  const child = await buildShard(group, depth + 1, sink, options)
  return { Name: slotPrefix(slot), Hash: child.cid, Tsize: child.size }
}

/** Writes a shard with a link per occupied slot, in slot order. */
async function writeShard(links: Map<number, dagPb.PBLink>, sink: BlockSink, options?: AbortOptions): Promise<DagNode> {
  const slots = [...links.keys()].sort((a, b) => a - b)
  const data = new UnixFS({
    type: 'hamt-sharded-directory',
    data: bitfield(slots),
    fanout: BigInt(HAMT_FANOUT),
    hashType: BigInt(HAMT_HASH_TYPE)
  })
  return writeNode(data.marshal(), slots.map((slot) => links.get(slot) as dagPb.PBLink), sink, options)
}

/** Occupied slots as a big-endian bit string (slot i = bit i), without leading zero bytes. */
function bitfield(slots: number[]): Uint8Array {
  const length = Math.floor(Math.max(0, ...slots) / 8) + 1
  const bytes = new Uint8Array(length)
  for (const slot of slots) {
    const index = length - 1 - Math.floor(slot / 8)
    bytes[index] = (bytes[index] as number) | (1 << (slot % 8))
  }
  return bytes
}

/**
 * A node's cumulative DAG size: its block's bytes plus its links' Tsizes. Tsizes come from
 * outside (a previous root); a size past 2^53 cannot be encoded or added exactly: TreeError.
 */
export function cumulativeSize(blockBytes: number, links: dagPb.PBLink[]): number {
  let size = blockBytes
  for (const link of links) {
    size += link.Tsize ?? 0
    if (!Number.isSafeInteger(link.Tsize ?? 0) || !Number.isSafeInteger(size)) {
      throw new TreeError(`the sizes of the links to ${link.Name === undefined ? link.Hash.toString() : `'${link.Name}'`} add up past 2^53 bytes (a corrupt Tsize)`)
    }
  }
  return size
}

/** Encodes a dag-pb node, writes it, and returns its CID and cumulative size. */
export async function writeNode(data: Uint8Array, links: dagPb.PBLink[], sink: BlockSink, options?: AbortOptions): Promise<DagNode> {
  cumulativeSize(0, links)
  const bytes = dagPb.encode(dagPb.prepare({ Data: data, Links: links }))
  const cid = CID.createV1(dagPb.code, await sha256.digest(bytes))
  await sink.put(cid, bytes, options)
  return { cid, size: cumulativeSize(bytes.length, links) }
}

/**
 * Every entry of the HAMT-sharded directory whose root shard is `cid` (decoded as node and
 * unixfs), shard by shard, reading its shard blocks (never the entries). Bounded whatever the
 * blocks claim: a shard linked twice (no valid HAMT has two equal sub-shards), more entries
 * than the directory limit, or shards deeper than MAX_HAMT_DEPTH end in a TreeError.
 */
export async function * shardedEntries(cid: CID, node: dagPb.PBNode, unixfs: UnixFS, source: BlockSource, options?: ReadOptions): AsyncGenerator<DirEntry> {
  const limit = directoryLimit(options)
  const seen = new Set<string>([cid.toString()])
  let count = 0
  let ahead = 0

  async function * shard(cid: CID, node: dagPb.PBNode, unixfs: UnixFS, depth: number): AsyncGenerator<DirEntry> {
    throwIfAborted(options?.signal)
    const prefixLength = shardPrefixLength(unixfs)
    const subShards: CID[] = []
    options?.budget?.listed(cid, node.Links.length)
    for (const link of node.Links) {
      const name = link.Name ?? ''
      if (name.length > prefixLength) {
        if (++count > limit) throw directoryTooLarge(cid, options)
        yield { name: name.slice(prefixLength), cid: link.Hash, size: link.Tsize ?? 0 }
      } else if (name.length === prefixLength) {
        const key = link.Hash.toString()
        if (seen.has(key)) throw new TreeError(`HAMT shard ${link.Hash} is linked more than once in one directory (in shard ${cid})`)
        seen.add(key)
        subShards.push(link.Hash)
      } else {
        throw new TreeError(`HAMT shard link name '${name}' is too short`)
      }
    }
    if (subShards.length > 0 && depth >= MAX_HAMT_DEPTH) throw new TreeError(`HAMT shard ${cid} is more than ${MAX_HAMT_DEPTH} levels deep`)
    // One sub-shard read ahead on every level, up to READ_CONCURRENCY in all.
    let next = 0
    const pending: Array<Promise<{ node: dagPb.PBNode, unixfs: UnixFS }>> = []
    try {
      for (let i = 0; i < subShards.length; i++) {
        while (next < subShards.length && (pending.length === 0 || ahead < READ_CONCURRENCY)) {
          const read = readShard(subShards[next] as CID, source, options)
          read.catch(() => {})
          pending.push(read)
          ahead++
          next++
        }
        const child = await (pending.shift() as Promise<{ node: dagPb.PBNode, unixfs: UnixFS }>)
        ahead--
        yield * shard(subShards[i] as CID, child.node, child.unixfs, depth + 1)
      }
    } finally {
      ahead -= pending.length
    }
  }

  yield * shard(cid, node, unixfs, 0)
}

/** Looks one name up in a HAMT, reading only the shards on its hash path. */
export async function findInShardedDirectory(cid: CID, node: dagPb.PBNode, unixfs: UnixFS, name: string, source: BlockSource, options?: ReadOptions): Promise<DirEntry | undefined> {
  if (unixfs.fanout !== BigInt(HAMT_FANOUT)) {
    for await (const entry of shardedEntries(cid, node, unixfs, source, options)) if (entry.name === name) return entry
    return undefined
  }
  const hash = new NameHash(name)
  for (let depth = 0; ; depth++) {
    const prefix = slotPrefix(await hash.slot(depth))
    const link = node.Links.find((l) => l.Name?.startsWith(prefix) === true)
    if (link == null) return undefined
    if (link.Name === prefix) {
      if (depth >= MAX_HAMT_DEPTH) throw new TreeError(`HAMT shard ${cid} is more than ${MAX_HAMT_DEPTH} levels deep`)
      cid = link.Hash
      ;({ node, unixfs } = await readShard(cid, source, options))
      continue
    }
    return link.Name === prefix + name ? { name, cid: link.Hash, size: link.Tsize ?? 0 } : undefined
  }
}

async function readShard(cid: CID, source: BlockSource, options?: AbortOptions): Promise<{ node: dagPb.PBNode, unixfs: UnixFS }> {
  const bytes = await source.get(cid, options)
  const { node, unixfs } = decodeUnixFS(cid, bytes)
  if (unixfs.type !== 'hamt-sharded-directory') throw new TreeError(`HAMT sub-shard ${cid} is a ${unixfs.type}`)
  return { node, unixfs }
}

function shardPrefixLength(unixfs: UnixFS): number {
  const fanout = Number(unixfs.fanout ?? 0n)
  if (fanout < 2 || (fanout & (fanout - 1)) !== 0) throw new TreeError(`HAMT fanout ${fanout} is not a power of two`)
  return (fanout - 1).toString(16).length
}

/** Decodes a dag-pb block carrying UnixFS data; TreeError when it is not one. */
export function decodeUnixFS(cid: CID, bytes: Uint8Array): { node: dagPb.PBNode, unixfs: UnixFS } {
  if (cid.code !== dagPb.code) throw new TreeError(`${cid} is not a dag-pb node`)
  try {
    const node = dagPb.decode(bytes)
    if (node.Data == null) throw new Error('no Data field')
    return { node, unixfs: UnixFS.unmarshal(node.Data) }
  } catch (err: any) {
    throw new TreeError(`${cid} is not a UnixFS node: ${err?.message ?? err}`, { cause: err })
  }
}
