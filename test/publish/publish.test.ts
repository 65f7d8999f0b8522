import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, rm, truncate, copyFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { FirstSource } from '../../src/core/blocks/multi.js'
import { InputError, IpcrError } from '../../src/core/errors.js'
import { nodeCommandRunner } from '../../src/core/image/docker.js'
import { publish, type KeptCar, type PublishResult } from '../../src/core/publish.js'
import { readDirectory } from '../../src/core/unixfs/directory.js'
import { readFileBytes, resolvePath } from '../../src/core/unixfs/tree.js'
import {
  buildMultiPlatformLayout, buildOciLayout, dockerBuild, dockerImageId, dockerLoad, dockerRemove, dockerSave, makeTempDir, regctlExport,
  skopeoCopy, uniqueName, tarDirectory
} from '../helpers/images.js'
import { run } from '../helpers/tools.js'
import { carContents, extractFromCars, umociAddLayer } from './helpers.js'

let dir: string
let layout: string
const big = randomBytes(3 * 1024 * 1024 + 5)

beforeAll(async () => {
  dir = await makeTempDir('ipcr-publish-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, {
    tag: 'v1',
    labels: { 'org.opencontainers.image.description': 'publish test image' },
    layers: [{ files: { 'base/big.bin': big, 'base/readme.txt': 'base layer\n' } }, { files: { 'app.txt': 'v1\n' } }]
  })
  await umociAddLayer(layout, 'v1', 'v2', { 'app.txt': 'v2\n' })
})

const openCars: CarBlockSource[] = []
/** Opens a CAR as a block source; closed after each test. */
async function openCar (path: string): Promise<CarBlockSource> {
  const car = await CarBlockSource.open(path)
  openCars.push(car)
  return car
}

