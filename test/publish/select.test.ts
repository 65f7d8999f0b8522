import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { InputError } from '../../src/core/errors.js'
import { readFileBytes, resolvePath } from '../../src/core/unixfs/tree.js'
import { publish, sourceDateEpoch, type PublishOptions, type PublishResult } from '../../src/core/publish.js'
import { parseCatalog } from '../../src/core/registry/catalog.js'
import { buildOciLayout, dockerBuild, dockerRemove, makeTempDir, regctlExport, skopeoCopy, uniqueName } from '../helpers/images.js'
import { run } from '../helpers/tools.js'
import { extractFromCars } from './helpers.js'

let dir: string
let layout: string
/** A layout holding only layout's `1.0`. */
let single: string
let one: { id: string, ref: string }
let two: { app: string, tool: string, appId: string, toolId: string, file: string }

beforeAll(async () => {
  dir = await makeTempDir('ipcr-select-')
  // An OCI layout with two images, refs `1.0` and `tool`.
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: '1.0', layers: [{ files: { 'app.txt': 'app\n' } }] })
  await buildOciLayout(layout, { tag: 'tool', layers: [{ files: { 'tool.txt': 'tool\n' } }] })
  single = join(dir, 'single-layout')
  await skopeoCopy(`oci:${layout}:1.0`, `oci:${single}:1.0`)
  // `docker save` of two images into one archive (podman's Docker API).
  const base = uniqueName('team')
  const app = `${base}/app:1.1`
  const tool = `${base}/tool:0.1`
  const appId = await dockerBuild(app, { 'app.txt': 'app\n' })
  const toolId = await dockerBuild(tool, { 'tool.txt': 'tool\n' })
  const file = join(dir, 'two.tar')
  await run('docker', ['save', '--output', file, app, tool])
  two = { app, tool, appId, toolId, file }
  const ref = `${uniqueName('team')}/single:1.0`
  one = { id: await dockerBuild(ref, { 'one.txt': 'one\n' }), ref }
}, 120_000)

afterAll(async () => {
  for (const ref of [two?.app, two?.tool, one?.ref]) if (ref != null) await dockerRemove(ref)
  await rm(dir, { recursive: true, force: true })
})

async function publishFile (image: PublishOptions['image'], extra: Partial<PublishOptions> = {}): Promise<PublishResult> {
  return await publish({ image, name: 'team/x', tags: ['t'], carPath: join(dir, `${uniqueName('car')}.car`), tempDir: dir, ...extra })
}

