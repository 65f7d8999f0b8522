import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { runAction } from '../helpers/action.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { runCli } from '../helpers/process.js'
import { carContents } from '../publish/helpers.js'
import { holds, startPsaServer, type PsaServer } from '../helpers/psa-server.js'

// Issue 10: the action alone, with no Kubo anywhere on the publishing side, gets the registry
// pinned by a real pinning service whose node can fetch blocks only from the origins and
// delegates it is given: the runner's embedded node serves them.
let dir: string
let layout: string
let second: string
let server: PsaServer

beforeAll(async () => {
  dir = await makeTempDir('ipcr-pinning-e2e-')
  layout = join(dir, 'layout')
  second = join(dir, 'layout2')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'pinned by a service\n' } }, { files: { 'b.txt': 'x'.repeat(3 * 1024 * 1024) } }] })
  await buildOciLayout(second, { tag: 'v2', layers: [{ files: { 'c.txt': 'the second release\n' } }] })
  server = await startPsaServer()
}, 60_000)

afterAll(async () => {
  await server?.stop()
  await rm(dir, { recursive: true, force: true })
})

interface Pin { requestid: string, status: string, pin: { cid: string, name?: string, meta?: Record<string, string> } }

async function pins (user: string): Promise<Pin[]> {
  const response = await fetch(`${server.url}/pins?status=queued,pinning,pinned,failed&limit=1000`, { headers: { Authorization: `Bearer ${server.token(user)}` } })
  return ((await response.json()) as { results: Pin[] }).results
}

describe('the action pins through a Pinning Service API, serving its own blocks', () => {
  test('the root ends pinned with the whole DAG in the service\'s node; a second run pins the new root and removes the old pin', async () => {
    const inputs = { name: 'team/app', 'pinning-service-endpoint': server.url, 'pinning-service-token': server.token('e2e'), 'pin-listen': '/ip4/127.0.0.1/tcp/0', 'pin-timeout': '120' }
    const first = await runAction({ ...inputs, 'image-file': layout, 'car-path': join(dir, 'one.car') })
    if (first.code !== 0) throw new Error(first.stdout)
    const metadata = JSON.parse(first.outputs.metadata as string)
    const root = first.outputs['root-cid'] as string
    expect(metadata.destinations).toEqual([expect.objectContaining({ kind: 'psa', ok: true, details: expect.objectContaining({ status: 'pinned', pinned: root }) })])
    // Every block of the registry is in the service's node: it could only have come from the runner.
    const car = await carContents(join(dir, 'one.car'))
    expect(car.cids.size).toBeGreaterThan(10)
    for (const cid of car.cids) expect(await holds(server, cid)).toBe(true)
    expect(first.stdout).toContain('Serving this run\'s blocks from an embedded IPFS node')
    expect(first.summary).toContain(`pinning service &#39;127.0.0.1&#39;`)
    expect((await pins('e2e')).map((p) => [p.pin.cid, p.status])).toEqual([[root, 'pinned']])
    // Named after the registry and the image; meta says which repository and revision ($GITHUB_SHA).
    expect((await pins('e2e'))[0]?.pin).toMatchObject({ name: 'ipcr registry team/app:v1', meta: { 'ipcr-registry': 'ipcr registry', repository: 'team/app', tags: 'v1', revision: 'deadbeef' } })
    expect(first.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')).not.toContain(server.token('e2e'))

    const next = await runAction({ ...inputs, 'image-file': second, 'previous-car': join(dir, 'one.car'), 'car-path': join(dir, 'two.car') })
    if (next.code !== 0) throw new Error(next.stdout)
    const newRoot = next.outputs['root-cid'] as string
    expect(newRoot).not.toBe(root)
    expect((await pins('e2e')).map((p) => [p.pin.cid, p.status])).toEqual([[newRoot, 'pinned']])
    expect(next.stdout).toContain(`removed 1 earlier pin(s) of 'ipcr registry': ${root}`)
  })

  test('a wrong token fails the step before any work, naming the service and not the token', async () => {
    const run = await runAction({ 'image-file': layout, name: 'team/app', 'pinning-service-endpoint': server.url, 'pinning-service-token': 'wrong-token-123', 'car-path': join(dir, 'never.car') })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/::error::Input 'pinning-service-endpoint': pinning service '127\.0\.0\.1' http:\/\/127\.0\.0\.1:\d+ refused its token \(HTTP 401\)/)
    expect(run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')).not.toContain('wrong-token-123')
  })

  test('several services as a YAML list: each token is masked on its own, and a failing service that is not required is a row, not a failure', async () => {
    const services = [
      '- name: helia',
      `  endpoint: ${server.url}`,
      `  token: ${server.token('yaml')}`,
      '- name: gone',
      '  endpoint: http://127.0.0.1:9',
      '  token: gone-token-456',
      '  required: false'
    ].join('\n')
    const run = await runAction({ 'image-file': layout, name: 'team/app', 'pinning-services': services, 'pin-listen': '/ip4/127.0.0.1/tcp/0', 'car-path': join(dir, 'yaml.car') })
    expect(run.stdout).toContain(`::add-mask::${server.token('yaml')}\n`)
    expect(run.stdout).toContain('::add-mask::gone-token-456\n')
    // The unreachable one fails its check and is left out; the other pins; both are rows.
    if (run.code !== 0) throw new Error(run.stdout)
    const metadata = JSON.parse(run.outputs.metadata as string)
    expect(metadata.destinations).toEqual([
      expect.objectContaining({ label: 'pinning service \'gone\' http://127.0.0.1:9', ok: false, required: false, error: expect.stringContaining('check failed') }),
      expect.objectContaining({ kind: 'psa', ok: true, details: expect.objectContaining({ service: 'helia', status: 'pinned' }) })
    ])
    expect(run.summary).toContain('Not stored in pinning service &#39;gone&#39;')
    expect(run.stdout).toMatch(/::warning::pinning service 'gone' http:\/\/127\.0\.0\.1:9 \(not required\) is left out of this run/)
    const shown = run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')
    expect(shown).not.toContain('gone-token-456')
    expect(shown).not.toContain(server.token('yaml'))
  })

  test('the CLI takes the token from the environment', async () => {
    const run = await runCli(['push', '--file', layout, '--name', 'team/app', '--tag', 'cli', '--pinning-service-endpoint', server.url, '--pin-listen', '/ip4/127.0.0.1/tcp/0', '--car', join(dir, 'cli.car'), '--json'], dir, { ...process.env, IPCR_PINNING_SERVICE_TOKEN: server.token('cli') })
    if (run.code !== 0) throw new Error(run.stderr)
    const result = JSON.parse(run.stdout)
    expect(result.destinations[0]).toMatchObject({ kind: 'psa', ok: true, details: { status: 'pinned', pinned: result.rootCid } })
    expect(run.stderr + run.stdout).not.toContain(server.token('cli'))
  })
})
