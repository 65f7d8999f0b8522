import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { buildOciLayout, makeTempDir, dockerBuild, dockerImageId, dockerLoad, dockerRemove, uniqueName } from '../helpers/images.js'
import { extractFromCars } from '../publish/helpers.js'
import { runAction } from '../helpers/action.js'

let dir: string
let layout: string

beforeAll(async () => {
  dir = await makeTempDir('ipcr-action-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', labels: { 'org.opencontainers.image.description': 'action test' }, layers: [{ files: { 'a.txt': 'action\n' } }] })
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the action as a runner runs it', () => {
  test('publishes an image file with metadata-action style tags', async () => {
    const r = await runAction({ 'image-file': layout, tags: 'ghcr.io/team/app:1.0\nghcr.io/team/app:latest', summary: 'true' })
    expect(r.code).toBe(0)
    // Every output action.yml declares is set, and no other.
    const declared = [...(await readFile('action.yml', 'utf8')).split('\noutputs:\n')[1]?.split('\nruns:')[0]?.matchAll(/^ {2}([\w-]+):$/gm) ?? []].map((m) => m[1]).sort()
    expect(declared).toEqual(['car-path', 'digest', 'dnslink-changed', 'dnslink-record', 'gateway-url', 'image-cid', 'imageid', 'ipns-expires', 'ipns-name', 'ipns-record-path', 'ipns-sequence', 'metadata', 'pull-command', 'root-cid'])
    expect(Object.keys(r.outputs).sort()).toEqual(declared)
    for (const key of ['ipns-name', 'ipns-sequence', 'ipns-expires', 'ipns-record-path', 'dnslink-record', 'dnslink-changed']) expect(r.outputs[key]).toBe('')
    expect(r.outputs['root-cid']).toMatch(/^bafy/)
    expect(r.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(existsSync(r.outputs['car-path'] as string)).toBe(true)
    // No destination: the pull command imports the CAR first, and no gateway has the root yet.
    expect(r.outputs['pull-command']).toBe(`ipfs dag import ${r.outputs['car-path']} && ipfs get -o team_app_1.0 /ipfs/${r.outputs['root-cid']}/team/app/tags/1.0 && tar -C team_app_1.0 -cf - . | docker load`)
    expect(r.outputs['gateway-url']).toBe('')
    const metadata = JSON.parse(r.outputs.metadata as string)
    expect(metadata.name).toBe('team/app')
    expect(metadata.tags.map((t: any) => t.tag)).toEqual(['1.0', 'latest'])
    expect(metadata.imageCid).toBe(r.outputs['image-cid'])
    expect(r.summary).toContain('Published team/app to IPFS')
    expect(r.summary).toContain(r.outputs['root-cid'])
    expect(r.summary).toContain('team/app:latest')
    expect(r.stdout).toContain('::group::Import')

    // A second run updates that root, reading it from the first CAR; the gateway's credentials are masked.
    const second = await runAction({
      'image-file': layout,
      name: 'team/other',
      tags: 'v9',
      'previous-root': r.outputs['root-cid'] as string,
      'previous-car': r.outputs['car-path'] as string,
      gateways: 'http://robot:s3cr3t-token@127.0.0.1:9/'
    })
    expect(second.code).toBe(0)
    expect(second.stdout).toContain('::add-mask::s3cr3t-token')
    expect(second.stdout.split('s3cr3t-token').length).toBe(2)
    expect(JSON.stringify(second.outputs)).not.toContain('s3cr3t-token')
    expect(second.summary).not.toContain('s3cr3t-token')
    const folder = await extractFromCars([r.outputs['car-path'] as string, second.outputs['car-path'] as string], second.outputs['root-cid'] as string, ['team', 'app', 'tags', 'latest'])
    expect(existsSync(join(folder, 'manifest.json'))).toBe(true)
  })

  test('publishes a local Docker image through docker save', async () => {
    const ref = `localhost/${uniqueName('action')}:2.0`
    const id = await dockerBuild(ref, { 'b.txt': 'from the action\n' })
    const r = await runAction({ image: ref })
    expect(r.code).toBe(0)
    const name = ref.slice('localhost/'.length, ref.lastIndexOf(':'))
    const folder = await extractFromCars([r.outputs['car-path'] as string], r.outputs['root-cid'] as string, [name, 'tags', '2.0'])
    await dockerRemove(ref)
    await dockerLoad(folder)
    expect(await dockerImageId(`localhost/${name}:2.0`)).toBe(id)
    await dockerRemove(`localhost/${name}:2.0`)
  })

  test.each([
    [{ 'image-file': '/nonexistent/image.tar' }, /Input 'image-file'/],
    [{ image: 'a:1', 'image-file': '/x' }, /Input 'image-file': cannot read '\/x'/],
    [{}, /Input 'image': set 'image' .* or 'image-file'/],
    [{ image: 'localhost/ipcr-missing:1' }, /Input 'image': Docker has no image/],
    [{ 'image-file': 'LAYOUT', 'car-scope': 'some' }, /Input 'car-scope'/],
    [{ 'image-file': 'LAYOUT', 'previous-root': 'not-a-cid' }, /Input 'previous-root'/],
    [{ 'image-file': 'LAYOUT', tags: 'bad tag!' }, /Input 'tags'/],
    [{ 'image-file': 'LAYOUT', gateways: 'ftp://x' }, /Input 'gateways'/]
  ])('bad input %p fails, names the input and writes no outputs or CAR', async (inputs, message) => {
    const withLayout = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v === 'LAYOUT' ? layout : v]))
    const r = await runAction(withLayout)
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`::error::${message.source}`))
    expect(r.outputs).toEqual({})
    expect(r.summary).toBe('')
  })
})
