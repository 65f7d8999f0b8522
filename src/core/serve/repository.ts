import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import type { BlockSource } from '../blocks/types.js'
import { TreeError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { registryPaths } from '../registry/layout.js'
import { isDigest } from '../registry/reference.js'
import { declaredFileSize, readBlock } from '../unixfs/content.js'
import { readDirectory } from '../unixfs/directory.js'
import type { DagNode } from '../unixfs/file.js'
import { readFileBytes, resolvePath } from '../unixfs/tree.js'
import { notFound } from './errors.js'
import { isSha256Digest } from '../image/blob.js'
import { trimOldest } from './bounded.js'

/**
 * A file of a tag folder: its UnixFS root and size. A dag-pb root's block is read (it declares
 * the size); a raw block is the content itself, so it is not read until the bytes are wanted
 * (`withBlock`), and its size is its parent link's, checked then.
 */
export interface TreeFile {
  cid: CID
  block?: Uint8Array
  size: number
}

/** What a tag names: the first entry of its tag folder's index.json (the image manifest, or the index of a multi-platform image). */
export interface Descriptor {
  mediaType: string
  digest: string
  size: number
}

/** Most bytes of a tag folder's index.json read. */
const INDEX_JSON_BYTES = 1024 * 1024
/** Digests whose place is kept, so a blob is searched for once. */
const KEPT_PLACES = 10_000


/**
 * Reading one registry tree's repositories: tags, tag folders, and the blobs of a repository
 * (a digest is served only when some tag folder of that repository holds blobs/sha256/<hex>).
 * Every block comes through `source`, which verifies it against its CID.
 */
export class RepositoryReader {
  /** `<root>/<name>@<digest>` → the tag folder file found for it. */
  private readonly places = new Map<string, { cid: CID, size: number }>()

  constructor (private readonly source: BlockSource) {}

  /** The tags of `name`, sorted; RegistryError NAME_UNKNOWN when the repository has no tags folder. */
  async tags (root: CID, name: string, options?: AbortOptions): Promise<string[]> {
    const folder = await this.tagsFolder(root, name, options)
    const entries = await readDirectory(folder, this.source, { signal: options?.signal })
    return entries.map((e) => e.name).sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
  }

  /** The folder /<name>/tags; NAME_UNKNOWN when there is none. */
  async tagsFolder (root: CID, name: string, options?: AbortOptions): Promise<CID> {
    const node = await this.resolve(root, registryPaths.tags(name), options)
    if (node == null || node.code !== dagPb.code) throw notFound.name(name)
    return node
  }

  /** The tag folder of `name:tag`, or undefined (NAME_UNKNOWN when the repository does not exist). */
  async tagFolder (root: CID, name: string, tag: string, options?: AbortOptions): Promise<CID | undefined> {
    const tags = await this.tagsFolder(root, name, options)
    return await this.resolve(tags, [tag], options)
  }

  /** What index.json of a tag folder names first; TreeError when it is missing or malformed. */
  async descriptor (folder: CID, options?: AbortOptions): Promise<Descriptor> {
    const file = await this.resolve(folder, ['index.json'], options)
    if (file == null) throw new TreeError(`tag folder ${folder} has no index.json`)
    const bytes = await readFileBytes(file, this.source, { signal: options?.signal, maxBytes: INDEX_JSON_BYTES })
    let index: any
    try {
      index = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
    } catch {
      throw new TreeError(`index.json of tag folder ${folder} is not UTF-8 JSON`)
    }
    const first = Array.isArray(index?.manifests) ? index.manifests[0] : undefined
    const { mediaType, digest, size } = first ?? {}
    if (typeof mediaType !== 'string' || typeof digest !== 'string' || !isSha256Digest(digest) || !Number.isSafeInteger(size) || size < 0) {
      throw new TreeError(`index.json of tag folder ${folder} does not start with a manifest descriptor (mediaType, sha256 digest, size)`)
    }
    return { mediaType, digest, size }
  }

  /** blobs/sha256/<hex> of one tag folder, or undefined. */
  async blobIn (folder: CID, digest: string, options?: AbortOptions): Promise<TreeFile | undefined> {
    const node = await this.resolveNode(folder, blobPath(digest), options)
    return node == null ? undefined : await this.file(node.cid, node.size, options)
  }

  /** `file` with its root block read; TreeError when a raw block's length is not the size its parent link gave. */
  async withBlock (file: TreeFile, options?: AbortOptions): Promise<TreeFile & { block: Uint8Array }> {
    if (file.block != null) return { ...file, block: file.block }
    const block = await readBlock(file.cid, this.source, { signal: options?.signal })
    if (block.length !== file.size) throw new TreeError(`file ${file.cid} is ${block.length} bytes where its folder's link says ${file.size}`)
    return { ...file, block }
  }

  /**
   * The blob `digest` of repository `name`: the first tag folder that holds it. NAME_UNKNOWN
   * when the repository does not exist, BLOB_UNKNOWN when no tag folder holds the digest.
   */
  async blob (root: CID, name: string, digest: string, options?: AbortOptions): Promise<TreeFile> {
    const key = `${root.toString()}/${name}@${digest}`
    const known = this.places.get(key)
    if (known != null) return await this.file(known.cid, known.size, options)
    const tags = await this.tagsFolder(root, name, options)
    if (isSha256Digest(digest)) {
      for (const entry of await readDirectory(tags, this.source, { signal: options?.signal })) {
        const file = await this.blobIn(entry.cid, digest, options)
        if (file == null) continue
        this.places.set(key, { cid: file.cid, size: file.size })
        trimOldest(this.places, KEPT_PLACES)
        return file
      }
    }
    throw notFound.blob(digest)
  }

  /** The CID at `path` under `cid`, or undefined; a path through a file counts as missing. */
  private async resolve (cid: CID, path: string[], options?: AbortOptions): Promise<CID | undefined> {
    return (await this.resolveNode(cid, path, options))?.cid
  }

  private async resolveNode (cid: CID, path: string[], options?: AbortOptions): Promise<DagNode | undefined> {
    try {
      return await resolvePath(cid, path, this.source, { signal: options?.signal })
    } catch (err) {
      if (err instanceof TreeError && /is not a directory/.test(err.message)) return undefined
      throw err
    }
  }

  private async file (cid: CID, linkSize: number, options?: AbortOptions): Promise<TreeFile> {
    if (cid.code === raw.code) return { cid, size: linkSize }
    const block = await readBlock(cid, this.source, { signal: options?.signal })
    const size = declaredFileSize(cid, block)
    if (size == null) throw new TreeError(`${cid} is not a file`)
    return { cid, block, size }
  }
}

/** blobs/sha256/<hex> for a `sha256:<hex>` digest. */
export function blobPath (digest: string): string[] {
  if (!isDigest(digest)) throw new TreeError(`not a digest: ${digest}`)
  const [algorithm, hex] = digest.split(':') as [string, string]
  return ['blobs', algorithm, hex]
}
