import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { runAction } from '../helpers/action.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'

let dir: string
let layout: string
let kubo: KuboNode

beforeAll(async () => {
  dir = await makeTempDir('ipcr-action-kubo-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'k.txt': 'action to kubo\n' } }] })
  kubo = await startKubo()
  await kubo.ipfs('key', 'gen', 'registry')
})

afterAll(async () => {
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('the action with a Kubo destination', () => {
  test('pins on Kubo, keeps the root in MFS, publishes IPNS, and masks the RPC headers', async () => {
    const inputs = {
      'image-file': layout,
      name: 'team/app',
      tags: 'v1',
      'kubo-rpc-url': kubo.apiUrl,
      'kubo-rpc-headers': 'X-Registry-Token: tok-8f1e2d\n',
      'kubo-mfs-path': '/ipcr',
      'ipns-key': 'registry'
    }
    const r = await runAction(inputs)
    expect(r.code).toBe(0)
    const root = r.outputs['root-cid'] as string
    expect((await kubo.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(root)
    expect((await kubo.ipfs('pin', 'ls', '--type=recursive', root))).toContain(root)
    expect((await kubo.ipfs('name', 'resolve', '--offline', r.outputs['ipns-name'] as string)).trim()).toBe(`/ipfs/${root}`)
    expect(r.stdout).toContain('::add-mask::tok-8f1e2d')
    // The secret appears only in the commands that mask it.
    expect(r.stdout.split('\n').filter((l) => l.includes('tok-8f1e2d')).every((l) => l.startsWith('::add-mask::'))).toBe(true)
    expect(r.summary).toContain('/ipns/')
    expect(JSON.stringify(r.outputs) + r.summary).not.toContain('tok-8f1e2d')

    // The next run finds the registry in MFS: no previous-root input needed.
    const second = await runAction({ ...inputs, tags: 'v2' })
    expect(second.code).toBe(0)
    expect(JSON.parse(second.outputs.metadata as string).previousRoot).toBe(root)
    expect((await kubo.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(second.outputs['root-cid'])
  })

  test('an unreachable Kubo fails before anything is published', async () => {
    const r = await runAction({ 'image-file': layout, name: 'team/app', 'kubo-rpc-url': 'http://127.0.0.1:9', 'kubo-timeout': '2' })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/::error::Kubo RPC http:\/\/127\.0\.0\.1:9: version failed: endpoint unreachable/)
    expect(r.outputs).toEqual({})
  })
})
