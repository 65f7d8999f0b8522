import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import type { BlockSource } from '../blocks/types.js'
import { throwIfAborted } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { checkFileBlock, readBlock } from './content.js'

const IDENTITY = 0x00

/**
 * A piece of a file, in order: bytes already checked (a node's own data, an identity leaf, a
 * dag-pb leaf read from the source), or a raw leaf not read: its CID and the size its parent
 * gives it, for a caller that gets its bytes elsewhere and checks them against the CID.
 */
export type FilePart = { bytes: Uint8Array } | { leaf: CID, size: number }

/**
 * The parts of the UnixFS file at `cid`, in order, reading only its dag-pb blocks from `source`
 * (the next dag-pb child of each node is read ahead) and checking each as fileContent does
 * (checkFileBlock: codecs, block sizes, depth), so the parts add up to the size the root declares.
 */
export async function * fileParts (cid: CID, source: BlockSource, options?: AbortOptions & { block?: Uint8Array }): AsyncGenerator<FilePart> {
  const signal = options?.signal

  async function * walk (cid: CID, bytes: Uint8Array, expected: number | undefined, depth: number): AsyncGenerator<FilePart> {
    throwIfAborted(signal)
    const checked = checkFileBlock(cid, bytes, expected, depth)
    if (checked == null) {
      if (bytes.length > 0) yield { bytes }
      return
    }
    const { node, sizes, data } = checked
    if (data.length > 0) yield { bytes: data }
    const links = node.Links.map((link) => link.Hash)
    const read = (i: number): Promise<Uint8Array> | undefined => {
      const link = links[i]
      if (link == null || link.code === raw.code) return undefined
      const reading = readBlock(link, source, { signal })
      reading.catch(() => {})
      return reading
    }
    /** The next dag-pb child after `i`, read ahead. */
    const nextNode = (i: number): { index: number, reading: Promise<Uint8Array> } | undefined => {
      for (let j = i + 1; j < links.length; j++) {
        const reading = read(j)
        if (reading != null) return { index: j, reading }
      }
      return undefined
    }
    let ahead = nextNode(-1)
    for (let i = 0; i < links.length; i++) {
      const link = links[i] as CID
      const size = sizes[i] as number
      if (link.code === raw.code && link.multihash.code !== IDENTITY) {
        yield { leaf: link, size }
        continue
      }
      let block: Uint8Array
      if (ahead?.index === i) {
        block = await ahead.reading
        ahead = nextNode(i)
      } else {
        block = await readBlock(link, source, { signal })
      }
      yield * walk(link, block, size, depth + 1)
    }
  }

  const root = options?.block ?? await readBlock(cid, source, { signal })
  yield * walk(cid, root, undefined, 0)
}
