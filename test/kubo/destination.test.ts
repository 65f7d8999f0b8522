import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { KuboDestination } from '../../src/core/kubo/destination.js'
import { KuboIpnsPublisher } from '../../src/core/ipns/kubo-keystore.js'
import { runPipeline } from '../../src/core/pipeline.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'

let dir: string
let layout: string
let kubo: KuboNode

beforeAll(async () => {
  dir = await makeTempDir('ipcr-kubo-dest-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'kubo destination\n' } }] })
  kubo = await startKubo()
})

afterAll(async () => {
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('Kubo destination', () => {
  test('imports, pins under a name, keeps the root in MFS, publishes IPNS, unpins the previous root', async () => {
    await kubo.ipfs('key', 'gen', 'registry')
    const dest = new KuboDestination({ url: kubo.apiUrl, mfsPath: '/ipcr', pinName: 'ipcr test' })
    const ipns = new KuboIpnsPublisher(dest.rpc, { key: 'registry' })
    const first = await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: ['v1'], carPath: join(dir, '1.car'), tempDir: dir, destinations: [dest], names: [ipns] })
    expect((await kubo.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(first.rootCid)
    expect(await kubo.ipfs('pin', 'ls', '--names', '--type=recursive', first.rootCid)).toContain('ipcr test')
    const name = first.names[0]?.name as string
    expect((await kubo.ipfs('name', 'resolve', '--offline', name)).trim()).toBe(`/ipfs/${first.rootCid}`)

    // No previous-root given: it comes from MFS, and the previous pin goes once the new one holds.
    const second = await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: ['v2'], carPath: join(dir, '2.car'), tempDir: dir, destinations: [dest], names: [ipns] })
    expect(second.previousRoot).toBe(first.rootCid)
    expect((await kubo.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(second.rootCid)
    expect((await kubo.ipfs('name', 'resolve', '--offline', name)).trim()).toBe(`/ipfs/${second.rootCid}`)
    const pins = await kubo.ipfs('pin', 'ls', '--type=recursive')
    expect(pins).toContain(second.rootCid)
    expect(pins).not.toContain(first.rootCid)
  })
})
