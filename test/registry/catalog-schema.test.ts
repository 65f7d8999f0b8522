import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { TreeError } from '../../src/core/errors.js'
import { publish } from '../../src/core/publish.js'
import { CATALOG_LIMITS, emptyCatalog, encodeCatalog, parseCatalog, updateCatalog } from '../../src/core/registry/catalog.js'
import { buildDirectory } from '../../src/core/unixfs/directory.js'
import { editTree } from '../../src/core/unixfs/edit.js'
import { importBytes } from '../../src/core/unixfs/file.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'

const cid = 'bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354'
const where = `previous root ${cid}`
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

function tagEntry (tag = 'v1'): Record<string, unknown> {
  return { tag, digest: `sha256:${'a'.repeat(64)}`, platforms: ['linux/arm64/v8'], size: 10, cid, published: '2026-01-02T03:04:05.678Z' }
}

function good (): any {
  return { schemaVersion: 1, updated: '2026-01-02T03:04:05.678Z', images: [{ name: 'team/app', description: 'd [[[[[[[[[[', tags: [tagEntry()] }] }
}

function parse (value: unknown): unknown {
  return parseCatalog(bytes(JSON.stringify(value)), where)
}

describe('catalog.json of a previous root', () => {
  it('reads a valid catalog', () => {
    expect(parse(good())).toEqual(good())
    expect(parse({ ...good(), images: [] })).toEqual({ ...good(), images: [] })
  })

  it.each([
    ['images:[null]', (c: any) => { c.images = [null] }, 'images[0] is not an object'],
    ['tags:"str"', (c: any) => { c.images[0].tags = 'str' }, 'images[0].tags is not an array'],
    ['a tag entry {"tag":5}', (c: any) => { c.images[0].tags = [{ tag: 5 }] }, "images[0].tags[0] has no 'digest'"],
    ['a tag that is a number', (c: any) => { c.images[0].tags[0].tag = 5 }, 'images[0].tags[0].tag is not a string'],
    ['a tag outside the grammar', (c: any) => { c.images[0].tags[0].tag = '../x' }, "images[0].tags[0].tag '../x' is not a tag"],
    ['a tag with a newline', (c: any) => { c.images[0].tags[0].tag = 'v1\n::add-mask::x' }, "images[0].tags[0].tag 'v1\\n::add-mask::x' contains control characters"],
    ['a tag listed twice', (c: any) => { c.images[0].tags.push(tagEntry()) }, "images[0].tags[1].tag 'v1' is listed twice"],
    ['a reserved name', (c: any) => { c.images[0].name = 'catalog.json/x' }, "images[0].name 'catalog.json/x' is not a repository name the registry tree allows"],
    ['a name listed twice', (c: any) => { c.images.push(good().images[0]) }, "images[1].name 'team/app' is listed twice"],
    ['a name that is null', (c: any) => { c.images[0].name = null }, 'images[0].name is not a string'],
    ['a bad digest', (c: any) => { c.images[0].tags[0].digest = 'x' }, "images[0].tags[0].digest 'x' is not a digest"],
    ['platforms that are a string', (c: any) => { c.images[0].tags[0].platforms = 'linux' }, 'images[0].tags[0].platforms is not an array'],
    ['a platform with a command', (c: any) => { c.images[0].tags[0].platforms = ['linux/amd64', 'linux/x\n::warning::y'] }, 'images[0].tags[0].platforms[1] ' + "'linux/x\\n::warning::y' contains control characters"],
    ['a platform with markup', (c: any) => { c.images[0].tags[0].platforms = ['<b>/x'] }, "images[0].tags[0].platforms[0] '<b>/x' is not a platform such as linux/arm64/v8"],
    ['a negative size', (c: any) => { c.images[0].tags[0].size = -1 }, 'images[0].tags[0].size is not a byte count'],
    ['a size as text', (c: any) => { c.images[0].tags[0].size = '10' }, 'images[0].tags[0].size is not a byte count'],
    ['a bad CID', (c: any) => { c.images[0].tags[0].cid = 'not-a-cid' }, "images[0].tags[0].cid 'not-a-cid' is not a CID"],
    ['a bad timestamp', (c: any) => { c.images[0].tags[0].published = 'yesterday' }, "images[0].tags[0].published 'yesterday' is not a UTC timestamp"],
    ['a revision that is a number', (c: any) => { c.images[0].tags[0].revision = 5 }, 'images[0].tags[0].revision is not a string'],
    ['a description with a terminal sequence', (c: any) => { c.images[0].description = 'x\u001b[2J' }, "images[0].description 'x\\x1b[2J' contains control characters"],
    ['a long description', (c: any) => { c.images[0].description = 'x'.repeat(2000) }, 'images[0].description is 2000 characters long, more than the limit of 1024'],
    ['an unknown key in a tag', (c: any) => { c.images[0].tags[0].extra = 1 }, "images[0].tags[0] has an unknown key 'extra'"],
    ['an unknown key in an image', (c: any) => { c.images[0].__proto__x = 1 }, "images[0] has an unknown key '__proto__x'"],
    ['an unknown key at the top', (c: any) => { c.more = [] }, "the catalog has an unknown key 'more'"],
    ['schema version 2', (c: any) => { c.schemaVersion = 2 }, 'schemaVersion is not 1'],
    ['no updated', (c: any) => { delete c.updated }, "the catalog has no 'updated'"],
    ['too many images', (c: any) => { c.images = new Array(CATALOG_LIMITS.images + 1).fill(0) }, `images has ${CATALOG_LIMITS.images + 1} entries, more than the limit of ${CATALOG_LIMITS.images}`],
    ['too many tags', (c: any) => { c.images[0].tags = new Array(CATALOG_LIMITS.tags + 1).fill(0) }, `images[0].tags has ${CATALOG_LIMITS.tags + 1} entries, more than the limit of ${CATALOG_LIMITS.tags}`],
    ['an array at the top', (c: any) => { c.images = undefined }, "the catalog has no 'images'"]
  ])('refuses %s, naming the root, the file and the field', (_what, change, message) => {
    const catalog = good()
    change(catalog)
    expect(() => parse(catalog)).toThrow(TreeError)
    expect(() => parse(catalog)).toThrow(`catalog.json of ${where}: ${message}`)
  })

  it('refuses deep JSON before parsing it, and counts brackets only outside strings', () => {
    for (const deep of ['['.repeat(200_000) + ']'.repeat(200_000), '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), '[[[[[[[[[1]]]]]]]]]']) {
      expect(() => parseCatalog(bytes(deep), where)).toThrow(`catalog.json of ${where}: the JSON is nested deeper than ${CATALOG_LIMITS.depth} levels`)
    }
    const quoted = good()
    quoted.images[0].description = '"\\[[[[[[[[[[[[[{{{{{{{{{{'
    expect(parse(quoted)).toEqual(quoted)
  })

  it('refuses too many values, too many bytes, invalid JSON and invalid UTF-8', () => {
    expect(() => parseCatalog(bytes(`{"x":[${'0,'.repeat(CATALOG_LIMITS.values)}0]}`), where)).toThrow(`catalog.json of ${where}: the JSON has more than ${CATALOG_LIMITS.values} values`)
    expect(() => parseCatalog(new Uint8Array(CATALOG_LIMITS.bytes + 1).fill(0x20), where)).toThrow(`catalog.json of ${where}: the file is ${CATALOG_LIMITS.bytes + 1} bytes, more than the limit of ${CATALOG_LIMITS.bytes}`)
    expect(() => parseCatalog(bytes('{"schemaVersion":1,'), where)).toThrow(`catalog.json of ${where}: the file is not valid UTF-8 JSON`)
    expect(() => parseCatalog(new Uint8Array([0x22, 0xff, 0x22]), where)).toThrow(`catalog.json of ${where}: the file is not valid UTF-8 JSON`)
  })

  it('never writes a catalog it would refuse to read', () => {
    const tag = { ...tagEntry(), published: 'now' } as any
    expect(() => updateCatalog(emptyCatalog(), { name: 'team/app', tags: [tag], updated: '2026-01-02T03:04:05.678Z' }))
      .toThrow("catalog.json of the new root: images[0].tags[0].published 'now' is not a UTC timestamp")
  })
})

describe('publishing onto a previous root with a corrupt catalog.json', () => {
  let dir: string
  let layout: string
  let first: { root: CID, car: CarBlockSource }

  beforeAll(async () => {
    dir = await makeTempDir('ipcr-catalog-')
    layout = join(dir, 'layout')
    await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'catalog\n' } }] })
    const result = await publish({ image: { kind: 'file', path: layout }, name: 'team/app', tags: ['v1'], carPath: join(dir, 'first.car'), tempDir: dir })
    first = { root: CID.parse(result.rootCid), car: await CarBlockSource.open(result.car.path) }
  })

  afterAll(async () => {
    await first.car.close()
    await rm(dir, { recursive: true, force: true })
  })

  /** The first root with catalog.json replaced by `content` (bytes, or a directory). */
  async function corruptRoot (content: Uint8Array | 'directory'): Promise<{ root: CID, store: MemoryBlockStore }> {
    const store = new MemoryBlockStore()
    const node = content === 'directory' ? await buildDirectory([], store) : await importBytes(content, store)
    const root = await editTree(first.root, [{ path: ['catalog.json'], node }], first.car, store)
    return { root: root.cid, store }
  }

  it.each([
    ['an entry {"tag":5}', bytes(JSON.stringify({ ...good(), images: [{ name: 'team/app', tags: [{ tag: 5 }] }] })), "images[0].tags[0] has no 'digest'"],
    ['images:[null]', bytes(JSON.stringify({ ...good(), images: [null] })), 'images[0] is not an object'],
    ['deep JSON', bytes('['.repeat(500_000) + ']'.repeat(500_000)), 'the JSON is nested deeper than 8 levels'],
    ['a folder', 'directory' as const, 'is not a file']
  ])('%s fails the publish with a TreeError and writes no CAR', async (_what, content, message) => {
    const { root, store } = await corruptRoot(content)
    const carPath = join(dir, 'second.car')
    const attempt = publish({ image: { kind: 'file', path: layout }, name: 'team/other', tags: ['v2'], previousRoot: root, sources: [store, first.car], carPath, tempDir: dir })
    await expect(attempt).rejects.toThrow(TreeError)
    // Reading the file names the root and path; checking its content names the file of that root.
    await expect(attempt).rejects.toThrow(content === 'directory' ? `previous root ${root.toString()}, /catalog.json: ` : `catalog.json of previous root ${root.toString()}: `)
    await expect(attempt).rejects.toThrow(message)
    expect(existsSync(carPath)).toBe(false)
    expect(existsSync(`${carPath}.partial`)).toBe(false)
  })

  it('a valid previous catalog is carried forward', async () => {
    const { root, store } = await corruptRoot(encodeCatalog(parseCatalog(bytes(JSON.stringify(good())))))
    const result = await publish({ image: { kind: 'file', path: layout }, name: 'team/other', tags: ['v2'], previousRoot: root, sources: [store, first.car], carPath: join(dir, 'third.car'), tempDir: dir })
    expect(result.rootCid).toMatch(/^bafy/)
  })
})
