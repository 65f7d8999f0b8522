import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { run } from '../helpers/tools.js'
import { runAction } from '../helpers/action.js'
import { rewriteLayout } from './hostile-layout.js'

let dir: string
let layout: string

beforeAll(async () => {
  dir = await makeTempDir('ipcr-reserved-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'reserved\n' } }] })
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('repository names the registry tree reserves', () => {
  test.each([
    [{ name: 'catalog.json/x' }, /::error::Input 'name': repository name 'catalog.json\/x' starts with 'catalog.json'/],
    [{ name: 'index.html/x' }, /::error::Input 'name': repository name 'index.html\/x' starts with 'index.html'/],
    [{ name: 'team/readme-short.txt' }, /::error::Input 'name': .* has the component 'readme-short.txt'/],
    [{ name: 'team/tags/x' }, /::error::Input 'name': .* has the component 'tags'/],
    [{ tags: 'ghcr.io/catalog.json/x:1' }, /::error::Input 'tags': repository name 'catalog.json\/x' starts with 'catalog.json'/]
  ])('%j is refused before anything is written', async (inputs, message) => {
    const car = join(dir, 'out', 'registry.car')
    const r = await runAction({ 'image-file': layout, tags: 'v1', 'car-path': car, ...inputs })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(message)
    expect(r.outputs).toEqual({})
    expect(existsSync(car)).toBe(false)
  })

  test('a name taken from the archive names the image-file input', async () => {
    const copy = join(dir, 'named')
    await run('cp', ['-r', layout, copy])
    await rewriteLayout(copy, 'v1', { annotations: { 'io.containerd.image.name': 'example.com/index.html/app:1' } })
    const r = await runAction({ 'image-file': copy })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/::error::Input 'image-file': repository name 'index.html\/app' starts with 'index.html'/)
    expect(r.outputs).toEqual({})
  })

  test('a tags reference naming a reserved repository is fine when name is set', async () => {
    const r = await runAction({ 'image-file': layout, name: 'team/app', tags: 'ghcr.io/team/tags:1' })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.outputs.metadata as string).name).toBe('team/app')
  })
})
