import { CarBlockIterator } from '@ipld/car/iterator'
import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { FirstSource } from '../../src/core/blocks/multi.js'
import { exportToDirectory } from '../../src/core/unixfs/export.js'
import { resolvePath } from '../../src/core/unixfs/tree.js'
import { makeTempDir } from '../helpers/images.js'
import { run } from '../helpers/tools.js'

/** Every block CID in a CAR, and its root. */
export async function carContents (path: string): Promise<{ root: string, cids: Set<string> }> {
  const blocks = await CarBlockIterator.fromIterable(createReadStream(path))
  const roots = await blocks.getRoots()
  const cids = new Set<string>()
  for await (const block of blocks) cids.add(block.cid.toString())
  return { root: String(roots[0]), cids }
}

/** Takes `/<root>/<path>` out of the given CARs into a new folder, as `ipfs get` would. */
export async function extractFromCars (cars: string[], root: string, path: string[]): Promise<string> {
  const sources = await Promise.all(cars.map(async (c) => await CarBlockSource.open(c)))
  try {
    const source = new FirstSource(sources)
    const node = await resolvePath(CID.parse(root), path, source)
    if (node == null) throw new Error(`${path.join('/')} not found under ${root}`)
    const out = join(await makeTempDir('ipcr-extract-'), 'folder')
    await exportToDirectory(node.cid, out, source)
    return out
  } finally {
    await Promise.all(sources.map(async (s) => { await s.close() }))
  }
}

/** Adds a layer to image `from` of an OCI layout and tags the result `to`, with umoci. */
export async function umociAddLayer (layout: string, from: string, to: string, files: Record<string, string>): Promise<void> {
  const work = await makeTempDir('ipcr-umoci-')
  const bundle = join(work, 'bundle')
  await run('umoci', ['unpack', '--rootless', '--image', `${layout}:${from}`, bundle])
  for (const [path, text] of Object.entries(files)) await run('sh', ['-c', 'printf %s "$1" > "$2"', 'sh', text, join(bundle, 'rootfs', path)])
  await run('umoci', ['repack', '--image', `${layout}:${to}`, bundle])
  await run('rm', ['-rf', work])
}
