import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createWriteStream } from 'node:fs'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { finished } from 'node:stream/promises'
import type { CID } from 'multiformats/cid'
import { BlockCache, dagPbOnly } from '../../src/core/blocks/cache.js'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { CarFileWriter } from '../../src/core/car/writer.js'
import type { BlockSource } from '../../src/core/blocks/types.js'
import { TreeError } from '../../src/core/errors.js'
import type { Logger } from '../../src/core/logger.js'
import { publish } from '../../src/core/publish.js'
import { exportTar, exportToDirectory } from '../../src/core/unixfs/export.js'
import { resolvePath, walkDag } from '../../src/core/unixfs/tree.js'
import { buildOciLayout, describeLayoutImage, dockerImageId, dockerLoad, dockerRemove, makeTempDir } from '../helpers/images.js'
import { run } from '../helpers/tools.js'
import { buildTree, bytesOf, text, type TreeSpec } from './fixtures.js'

let dir: string
beforeAll(async () => { dir = await makeTempDir('ipcr-export-tar-') })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

function counting (store: BlockSource): { source: BlockSource, asked: string[] } {
  const asked: string[] = []
  return { asked, source: { label: 'counting', get: async (cid, options) => { asked.push(cid.toString()); return await store.get(cid, options) } } }
}

function recording (): { logger: Logger, lines: string[] } {
  const lines: string[] = []
  return { lines, logger: { debug () {}, info: (m) => { lines.push(m) }, warn: (m) => { lines.push(m) }, group: async (_n, fn) => await fn() } }
}

async function tarTo (cid: CID, source: BlockSource, file: string, options?: Parameters<typeof exportTar>[3]): Promise<Awaited<ReturnType<typeof exportTar>>> {
  const out = createWriteStream(file)
  try {
    return await exportTar(cid, source, out, options)
  } finally {
    out.end()
    await finished(out)
  }
}

const long = `${'d'.repeat(90)}/${'n'.repeat(120)}`
const spec: TreeSpec = {
  'index.json': text('{"schemaVersion":2}'),
  empty: {},
  blobs: { sha256: { ['a'.repeat(64)]: bytesOf(3_000_000, 3), ['b'.repeat(64)]: bytesOf(511, 4), ['c'.repeat(64)]: new Uint8Array(0) } },
  ['d'.repeat(90)]: { ['n'.repeat(120)]: text('a name over 100 bytes\n') }
}

