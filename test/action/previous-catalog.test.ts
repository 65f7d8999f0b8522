import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { CarFileWriter } from '../../src/core/car/writer.js'
import { editTree } from '../../src/core/unixfs/edit.js'
import { importBytes } from '../../src/core/unixfs/file.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { runAction } from '../helpers/action.js'

let dir: string
let layout: string

beforeAll(async () => {
  dir = await makeTempDir('ipcr-previous-catalog-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'previous catalog\n' } }] })
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Writes a CAR of the blocks that turn `root` into a root whose catalog.json holds `text`; returns the new root. */
async function withCatalog (root: string, rootCar: string, text: string, carPath: string): Promise<string> {
  const source = await CarBlockSource.open(rootCar)
  const car = await CarFileWriter.create(carPath)
  try {
    const node = await importBytes(new TextEncoder().encode(text), car)
    const edited = await editTree(CID.parse(root), [{ path: ['catalog.json'], node }], source, car)
    await car.close(edited.cid)
    return edited.cid.toString()
  } finally {
    await source.close()
  }
}

describe('a previous root whose catalog.json is corrupt', () => {
  test('fails the action with an error naming the root, the file and the field; nothing is copied forward', async () => {
    const first = await runAction({ 'image-file': layout, name: 'team/app', tags: 'v1', 'car-path': join(dir, 'first.car') })
    expect(first.code).toBe(0)
    const text = JSON.stringify({
      schemaVersion: 1,
      updated: '2026-01-02T03:04:05.678Z',
      images: [{ name: 'team/app', tags: [{ tag: 5, digest: 'sha256:x', platforms: [], size: 1, cid: 'x', published: 'p' }] }]
    })
    const root = await withCatalog(first.outputs['root-cid'] as string, join(dir, 'first.car'), text, join(dir, 'corrupt.car'))
    const carPath = join(dir, 'second.car')
    const r = await runAction({
      'image-file': layout,
      name: 'team/other',
      tags: 'v2',
      'previous-root': root,
      'previous-car': `${join(dir, 'first.car')}\n${join(dir, 'corrupt.car')}`,
      'car-path': carPath
    })
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`::error::catalog.json of previous root ${root}: images[0].tags[0].tag is not a string`)
    expect(r.outputs).toEqual({})
    expect(existsSync(carPath)).toBe(false)
  })
})
