import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import type { BlockSink, BlockSource } from '../blocks/types.js'
import { InputError, throwIfAborted, TreeError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import type { DagNode } from './file.js'
import { buildShardedDirectory, cumulativeSize, decodeUnixFS, findInShardedDirectory, shardedEntries, writeNode } from './hamt.js'
import { directoryLimit, directoryTooLarge, type ReadOptions } from './limits.js'

export interface DirEntry {
  name: string
  cid: CID
  /** The link's Tsize: the entry's cumulative DAG size. */
  size: number
}

/** A directory becomes a HAMT when its basic dag-pb block would be larger than this (strictly). */
export const SHARD_THRESHOLD_BYTES = 262_144

const DIRECTORY_DATA = new UnixFS({ type: 'directory' }).marshal()

/**
 * Writes a directory holding `entries`: a basic directory, or a HAMT (fanout 256) when the basic
 * block would exceed 262144 bytes; byte-identical to ipfs-unixfs-importer's unixfs-v1-2025 output.
 */
export async function buildDirectory(entries: DirEntry[], sink: BlockSink, options?: AbortOptions): Promise<DagNode> {
  throwIfAborted(options?.signal)
  checkNames(entries)
  const links: dagPb.PBLink[] = entries.map((entry) => ({ Name: entry.name, Hash: entry.cid, Tsize: entry.size }))
  cumulativeSize(0, links)
  const bytes = dagPb.encode(dagPb.prepare({ Data: DIRECTORY_DATA, Links: links }))
  if (bytes.length > SHARD_THRESHOLD_BYTES) return buildShardedDirectory(entries, sink, options)
  return writeNode(DIRECTORY_DATA, links, sink, options)
}

/**
 * The entries of a basic or HAMT directory, sorted by name; reads only the directory's own blocks.
 * Holds them all: bounded by the directory limit of `options` (see limits.ts).
 */
export async function readDirectory(cid: CID, source: BlockSource, options?: ReadOptions): Promise<DirEntry[]> {
  const entries: DirEntry[] = []
  for await (const entry of directoryEntries(cid, source, options)) entries.push(entry)
  return entries.sort(compareNames)
}

/**
 * The entries of a basic or HAMT directory, one at a time (a HAMT in shard order), reading only the
 * directory's own blocks. TreeError past the directory limit of `options`, or when a HAMT reuses a shard.
 */
export async function * directoryEntries(cid: CID, source: BlockSource, options?: ReadOptions & { block?: Uint8Array }): AsyncGenerator<DirEntry> {
  const { node, unixfs } = await loadDirectory(cid, source, options)
  if (unixfs.type === 'hamt-sharded-directory') {
    yield * shardedEntries(cid, node, unixfs, source, options)
    return
  }
  if (node.Links.length > directoryLimit(options)) throw directoryTooLarge(cid, options)
  options?.budget?.listed(cid, node.Links.length)
  for (const link of node.Links) yield { name: link.Name ?? '', cid: link.Hash, size: link.Tsize ?? 0 }
}

/** One entry of a directory, or undefined; in a HAMT only the shards on the name's hash path are read. */
export async function findEntry(cid: CID, name: string, source: BlockSource, options?: ReadOptions): Promise<DirEntry | undefined> {
  const { node, unixfs } = await loadDirectory(cid, source, options)
  if (unixfs.type === 'directory') {
    const link = node.Links.find((l) => l.Name === name)
    return link == null ? undefined : { name, cid: link.Hash, size: link.Tsize ?? 0 }
  }
  return await findInShardedDirectory(cid, node, unixfs, name, source, options)
}

async function loadDirectory(cid: CID, source: BlockSource, options?: AbortOptions & { block?: Uint8Array }): Promise<{ node: dagPb.PBNode, unixfs: UnixFS }> {
  if (cid.code !== dagPb.code) throw new TreeError(`${cid} is not a directory`)
  const bytes = options?.block ?? await source.get(cid, options)
  const { node, unixfs } = decodeUnixFS(cid, bytes)
  if (unixfs.type !== 'directory' && unixfs.type !== 'hamt-sharded-directory') throw new TreeError(`${cid} is not a directory (UnixFS ${unixfs.type})`)
  return { node, unixfs }
}

/** Throws InputError for a name that is empty, '.', '..', contains '/' or NUL, or repeats. */
export function checkNames(entries: Array<{ name: string }>): void {
  const seen = new Set<string>()
  for (const { name } of entries) {
    checkName(name)
    if (seen.has(name)) throw new InputError('directory entries', `duplicate name '${name}'`)
    seen.add(name)
  }
}

export function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new InputError('directory entries', `invalid entry name '${name}'`)
  }
}

const encoder = new TextEncoder()

/** Orders names by their UTF-8 bytes, as dag-pb orders links. */
export function compareNames(a: { name: string }, b: { name: string }): number {
  return Buffer.compare(encoder.encode(a.name), encoder.encode(b.name))
}
