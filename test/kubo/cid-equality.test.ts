import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, statfs } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { FirstSource } from '../../src/core/blocks/multi.js'
import { publish, type KeptCar, type PublishResult } from '../../src/core/publish.js'
import { registryPaths } from '../../src/core/registry/layout.js'
import { SHARD_THRESHOLD_BYTES } from '../../src/core/unixfs/directory.js'
import { decodeUnixFS } from '../../src/core/unixfs/hamt.js'
import { resolvePath } from '../../src/core/unixfs/tree.js'
import { buildOciLayout, describeLayoutImage, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { carContents } from '../publish/helpers.js'
import { run } from '../helpers/tools.js'

// Registry trees published by the core, taken out of their CARs by a real Kubo
// (`dag import`, `ipfs get` of the whole root) and added back with Kubo's own
// importer (`ipfs add -r`, unixfs-v1-2025 profile) in a second Kubo repo that never
// saw our blocks: the root must come out the same.
let dir: string
let small: string
let worker: string
let large: string
let kubo: KuboNode
/** IPFS_PATH of a Kubo repo with no daemon and no blocks: `ipfs add` runs in-process there. */
let adder: string
const now = new Date('2026-11-03T00:00:00Z')

beforeAll(async () => {
  dir = await makeTempDir('ipcr-cid-eq-')
  small = join(dir, 'small')
  worker = join(dir, 'worker')
  large = join(dir, 'large')
  await buildOciLayout(small, { tag: 'v1', labels: { 'org.opencontainers.image.description': 'small image' }, layers: [{ files: { 'hello.txt': 'hello\n' } }] })
  await buildOciLayout(worker, { tag: 'v1', layers: [{ files: { 'bin/worker': 'worker\n', 'etc/worker.conf': 'threads=4\n' } }, { files: { 'VERSION': '2\n' } }] })
  // Random bytes do not compress: the layer blob is about 3 MiB, a file of four 1 MiB chunks.
  await buildOciLayout(large, { tag: 'v1', layers: [{ files: { 'opt/model.bin': randomBytes(3 * 1024 * 1024 + 123) } }, { files: { 'app.txt': 'large\n' } }] })
  kubo = await startKubo({ profiles: ['pebbleds'] })
  adder = join(dir, 'adder')
  await run('ipfs', ['init', '--empty-repo', '--profile=test,unixfs-v1-2025'], { env: { ...process.env, IPFS_PATH: adder } })
}, 60_000)

afterAll(async () => {
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

// Creating tens of thousands of small files is slow on some disks (12 s for 18000 here,
// 0.3 s on tmpfs): `ipfs get` writes to /dev/shm when it has room.
const scratch = await (async () => {
  try {
    const fs = await statfs('/dev/shm')
    if (fs.bavail * fs.bsize > 1024 ** 3) return '/dev/shm'
  } catch {}
  return tmpdir()
})()

let count = 0
async function publishTo (layout: string, name: string, tags: string[], previous?: PublishResult, cars: string[] = []): Promise<PublishResult & KeptCar> {
  const sources = await Promise.all(cars.map(async (c) => await CarBlockSource.open(c)))
  try {
    return await publish({
      image: { kind: 'file', path: layout },
      name,
      tags,
      carPath: join(dir, `${count++}.car`),
      tempDir: dir,
      now,
      ...(previous != null ? { previousRoot: CID.parse(previous.rootCid), sources } : {})
    })
  } finally {
    await Promise.all(sources.map(async (s) => { await s.close() }))
  }
}

/**
 * Imports the CARs into Kubo (no pins: an incremental CAR alone is not a whole DAG),
 * `ipfs get`s the whole root and returns what `ipfs add -r` of that folder gives in
 * the other repo. `--only-hash` changes nothing in the CID (a real add on the daemon
 * gives the same); it only spares writing blocks nobody reads.
 */
async function kuboReAdd (cars: string[], root: string): Promise<string> {
  for (const car of cars) await kubo.ipfs('dag', 'import', '--pin-roots=false', car)
  const out = join(await mkdtemp(join(scratch, 'ipcr-cid-eq-get-')), 'tree')
  try {
    await kubo.ipfs('get', '-o', out, `/ipfs/${root}`)
    return (await run('ipfs', ['add', '-r', '-Q', '--only-hash', '--cid-version', '1', out], { env: { ...process.env, IPFS_PATH: adder } })).trim()
  } finally {
    await rm(join(out, '..'), { recursive: true, force: true })
  }
}

/** The blocks of the whole DAG under `root`, as Kubo walks it (root included). */
async function kuboBlocks (root: string): Promise<Set<string>> {
  const refs = (await kubo.ipfs('refs', '-r', '-u', root)).split('\n').filter((l) => l !== '')
  return new Set([root, ...refs].map((c) => CID.parse(c).toV1().toString()))
}

let replays = 0
/**
 * Kubo's own incremental editor on the same edit: copies `base` into MFS, puts the
 * new tag folders, README-short.txt and catalog.json of `result` in place with
 * `files cp`, and returns the MFS folder's CID. Every folder above them is Kubo's.
 */
async function kuboMfsReplay (cars: string[], base: string, result: PublishResult): Promise<string> {
  for (const car of cars) await kubo.ipfs('dag', 'import', '--pin-roots=false', car)
  const mfs = `/replay-${replays++}`
  await kubo.ipfs('files', 'cp', `/ipfs/${base}`, mfs)
  try {
    const edits = result.tags.map((t) => ({ path: registryPaths.tag(result.name, t.tag), cid: t.cid }))
    for (const path of [registryPaths.readme(result.name), registryPaths.catalog()]) {
      const node = await blockAt(cars, result.rootCid, path).catch(() => null)
      if (node != null) edits.push({ path, cid: node.cid.toString() })
    }
    for (const edit of edits) {
      const target = `${mfs}/${edit.path.join('/')}`
      await kubo.ipfs('files', 'rm', '-r', '--force', target)
      await kubo.ipfs('files', 'cp', `/ipfs/${edit.cid}`, target)
    }
    return (await kubo.ipfs('files', 'stat', '--hash', mfs)).trim()
  } finally {
    await kubo.ipfs('files', 'rm', '-r', mfs)
  }
}

/** The block at `/<root>/<path>`: its CID, UnixFS type (or raw), links and size in bytes. */
async function blockAt (cars: string[], root: string, path: string[]): Promise<{ cid: CID, type: string, links: CID[], bytes: number }> {
  const sources = await Promise.all(cars.map(async (c) => await CarBlockSource.open(c)))
  try {
    const source = new FirstSource(sources)
    const node = await resolvePath(CID.parse(root), path, source)
    if (node == null) throw new Error(`${path.join('/')} not in ${root}`)
    const bytes = await source.get(node.cid)
    if (node.cid.code === 0x55) return { cid: node.cid, type: 'raw', links: [], bytes: bytes.length }
    const decoded = decodeUnixFS(node.cid, bytes)
    return { cid: node.cid, type: decoded.unixfs.type, links: decoded.node.Links.map((l) => l.Hash), bytes: bytes.length }
  } finally {
    await Promise.all(sources.map(async (s) => { await s.close() }))
  }
}

/** A CI-style tag of `length` (>= 78) characters: release date, build number, commit. */
function ciTag (i: number, length: number): string {
  return `release-2026.11.03-build.${String(i).padStart(5, '0')}-commit.${createHash('sha1').update(String(i)).digest('hex')}`.padEnd(length, '0')
}

describe('registry trees published by ipcr equal `ipfs add -r` of themselves in Kubo', () => {
  test('(a) one small image: same root, and the CAR holds exactly the blocks of the DAG', async () => {
    const result = await publishTo(small, 'team/app', ['v1'])
    expect(await kuboReAdd([result.car.path], result.rootCid)).toBe(result.rootCid)
    const car = await carContents(result.car.path)
    expect(car.root).toBe(result.rootCid)
    expect(car.cids).toEqual(await kuboBlocks(result.rootCid))
    expect(car.cids.size).toBe(result.car.blocks)
  })

  test('(b) thousands of files: two images under 2000 tags, the second published onto the first', async () => {
    const appTags = Array.from({ length: 1200 }, (_, i) => `1.${Math.floor(i / 100)}.${i % 100}`)
    const workerTags = Array.from({ length: 800 }, (_, i) => `w${i}`)
    const first = await publishTo(small, 'team/app', appTags)
    const second = await publishTo(worker, 'team/worker', workerTags, first, [first.car.path])
    const cars = [first.car.path, second.car.path]
    // Both `tags` folders stay basic directories (well under 256 KiB of links).
    expect((await blockAt(cars, second.rootCid, registryPaths.tags('team/app'))).type).toBe('directory')
    expect((await blockAt(cars, second.rootCid, registryPaths.tags('team/worker'))).type).toBe('directory')
    // 2000 tag folders of 6 files each (3 blobs, index.json, manifest.json, oci-layout): 12000 files on disk.
    expect(await kuboReAdd(cars, second.rootCid)).toBe(second.rootCid)
    // The two incremental CARs hold the whole DAG, and besides it only what the second
    // publish replaced: the first root, its /team folder and its catalog.json.
    const union = new Set([...(await carContents(first.car.path)).cids, ...(await carContents(second.car.path)).cids])
    const dag = await kuboBlocks(second.rootCid)
    expect([...dag].filter((cid) => !union.has(cid))).toEqual([])
    const replaced = await Promise.all([[], ['team'], registryPaths.catalog()].map(async (p) => (await blockAt([first.car.path], first.rootCid, p)).cid.toString()))
    expect([...union].filter((cid) => !dag.has(cid)).sort()).toEqual(replaced.sort())
  })

  test('(c) a tags folder of exactly 256 KiB stays basic, one tag more makes it a HAMT, and the HAMT takes edits', async () => {
    // Every link of the `tags` block costs its name plus the same overhead (CID, Tsize,
    // protobuf framing: 45 bytes here). 2113 tags of 79 or 80 characters leave the block
    // just under 262144 bytes; a 2114th tag of the right length fills it to exactly
    // 262144 (still basic: sharding starts strictly above) and one short tag more
    // pushes it over.
    const base = Array.from({ length: 2113 }, (_, i) => ciTag(i, i < 4 ? 80 : 79))
    const first = await publishTo(small, 'team/app', base)
    const path = registryPaths.tags('team/app')
    const before = await blockAt([first.car.path], first.rootCid, path)
    expect(before.type).toBe('directory')
    const names = base.reduce((n, t) => n + t.length, 0)
    const overhead = (before.bytes - 4 - names) / base.length // 4: the block's UnixFS Data field
    expect(overhead).toBe(45)
    const fill = SHARD_THRESHOLD_BYTES - before.bytes - overhead
    expect(fill).toBe(79)
    const exact = ciTag(9999, fill)
    const cars = [first.car.path]

    const atThreshold = await publishTo(small, 'team/app', [exact], first, cars)
    cars.push(atThreshold.car.path)
    const at = await blockAt(cars, atThreshold.rootCid, path)
    expect({ type: at.type, bytes: at.bytes }).toEqual({ type: 'directory', bytes: SHARD_THRESHOLD_BYTES })
    expect(await kuboReAdd(cars, atThreshold.rootCid)).toBe(atThreshold.rootCid)

    const over = await publishTo(small, 'team/app', ['latest'], atThreshold, cars)
    cars.push(over.car.path)
    expect((await blockAt(cars, over.rootCid, path)).type).toBe('hamt-sharded-directory')
    // Kubo's MFS, given the same edit, turns the folder into the same HAMT at the same point.
    expect(await kuboMfsReplay(cars, atThreshold.rootCid, over)).toBe(over.rootCid)

    // An edit inside the HAMT (a new tag, a replaced one, a new image), patched without a rebuild.
    const edited = await publishTo(large, 'team/app', ['latest', 'edge'], over, cars)
    cars.push(edited.car.path)
    expect((await blockAt(cars, edited.rootCid, path)).type).toBe('hamt-sharded-directory')
    expect(await kuboMfsReplay(cars, over.rootCid, edited)).toBe(edited.rootCid)
    expect(await kuboReAdd(cars, edited.rootCid)).toBe(edited.rootCid)
  })

  test('(d) files above 1 MiB: a 3 MiB layer is a file of four 1 MiB chunks', async () => {
    const result = await publishTo(large, 'ml/model', ['v1', 'latest'])
    const layers = (await describeLayoutImage(large, 'v1')).layerDigests
    const blob = await blockAt([result.car.path], result.rootCid, [...registryPaths.tag('ml/model', 'v1'), 'blobs', 'sha256', (layers[0] as string).slice('sha256:'.length)])
    expect(blob.type).toBe('file')
    expect(blob.links).toHaveLength(4)
    expect(blob.links.every((cid) => cid.code === 0x55)).toBe(true) // raw leaves
    expect(await kuboReAdd([result.car.path], result.rootCid)).toBe(result.rootCid)
  })
})