afterEach(async () => {
  await Promise.all(openCars.splice(0).map(async (car) => { await car.close() }))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function publishFile (path: string, extra: Partial<Parameters<typeof publish>[0]> = {}): Promise<PublishResult & KeptCar> {
  return await publish({
    image: { kind: 'file', path },
    name: 'team/app',
    tags: ['v1'],
    carPath: join(dir, `${uniqueName('car')}.car`),
    tempDir: dir,
    ...extra
  })
}

/** Extracts the tag folder from the CARs, docker-loads it and returns the image ID docker reports. */
async function loadFromCars (result: PublishResult, cars: string[], tag: string): Promise<string> {
  const folder = await extractFromCars(cars, result.rootCid, [...result.name.split('/'), 'tags', tag])
  const ref = `localhost/${result.name}:${tag}`
  await dockerRemove(ref)
  try {
    await dockerLoad(folder)
    return await dockerImageId(ref)
  } finally {
    await dockerRemove(ref)
    await rm(folder, { recursive: true, force: true })
  }
}

describe('publish, then docker load the tag folder taken out of the CAR', () => {
  test('legacy docker save (podman)', async () => {
    const tag = `localhost/${uniqueName('legacy')}:1`
    const id = await dockerBuild(tag, { 'hello.txt': 'legacy\n', 'data.bin': randomBytes(2 * 1024 * 1024) }, { 'org.opencontainers.image.description': 'legacy image' })
    const file = join(dir, 'legacy.tar')
    await dockerSave(tag, file)
    await dockerRemove(tag)
    const result = await publishFile(file)
    expect(result.sourceFormat).toBe('docker-archive')
    expect(result.description).toBe('legacy image')
    expect(await loadFromCars(result, [result.car.path], 'v1')).toBe(id)
  })

  test('Docker 25+ docker save (OCI layout + manifest.json)', async () => {
    const file = join(dir, 'docker25.tar')
    await regctlExport(layout, 'v1', file)
    const result = await publishFile(file)
    expect(result.sourceFormat).toBe('docker-oci-archive')
    const config = await configDigest('v1')
    expect(await loadFromCars(result, [result.car.path], 'v1')).toBe(config)
  })

  test('buildx type=oci (pure OCI layout tar) and skopeo oci-archive', async () => {
    const config = await configDigest('v1')
    const ociTar = join(dir, 'buildx-oci.tar')
    const single = join(dir, 'single')
    await skopeoCopy(`oci:${layout}:v1`, `oci:${single}:v1`)
    await tarDirectory(single, ociTar)
    const skopeoTar = join(dir, 'skopeo-oci.tar')
    await skopeoCopy(`oci:${layout}:v1`, `oci-archive:${skopeoTar}:v1`)
    for (const file of [ociTar, skopeoTar]) {
      const result = await publishFile(file)
      expect(result.sourceFormat).toBe('oci-layout')
      expect(await loadFromCars(result, [result.car.path], 'v1')).toBe(config)
    }
  })

  test('skopeo docker-archive, and skopeo reads the tag folder as an OCI layout', async () => {
    const file = join(dir, 'skopeo-docker.tar')
    await skopeoCopy(`oci:${layout}:v1`, `docker-archive:${file}:team/app:v1`)
    const result = await publishFile(file)
    expect(result.sourceFormat).toBe('docker-archive')
    const folder = await extractFromCars([result.car.path], result.rootCid, ['team', 'app', 'tags', 'v1'])
    const raw = await run('skopeo', ['inspect', '--raw', `oci:${folder}:v1`])
    expect(JSON.parse(raw).schemaVersion).toBe(2)
    const inspected = JSON.parse(await run('skopeo', ['inspect', `oci:${folder}:v1`]))
    expect(inspected.Digest).toBe(result.digest)
    expect(await loadFromCars(result, [result.car.path], 'v1')).toBe(await configDigest('v1'))
  })
})

async function configDigest (tag: string): Promise<string> {
  const out = await run('skopeo', ['inspect', '--config', `oci:${layout}:${tag}`, '--raw'])
  const { createHash } = await import('node:crypto')
  return `sha256:${createHash('sha256').update(out).digest('hex')}`
}

describe('registry tree', () => {
  test('several tags share every blob; catalog.json and README-short.txt are written', async () => {
    const result = await publishFile(`${layout}:v1`, { tags: ['v1', 'latest'], revision: 'abc123', now: new Date('2026-11-01T00:00:00Z') })
    const source = await openCar(result.car.path)
    const root = CID.parse(result.rootCid)
    const v1 = await resolvePath(root, ['team', 'app', 'tags', 'v1', 'blobs'], source)
    const latest = await resolvePath(root, ['team', 'app', 'tags', 'latest', 'blobs'], source)
    expect(v1?.cid.toString()).toBe(latest?.cid.toString())
    expect(result.tags.map((t) => t.tag)).toEqual(['v1', 'latest'])
    const readme = await resolvePath(root, ['team', 'app', 'README-short.txt'], source)
    expect(new TextDecoder().decode(await readFileBytes(readme!.cid, source, { maxBytes: 1024 }))).toBe('publish test image\n')
    const catalogNode = await resolvePath(root, ['catalog.json'], source)
    const catalog = JSON.parse(new TextDecoder().decode(await readFileBytes(catalogNode!.cid, source, { maxBytes: 1 << 20 })))
    expect(catalog.images).toEqual([{
      name: 'team/app',
      description: 'publish test image',
      tags: ['latest', 'v1'].map((tag) => ({
        tag,
        digest: result.digest,
        platforms: ['linux/amd64'],
        size: result.size,
        cid: result.tags.find((t) => t.tag === tag)?.cid,
        published: '2026-11-01T00:00:00.000Z',
        revision: 'abc123'
      }))
    }])
    expect((await readDirectory(root, source)).map((e) => e.name)).toEqual(['catalog.json', 'team'])
  })

  test('a second publish on previous-root leaves shared layers out of its CAR; both CARs together hold both tags', async () => {
    // The layout holds v1 and v2: DIR:REF picks one.
    const v2 = `${layout}:v2`
    const now = new Date('2026-11-02T00:00:00Z')
    const first = await publishFile(`${layout}:v1`, { tags: ['v1'] })
    const second = await publishFile(v2, {
      tags: ['v2'],
      now,
      previousRoot: CID.parse(first.rootCid),
      sources: [await openCar(first.car.path)]
    })
    expect(second.reusedBlobs).toBeGreaterThanOrEqual(1)
    const a = await carContents(first.car.path)
    const b = await carContents(second.car.path)
    expect(b.root).toBe(second.rootCid)
    const shared = [...b.cids].filter((c) => a.cids.has(c))
    // Only tiny blocks (e.g. identical small JSON files) may repeat; the 3 MiB base layer must not.
    const source = await openCar(first.car.path)
    const baseBlob = await resolvePath(CID.parse(first.rootCid), ['team', 'app', 'tags', 'v1', 'blobs', 'sha256'], source)
    const blobs = await readDirectory(baseBlob!.cid, source)
    const biggest = blobs.reduce((m, e) => e.size > m.size ? e : m)
    expect(biggest.size).toBeGreaterThan(3 * 1024 * 1024)
    expect(b.cids.has(biggest.cid.toString())).toBe(false)
    expect(shared.length).toBeLessThan(5)
    expect((await stat(second.car.path)).size).toBeLessThan(1024 * 1024)
    const cars = [first.car.path, second.car.path]
    expect(await loadFromCars(second, cars, 'v1')).toBe(await configDigest('v1'))
    expect(await loadFromCars(second, cars, 'v2')).toBe(await configDigest('v2'))
    // car-scope full: one CAR with the whole registry.
    const full = await publishFile(v2, { tags: ['v2'], now, previousRoot: CID.parse(first.rootCid), sources: [await openCar(first.car.path)], carScope: 'full' })
    expect(full.rootCid).toBe(second.rootCid)
    expect((await stat(full.car.path)).size).toBeGreaterThan(3 * 1024 * 1024)
    expect(await loadFromCars(full, [full.car.path], 'v1')).toBe(await configDigest('v1'))
  })
})

describe('cost of an update', () => {
  test('reads a bounded number of blocks however many tags the repository has', async () => {
    const many = Array.from({ length: 60 }, (_, i) => `t${i}`)
    const first = await publishFile(`${layout}:v1`, { tags: many })
    const car = await openCar(first.car.path)
    let reads = 0
    const counting = { label: 'counting', get: async (cid: CID) => { reads++; return await car.get(cid) } }
    const second = await publishFile(`${layout}:v1`, { tags: ['new'], previousRoot: CID.parse(first.rootCid), sources: [counting] })
    expect(second.reusedBlobs).toBeGreaterThan(0)
    // root, image folders, tags/, catalog.json and 8 recent tags' blob folders; not 60 tags' worth.
    expect(reads).toBeLessThan(45)
  })

  test('with tags/ sharded (3000 tags), an update reads the shards on its hash paths, not the whole HAMT', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `release-${i}-${'b'.repeat(40)}`)
    const first = await publishFile(`${layout}:v1`, { tags: many })
    const car = await openCar(first.car.path)
    const tags = await resolvePath(CID.parse(first.rootCid), ['team', 'app', 'tags'], car)
    expect(UnixFS.unmarshal(dagPb.decode(await car.get(tags!.cid)).Data!).type).toBe('hamt-sharded-directory')
    let reads = 0
    const counting = { label: 'counting', get: async (cid: CID) => { reads++; return await car.get(cid) } }
    const second = await publishFile(`${layout}:v1`, { tags: ['new'], previousRoot: CID.parse(first.rootCid), sources: [counting] })
    // Most reads find the 8 recent tags' blob folders (about 5 blocks each through the HAMT).
    // Reading tags/ whole, as before, took 385.
    expect(reads).toBeLessThan(60)
    // tags/ is the folder that publishing every tag at once gives.
    const once = await publishFile(`${layout}:v1`, { tags: [...many, 'new'] })
    const a = await resolvePath(CID.parse(second.rootCid), ['team', 'app', 'tags'], new FirstSource([await openCar(second.car.path), car]))
    const b = await resolvePath(CID.parse(once.rootCid), ['team', 'app', 'tags'], await openCar(once.car.path))
    expect(a?.cid.toString()).toBe(b?.cid.toString())
  }, 120_000)
})

