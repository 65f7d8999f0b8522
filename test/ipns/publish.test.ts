import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKey } from '../../src/core/ipns/keys.js'
import { inspectRecord } from '../../src/core/ipns/record.js'
import { parseIpnsName } from '../../src/core/ipns/name.js'
import { runAction } from '../helpers/action.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { connectNodes, startKubo, type KuboNode } from '../helpers/kubo.js'
import { runCli, type Finished } from '../helpers/process.js'

// Issue 9: records signed by ipcr (no key inside Kubo), put into a Kubo node's routing and a
// Kubo delegated router; another peer resolves them; the next run reads its root from the name.
let dir: string
let layout: string
let publisher: KuboNode
let resolver: KuboNode
let router: KuboNode
let key: string
let name: string

beforeAll(async () => {
  dir = await makeTempDir('ipcr-ipns-publish-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'hello.txt': 'signed here\n' } }] })
  ;[publisher, resolver, router] = await Promise.all([
    startKubo({ offline: false }),
    startKubo({ offline: false }),
    startKubo({ offline: false, config: { 'Gateway.ExposeRoutingAPI': true } })
  ])
  await connectNodes(publisher, resolver)
  await connectNodes(publisher, router)
  const generated = await generateKey()
  key = Buffer.from(generated.key.bytes).toString('base64')
  name = generated.name
}, 90_000)

afterAll(async () => {
  await Promise.all([publisher?.stop(), resolver?.stop(), router?.stop()])
  await rm(dir, { recursive: true, force: true })
})

const env = (): NodeJS.ProcessEnv => ({ ...process.env, IPCR_IPNS_PRIVATE_KEY: key })

function noKey (run: Finished | { stdout: string, summary?: string, outputs?: Record<string, string> }): void {
  // `::add-mask::` lines are how a runner learns what to mask; a runner never shows them.
  const shown = { ...run, stdout: run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n') }
  const text = JSON.stringify(shown)
  expect(text).not.toContain(key)
  expect(text).not.toContain(key.slice(8, 40))
}

async function push (tag: string, extra: string[] = []): Promise<Finished & { json: any }> {
  const run = await runCli(['push', '--file', layout, '--name', 'team/app', '--tag', tag, '--kubo-rpc-url', publisher.apiUrl,
    '--ipns-router', router.gatewayUrl, '--json', ...extra], dir, env())
  if (run.code !== 0) throw new Error(`push ${tag} exited ${run.code}: ${run.stderr}`)
  return { ...run, json: JSON.parse(run.stdout) }
}

async function routerRecord (): Promise<Uint8Array> {
  const res = await fetch(`${router.gatewayUrl}/routing/v1/ipns/${name}`, { headers: { Accept: 'application/vnd.ipfs.ipns-record' } })
  expect(res.status).toBe(200)
  return new Uint8Array(await res.arrayBuffer())
}

describe('IPNS signed here', () => {
  test('goes to Kubo and the router, resolves on another peer, and the next push reads its root from the name', async () => {
    const recordPath = join(dir, 'first.ipns')
    const first = await push('v1', ['--ipns-record', recordPath])
    noKey(first)
    const report = first.json.names[0]
    expect(report).toMatchObject({ kind: 'ipns', name, value: `/ipfs/${first.json.rootCid}`, sequence: '0', recordPath })
    expect(report.targets.map((t: any) => [t.label, t.ok])).toEqual([[`Kubo RPC ${publisher.apiUrl}`, true], [`router ${router.gatewayUrl}`, true]])
    // Kubo's own resolver, on a peer that was never given the record.
    expect((await resolver.ipfs('name', 'resolve', '--nocache', `/ipns/${name}`)).trim()).toBe(`/ipfs/${first.json.rootCid}`)
    // The file holds exactly the record the router serves; it is valid for the name for about 48 h.
    const file = new Uint8Array(await readFile(recordPath))
    expect(Buffer.from(await routerRecord()).equals(Buffer.from(file))).toBe(true)
    const record = await inspectRecord(parseIpnsName(name), file, { source: 'the record file' })
    expect(Math.abs(record.validity.getTime() - Date.parse(report.expires))).toBeLessThan(1000)
    expect(record.validity.getTime() - Date.now()).toBeGreaterThan(47 * 3_600_000)
    expect(record.ttlMs).toBe(5 * 60_000)

    // No previous root given: the name says where the registry is.
    const second = await push('v2')
    expect(second.json.previousRoot).toBe(first.json.rootCid)
    expect(second.json.names[0]).toMatchObject({ value: `/ipfs/${second.json.rootCid}`, sequence: '1' })
    for (const tag of ['v1', 'v2']) {
      expect((await resolver.ipfs('resolve', `/ipns/${name}/team/app/tags/${tag}`)).trim()).toMatch(/^\/ipfs\//)
    }
  })

  test('the action sets ipns-name, ipns-sequence, ipns-expires and ipns-record-path, and never prints the key', async () => {
    const run = await runAction({
      'image-file': layout,
      name: 'team/app',
      tags: 'v3',
      'kubo-rpc-url': publisher.apiUrl,
      'ipns-routers': router.gatewayUrl,
      'ipns-private-key': key,
      'ipns-lifetime': '24h',
      'ipns-ttl': '1m'
    })
    if (run.code !== 0) throw new Error(run.stdout)
    noKey(run)
    expect(run.outputs['ipns-name']).toBe(name)
    const sequence = BigInt(run.outputs['ipns-sequence'] as string)
    expect(sequence).toBeGreaterThanOrEqual(2n)
    const record = await inspectRecord(parseIpnsName(name), new Uint8Array(await readFile(run.outputs['ipns-record-path'] as string)), { source: 'output' })
    expect(record.sequence).toBe(sequence)
    expect(record.value).toBe(`/ipfs/${run.outputs['root-cid'] as string}`)
    expect(record.validity.toISOString()).toBe(run.outputs['ipns-expires'])
    expect(record.ttlMs).toBe(60_000)
    expect(run.summary).toContain(`router ${router.gatewayUrl}`)
  })
})

describe('scheduled republish', () => {
  test('re-signs within the refresh window: same value, sequence + 1, later validity; outside it the record goes again unchanged', async () => {
    const before = await inspectRecord(parseIpnsName(name), await routerRecord(), { source: 'router' })
    const args = ['republish', '--kubo-rpc-url', publisher.apiUrl, '--ipns-router', router.gatewayUrl, '--json']
    // The record published above is valid for 24 h: a 48 h window re-signs it.
    const resigned = await runCli([...args, '--ipns-refresh-within', '48h'], dir, env())
    expect(resigned.code).toBe(0)
    noKey(resigned)
    const result = JSON.parse(resigned.stdout)
    expect(result).toMatchObject({ resigned: true, name, value: before.value, sequence: (before.sequence + 1n).toString() })
    const after = await inspectRecord(parseIpnsName(name), await routerRecord(), { source: 'router' })
    expect(after.value).toBe(before.value)
    expect(after.sequence).toBe(before.sequence + 1n)
    expect(after.validity.getTime()).toBeGreaterThan(before.validity.getTime())
    expect((await resolver.ipfs('name', 'resolve', '--nocache', `/ipns/${name}`)).trim()).toBe(before.value)

    // Now valid for 48 h: the default 24 h window puts the same record again.
    const unchanged = await runCli(args, dir, env())
    expect(unchanged.code).toBe(0)
    expect(JSON.parse(unchanged.stdout)).toMatchObject({ resigned: false, sequence: after.sequence.toString() })
    expect(Buffer.from(await routerRecord()).equals(Buffer.from(after.bytes))).toBe(true)
  })

  test('without the key, republish puts the existing record again and says when it expires', async () => {
    const current = await inspectRecord(parseIpnsName(name), await routerRecord(), { source: 'router' })
    const run = await runCli(['republish', '--ipns-name', name, '--ipns-router', router.gatewayUrl, '--ipns-refresh-within', '48h', '--ipns-lifetime', '48h'], dir)
    expect(run.code).toBe(0)
    expect(run.stderr).toContain(`but no ipns-private-key was given: put again unchanged; it expires at ${current.validity.toISOString()}`)
    expect((await inspectRecord(parseIpnsName(name), await routerRecord(), { source: 'router' })).sequence).toBe(current.sequence)
  })

  test('mode: republish in the action needs no image and sets the IPNS outputs', async () => {
    const run = await runAction({ mode: 'republish', 'kubo-rpc-url': publisher.apiUrl, 'ipns-routers': router.gatewayUrl, 'ipns-private-key': key, 'ipns-refresh-within': '48h' })
    if (run.code !== 0) throw new Error(run.stdout)
    noKey(run)
    expect(run.outputs['ipns-name']).toBe(name)
    const record = await inspectRecord(parseIpnsName(name), await routerRecord(), { source: 'router' })
    expect(run.outputs['ipns-sequence']).toBe(record.sequence.toString())
    expect(run.summary).toContain('re-signed')
  })
})