describe('exportTar', () => {
  it('streams the tar that `tar -C DIR -cf - .` of the exported folder holds: same entries, same bytes', async () => {
    const store = new MemoryBlockStore()
    const root = await buildTree(spec, store)
    const file = join(dir, 'tree.tar')
    const result = await tarTo(root.cid, store, file)
    expect(result).toEqual({ files: 5, directories: 5, bytes: 3_000_000 + 511 + 19 + 22 })
    // GNU tar reads it without complaint, pax long names included, and gives the tree back.
    const listed = (await run('tar', ['-tf', file])).trim().split('\n').sort()
    expect(listed).toEqual(['./', './blobs/', './blobs/sha256/', `./blobs/sha256/${'a'.repeat(64)}`, `./blobs/sha256/${'b'.repeat(64)}`, `./blobs/sha256/${'c'.repeat(64)}`,
      `./${'d'.repeat(90)}/`, `./${long}`, './empty/', './index.json'].sort())
    const extracted = join(dir, 'extracted')
    await mkdir(extracted)
    await run('tar', ['-C', extracted, '-xf', file])
    expect(Buffer.compare(await readFile(join(extracted, 'blobs', 'sha256', 'a'.repeat(64))), bytesOf(3_000_000, 3))).toBe(0)
    expect(await readFile(join(extracted, long), 'utf8')).toBe('a name over 100 bytes\n')
    expect((await stat(join(extracted, 'empty'))).isDirectory()).toBe(true)
  })

  it('holds a single file as one entry, named as asked', async () => {
    const store = new MemoryBlockStore()
    const root = await buildTree({ f: bytesOf(1_500_000, 5) }, store)
    const file = (await resolvePath(root.cid, ['f'], store)) as { cid: CID }
    const tar = join(dir, 'single.tar')
    expect(await tarTo(file.cid, store, tar, { fileName: 'layer.bin' })).toEqual({ files: 1, directories: 0, bytes: 1_500_000 })
    expect((await run('tar', ['-tf', tar])).trim()).toBe('layer.bin')
    const extracted = join(dir, 'single')
    await mkdir(extracted)
    await run('tar', ['-C', extracted, '-xf', tar])
    expect(Buffer.compare(await readFile(join(extracted, 'layer.bin')), bytesOf(1_500_000, 5))).toBe(0)
  })

  it('gives a stream its own chunks: a reader that keeps them sees the right bytes', async () => {
    const store = new MemoryBlockStore()
    const root = await buildTree({ big: bytesOf(5_000_000, 7) }, store)
    // A CAR source reads leaves into buffers the export lends and reuses.
    const carPath = join(dir, 'big.car')
    const car = await CarFileWriter.create(carPath)
    for await (const block of walkDag(root.cid, store)) await car.put(block.cid, block.bytes)
    await car.close(root.cid)
    const source = await CarBlockSource.open(carPath)
    const out = new PassThrough()
    const kept: Buffer[] = []
    const reading = (async () => { for await (const chunk of out) kept.push(chunk as Buffer) })()
    try {
      await exportTar(root.cid, source, out)
    } finally {
      await source.close()
    }
    out.end()
    await reading
    const file = join(dir, 'kept.tar')
    await writeFile(file, Buffer.concat(kept))
    const extracted = join(dir, 'kept')
    await mkdir(extracted)
    await run('tar', ['-C', extracted, '-xf', file])
    expect(Buffer.compare(await readFile(join(extracted, 'big')), bytesOf(5_000_000, 7))).toBe(0)
  })

  it('writes nothing when the declared sizes are over a limit', async () => {
    const store = new MemoryBlockStore()
    const root = await buildTree(spec, store)
    const file = join(dir, 'refused.tar')
    await expect(tarTo(root.cid, store, file, { limits: { maxBytes: 1_000_000 }, limitNames: { maxBytes: '--max-bytes' } })).rejects.toThrow(/--max-bytes/)
    expect((await stat(file)).size).toBe(0)
    await expect(tarTo(root.cid, store, file, { limits: { maxEntries: 3 } })).rejects.toThrow(TreeError)
    expect((await stat(file)).size).toBe(0)
  })

  it('gives a tag folder that `docker load` reads: the same image ID', async () => {
    const layout = join(dir, 'layout')
    await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'big.bin': bytesOf(2_500_000, 9) } }, { files: { 'app.txt': 'v1\n' } }] })
    const published = await publish({ image: { kind: 'file', path: layout }, name: 'tar/app', tags: ['v1'], carPath: join(dir, 'tar.car'), tempDir: dir })
    const source = await CarBlockSource.open(published.car.path)
    const file = join(dir, 'v1.tar')
    try {
      const folder = await resolvePath(source.roots[0] as CID, ['tar', 'app', 'tags', 'v1'], source)
      await tarTo((folder as { cid: CID }).cid, source, file)
    } finally {
      await source.close()
    }
    await dockerRemove('localhost/tar/app:v1')
    try {
      await dockerLoad(file)
      expect(await dockerImageId('localhost/tar/app:v1')).toBe((await describeLayoutImage(layout, 'v1')).configDigest)
    } finally {
      await dockerRemove('localhost/tar/app:v1')
    }
  }, 120_000)
})

describe('an export', () => {
  it.each(['folder', 'tar'])('to a %s fetches each block once', async (kind) => {
    const store = new MemoryBlockStore()
    const root = await buildTree(spec, store)
    const { source, asked } = counting(store)
    if (kind === 'folder') await exportToDirectory(root.cid, join(dir, 'once'), source)
    else await tarTo(root.cid, source, join(dir, 'once.tar'))
    expect(asked.length).toBeGreaterThan(5)
    expect(asked.length).toBe(new Set(asked).size)
  })

  it('of a path resolved through the same BlockCache (as `ipcr get` does) fetches each block once', async () => {
    const store = new MemoryBlockStore()
    const root = await buildTree({ registry: { app: spec } }, store)
    // An empty path reads the root to size it; a deeper one reads the directories above.
    for (const path of [[], ['registry', 'app']]) {
      const { source: counted, asked } = counting(store)
      const source = new BlockCache(counted, { keep: dagPbOnly })
      const node = await resolvePath(root.cid, path, source)
      await tarTo((node as { cid: CID }).cid, source, join(dir, 'resolved.tar'))
      expect(asked.length).toBe(new Set(asked).size)
    }
  })

  it.each(['folder', 'tar'])('to a %s prints progress: bytes written of the total', async (kind) => {
    const store = new MemoryBlockStore()
    const root = await buildTree(spec, store)
    const { logger, lines } = recording()
    const total = 3_000_000 + 511 + 19 + 22
    if (kind === 'folder') await exportToDirectory(root.cid, join(dir, 'progress'), store, { logger, progressIntervalMs: 0 })
    else await tarTo(root.cid, store, join(dir, 'progress.tar'), { logger, progressIntervalMs: 0 })
    // A line per chunk at interval 0 (three 1 MiB chunks at least), and a last line at 100%.
    expect(lines.length).toBeGreaterThan(3)
    expect(lines.every((line) => line.includes('written:') && line.includes('of 2.9 MiB'))).toBe(true)
    expect(lines[lines.length - 1]).toMatch(/: 2\.9 MiB of 2\.9 MiB \(100%\)/)
    expect(total).toBe(3_000_552)
  })
})