describe('multi-platform', () => {
  test('an index of two platforms publishes under the index digest; docker load takes linux/amd64', async () => {
    const multiDir = join(dir, 'multi')
    const multi = await buildMultiPlatformLayout(multiDir)
    const single = join(dir, 'multi-only')
    await skopeoCopy(`oci:${multiDir}:multi`, `oci:${single}:multi`, ['--all'])
    const result = await publishFile(single, { tags: ['multi'] })
    expect(result.digest).toBe(multi.indexDigest)
    expect(result.platforms.sort()).toEqual(['linux/amd64', 'linux/arm64'])
    expect(await loadFromCars(result, [result.car.path], 'multi')).toBe(multi.amd64.configDigest)
  })
})

describe('image from Docker', () => {
  test('exports with docker save and publishes under the reference tag', async () => {
    const ref = `localhost/${uniqueName('fromdocker')}:7.1`
    const id = await dockerBuild(ref, { 'x.txt': 'from docker\n' })
    const result = await publish({ image: { kind: 'docker', ref, run: nodeCommandRunner }, tags: [], carPath: join(dir, 'docker.car'), tempDir: dir })
    expect(result.name).toBe(ref.slice('localhost/'.length, ref.lastIndexOf(':')))
    expect(result.tags.map((t) => t.tag)).toEqual(['7.1'])
    await dockerRemove(ref)
    const folder = await extractFromCars([result.car.path], result.rootCid, [...result.name.split('/'), 'tags', '7.1'])
    await dockerLoad(folder)
    expect(await dockerImageId(`localhost/${result.name}:7.1`)).toBe(id)
    await dockerRemove(`localhost/${result.name}:7.1`)
  })

  test('an image Docker does not have is an input error and writes nothing', async () => {
    const carPath = join(dir, 'missing.car')
    await expect(publish({ image: { kind: 'docker', ref: 'localhost/no-such-image:1', run: nodeCommandRunner }, tags: [], carPath, tempDir: dir }))
      .rejects.toThrow(/Input 'image'.*no-such-image/)
    expect(existsSync(carPath)).toBe(false)
  })
})

