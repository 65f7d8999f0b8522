import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { CarFileWriter } from '../../src/core/car/writer.js'
import { TreeError } from '../../src/core/errors.js'
import { importBytes, type DagNode } from '../../src/core/unixfs/file.js'
import { exportToDirectory } from '../../src/core/unixfs/export.js'
import { resolvePath, walkDag } from '../../src/core/unixfs/tree.js'
import { buildTree, bytesOf, manyFiles, text, type TreeSpec } from './fixtures.js'

let dir: string
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ipcr-export-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

async function expectOnDisk(spec: TreeSpec, path: string): Promise<void> {
  expect((await readdir(path)).sort()).toEqual(Object.keys(spec).sort())
  for (const [name, value] of Object.entries(spec)) {
    if (value instanceof Uint8Array) expect(Buffer.from(await readFile(join(path, name))).equals(value)).toBe(true)
    else await expectOnDisk(value, join(path, name))
  }
}

describe('exportToDirectory', () => {
  it('takes a tag folder out of a CAR of the whole registry', async () => {
    const tag: TreeSpec = {
      'index.json': text('{"schemaVersion":2}'),
      'oci-layout': text('{"imageLayoutVersion":"1.0.0"}'),
      blobs: { sha256: { ...manyFiles(1200, (i) => String(i).padStart(64, '0'), 200), ['f'.repeat(64)]: bytesOf(2_600_000, 11) } }
    }
    const spec: TreeSpec = { 'catalog.json': text('{}'), app: { tags: { v1: tag, v2: { 'index.json': text('other') } } } }
    const store = new MemoryBlockStore()
    const root = await buildTree(spec, store)
    const carPath = join(dir, 'registry.car')
    const car = await CarFileWriter.create(carPath)
    for await (const block of walkDag(root.cid, store)) await car.put(block.cid, block.bytes)
    await car.close(root.cid)

    const source = await CarBlockSource.open(carPath)
    try {
      const folder = (await resolvePath(source.roots[0] as CID, ['app', 'tags', 'v1'], source)) as DagNode
      const out = join(dir, 'v1')
      const result = await exportToDirectory(folder.cid, out, source)
      await expectOnDisk(tag, out)
      expect(result.files).toBe(1203)
      expect(result.directories).toBe(3)
      expect(result.bytes).toBe(2_600_000 + 1200 * 200 + 19 + 30)
      // a single file goes to the given path
      const file = (await resolvePath(folder.cid, ['index.json'], source)) as DagNode
      await exportToDirectory(file.cid, join(dir, 'index.json'), source)
      expect(await readFile(join(dir, 'index.json'), 'utf8')).toBe('{"schemaVersion":2}')
    } finally {
      await source.close()
    }
  })

  it('refuses names that could escape the output directory', async () => {
    const store = new MemoryBlockStore()
    const file = await importBytes(text('evil'), store)
    for (const name of ['..', 'a/b', '.']) {
      const bytes = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'directory' }).marshal(), Links: [{ Name: name, Hash: file.cid, Tsize: file.size }] }))
      const cid = CID.createV1(dagPb.code, await sha256.digest(bytes))
      await store.put(cid, bytes)
      await expect(exportToDirectory(cid, join(dir, `evil-${name.length}`), store)).rejects.toThrow(TreeError)
    }
  })

  it('does not follow a symlink in the way', async () => {
    const store = new MemoryBlockStore()
    const root = await buildTree({ f: text('data') }, store)
    const out = join(dir, 'linked')
    await rm(out, { recursive: true, force: true })
    await symlink(join(dir, 'elsewhere'), out)
    await expect(exportToDirectory(root.cid, out, store)).rejects.toThrow(TreeError)
  })
})