/** The config digest (image ID) of a published tag, read from the CAR. */
async function publishedConfig (result: PublishResult, tag = result.tags[0]?.tag as string): Promise<string> {
  const folder = await extractFromCars([result.car.path as string], result.rootCid, [...result.name.split('/'), 'tags', tag])
  try {
    const blob = async (digest: string): Promise<any> => JSON.parse(await readFile(join(folder, 'blobs', 'sha256', digest.slice(7)), 'utf8'))
    const index = JSON.parse(await readFile(join(folder, 'index.json'), 'utf8'))
    return (await blob(index.manifests[0].digest)).config.digest
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}

async function configOfLayoutRef (ref: string): Promise<string> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'))
  const entry = index.manifests.find((m: any) => m.annotations?.['org.opencontainers.image.ref.name'] === ref)
  return JSON.parse(await readFile(join(layout, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8')).config.digest
}

describe('choosing one image of an archive by reference', () => {
  test('docker save of two images: the reference picks the second', async () => {
    const result = await publishFile({ kind: 'file', path: two.file, ref: two.tool }, { name: undefined, tags: [] })
    expect(await publishedConfig(result)).toBe(two.toolId)
    expect(result.name).toBe(two.tool.slice(0, two.tool.lastIndexOf(':')))
    expect(result.tags.map((t) => t.tag)).toEqual(['0.1'])
    // The short and the docker.io/localhost spellings name it too, and so does its image ID.
    expect(await publishedConfig(await publishFile({ kind: 'file', path: two.file, ref: `localhost/${two.app}` }))).toBe(two.appId)
    expect(await publishedConfig(await publishFile({ kind: 'file', path: two.file, ref: two.toolId }))).toBe(two.toolId)
  })

  test('docker save of two images and no reference: an error listing both, nothing written', async () => {
    const carPath = join(dir, 'none.car')
    const err = await publishFile({ kind: 'file', path: two.file }, { carPath }).catch((e) => e)
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toMatch(/^Input 'image-file': .*two\.tar holds 2 images: .*app:1\.1.*, .*tool:0\.1.*; choose one by reference with 'image'/)
    expect(existsSync(carPath)).toBe(false)
  })

  test('a reference the archive does not hold: an error listing what it holds', async () => {
    const err = await publishFile({ kind: 'file', path: two.file, ref: 'team/other:1' }).catch((e) => e)
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toMatch(/^Input 'image': .*two\.tar holds no image named 'team\/other:1'; it holds .*app:1\.1.*tool:0\.1/)
    const err2 = await publishFile({ kind: 'file', path: layout, ref: '2.0' }).catch((e) => e)
    expect(err2.message).toMatch(/holds no image named '2\.0'; it holds '1\.0', 'tool'/)
  })

  test('an OCI layout with refs 1.0 and tool: DIR:REF and ref pick tool, and its tag is the default', async () => {
    const toolConfig = await configOfLayoutRef('tool')
    expect(toolConfig).not.toBe(await configOfLayoutRef('1.0'))
    const byPath = await publishFile({ kind: 'file', path: `${layout}:tool` }, { tags: [] })
    expect(await publishedConfig(byPath)).toBe(toolConfig)
    expect(byPath.tags.map((t) => t.tag)).toEqual(['tool'])
    expect(byPath.name).toBe('team/x')
    const byRef = await publishFile({ kind: 'file', path: layout, ref: 'tool' })
    expect(await publishedConfig(byRef)).toBe(toolConfig)
    await expect(publishFile({ kind: 'file', path: layout })).rejects.toThrow(/holds 2 images: '1\.0', 'tool'/)
    await expect(publishFile({ kind: 'file', path: `${layout}:tool`, ref: '1.0' })).rejects.toThrow(/name different images/)
  })

  test('Docker 25+ archive (regctl export): chosen by its name', async () => {
    const file = join(dir, 'docker25.tar')
    await regctlExport(layout, 'tool', file, 'example.com/team/tool:2.0')
    const result = await publishFile({ kind: 'file', path: file, ref: 'example.com/team/tool:2.0' }, { name: undefined, tags: [] })
    expect(await publishedConfig(result)).toBe(await configOfLayoutRef('tool'))
    expect(result.name).toBe('team/tool')
    expect(result.tags.map((t) => t.tag)).toEqual(['2.0'])
  })
})

describe('default tags come from the archive', () => {
  test('an archive tagged team/app:1.0 publishes as team/app:1.0, not latest', async () => {
    const file = join(dir, 'one.tar')
    await run('docker', ['save', '--output', file, one.ref])
    const result = await publishFile({ kind: 'file', path: file }, { name: undefined, tags: [] })
    expect(result.name).toBe(one.ref.slice(0, one.ref.lastIndexOf(':')))
    expect(result.tags.map((t) => t.tag)).toEqual(['1.0'])
  })

  test('skopeo docker-archive and OCI layout naming one tag', async () => {
    const file = join(dir, 'skopeo.tar')
    await skopeoCopy(`oci:${layout}:tool`, `docker-archive:${file}:team/tool:3.1`)
    const result = await publishFile({ kind: 'file', path: file }, { name: undefined, tags: [] })
    expect([result.name, result.tags.map((t) => t.tag)]).toEqual(['team/tool', ['3.1']])
    expect((await publishFile({ kind: 'file', path: single }, { tags: [] })).tags.map((t) => t.tag)).toEqual(['1.0'])
  })
})

describe('reproducible roots', () => {
  test('two publishes of the same image with the same inputs give the same root', async () => {
    const image = { kind: 'file' as const, path: single }
    const a = await publishFile(image)
    const b = await publishFile(image)
    expect(b.rootCid).toBe(a.rootCid)
    // The catalog records the image's creation time.
    const config = JSON.parse(await readFile(join(layout, 'blobs', 'sha256', (await configOfLayoutRef('1.0')).slice(7)), 'utf8'))
    const catalog = await catalogOf(a)
    expect(catalog.updated).toBe(new Date(config.created).toISOString())
    expect(catalog.images[0]?.tags[0]?.published).toBe(new Date(config.created).toISOString())
  })

  test('SOURCE_DATE_EPOCH (read by the shell, passed as now) is what catalog.json records, and gives the same root', async () => {
    const image = { kind: 'file' as const, path: single }
    const a = await publishFile(image, { now: sourceDateEpoch('1700000000') })
    const b = await publishFile(image, { now: sourceDateEpoch(' 1700000000\n') })
    expect(b.rootCid).toBe(a.rootCid)
    expect((await catalogOf(a)).updated).toBe('2023-11-14T22:13:20.000Z')
    expect(sourceDateEpoch(undefined)).toBeUndefined()
    expect(sourceDateEpoch('')).toBeUndefined()
    expect(() => sourceDateEpoch('2023-11-14')).toThrow(/^Input 'SOURCE_DATE_EPOCH': '2023-11-14' is not a time in seconds since 1970/)
  })
})

async function catalogOf (result: PublishResult): Promise<ReturnType<typeof parseCatalog>> {
  const car = await CarBlockSource.open(result.car.path as string)
  try {
    const node = await resolvePath(CID.parse(result.rootCid), ['catalog.json'], car)
    if (node == null) throw new Error('no catalog.json')
    return parseCatalog(await readFileBytes(node.cid, car, { maxBytes: 1 << 20 }))
  } finally {
    await car.close()
  }
}