describe('bad input writes nothing', () => {
  test('a truncated archive', async () => {
    const file = join(dir, 'truncated.tar')
    await regctlExport(layout, 'v1', file)
    await truncate(file, Math.floor((await stat(file)).size / 2))
    const carPath = join(dir, 'truncated.car')
    const err = await publishFile(file, { carPath }).catch((e) => e)
    expect(err).toBeInstanceOf(IpcrError)
    expect(err.message).toMatch(/^Input 'image-file': .*truncated/)
    expect((await readdir(dir)).filter((f) => f.startsWith('truncated.car'))).toEqual([])
  })

  test('a layer whose bytes do not match its digest', async () => {
    const copy = join(dir, 'corrupt')
    await run('cp', ['-a', layout, copy])
    const { layerDigests } = await import('../helpers/images.js').then(async (m) => await m.describeLayoutImage(copy, 'v1'))
    const blob = join(copy, 'blobs', 'sha256', (layerDigests[0] as string).slice(7))
    await copyFile(blob, `${blob}.orig`)
    await run('sh', ['-c', `printf 'X' | dd of=${blob} bs=1 seek=100 conv=notrunc status=none`])
    const carPath = join(dir, 'corrupt.car')
    await expect(publishFile(`${copy}:v1`, { carPath })).rejects.toThrow(/hashes to sha256:.*expected/)
    expect(existsSync(carPath)).toBe(false)
    expect(existsSync(`${carPath}.partial`)).toBe(false)
  })

  test('a CAR path in a missing folder or naming a folder names car-path and the path, not the .partial file', async () => {
    const missing = join(dir, 'no-such-folder', 'k.car')
    const err = await publishFile(`${layout}:v1`, { carPath: missing }).catch((e) => e)
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toBe(`Input 'car-path': cannot write the CAR to '${missing}': its folder does not exist (ENOENT)`)
    const folder = await makeTempDir('ipcr-car-folder-')
    const err2 = await publishFile(`${layout}:v1`, { carPath: folder }).catch((e) => e)
    expect(err2).toBeInstanceOf(InputError)
    expect(err2.message).toMatch(new RegExp(`^Input 'car-path': '${folder}' is a folder; give the path of a file`))
    expect(await readdir(folder)).toEqual([])
    expect(existsSync(`${folder}.partial`)).toBe(false)
  })

  test('invalid names and tags', async () => {
    await expect(publishFile(`${layout}:v1`, { name: 'Team/App' })).rejects.toThrow(/Input 'name'/)
    await expect(publishFile(`${layout}:v1`, { tags: ['-bad'] })).rejects.toThrow(/Input 'tags'/)
  })
})
