import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Destination, DestinationContext, DestinationReport, NamePublisher, NameReport } from '../../src/core/destinations/types.js'
import { InputError } from '../../src/core/errors.js'
import type { Logger } from '../../src/core/logger.js'
import { runPipeline, StoreFailedError, type PipelineResult } from '../../src/core/pipeline.js'
import { PinningServiceDestination, type PinningServiceConfig } from '../../src/core/pinning/psa.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { startKubo, swarmAddress, type KuboNode } from '../helpers/kubo.js'
import { holds, startProxy, startPsaServer, type ProxyRule, type PsaServer } from '../helpers/psa-server.js'

/**
 * Against @helia/pinning-service-api-server over a Helia node that gets blocks
 * only over bitswap. Until the embedded origin node lands, an online Kubo that
 * imported the run's CAR serves the blocks: its address is the pin's origin and
 * it dials the delegates the service answers (see `served`).
 */

let dir: string
let kubo: KuboNode
let kuboAddress: string
let server: PsaServer
let other: PsaServer

beforeAll(async () => {
  dir = await makeTempDir('ipcr-psa-')
  kubo = await startKubo({ offline: false })
  kuboAddress = await swarmAddress(kubo)
  server = await startPsaServer()
  other = await startPsaServer()
})

afterAll(async () => {
  await server?.stop()
  await other?.stop()
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

interface Logs extends Logger { lines: string[] }

function logs (): Logs {
  const lines: string[] = []
  return {
    lines,
    debug: () => {},
    info: (m) => { lines.push(`info ${m}`) },
    warn: (m) => { lines.push(`warn ${m}`) },
    group: async (_name, fn) => await fn()
  }
}

/** `dest` with the run's blocks served by the Kubo: it imports the CAR, is named in origins and dials the delegates. */
function served (dest: Destination, withOrigins = true): Destination {
  return {
    kind: dest.kind,
    label: dest.label,
    required: dest.required,
    needsCar: true,
    needsNetwork: true,
    preflight: async (options) => await dest.preflight(options),
    store: async (context: DestinationContext): Promise<DestinationReport> => {
      await kubo.ipfs('dag', 'import', '--pin-roots=false', context.carPath as string)
      const network = {
        origins: withOrigins ? [kuboAddress] : [],
        dial: async (addresses: string[]) => { await kubo.ipfs('swarm', 'connect', ...addresses) }
      }
      return await dest.store({ ...context, network })
    },
    cleanup: async (context) => await dest.cleanup?.(context)
  }
}

/** Builds an image whose tag (and so root) is this run's own: the Helia server leaves a second pin of a root it already holds `queued`. */
async function run (destinations: Destination[], tag: string, extra: { names?: NamePublisher[], logger?: Logger, withOrigins?: boolean, now?: Date } = {}): Promise<PipelineResult> {
  const { withOrigins, ...options } = extra
  const layout = join(dir, `layout-${tag}`)
  await buildOciLayout(layout, { tag, layers: [{ files: { 'a.txt': `pinning service ${tag}\n` } }] })
  return await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: [tag], tempDir: dir, destinations: destinations.map((d) => served(d, withOrigins)), ...options })
}

function service (config: Partial<PinningServiceConfig> & { user: string }, logger?: Logger, on: PsaServer = server): PinningServiceDestination {
  const { user, ...rest } = config
  return new PinningServiceDestination({ name: 'helia', endpoint: on.url, token: on.token(user), ...rest }, logger)
}

interface Listed { count: number, results: Array<{ requestid: string, status: string, pin: { cid: string, name?: string, meta?: Record<string, string> } }> }

async function pins (on: PsaServer, user: string): Promise<Listed> {
  const response = await fetch(`${on.url}/pins?status=queued,pinning,pinned,failed&limit=1000`, { headers: { Authorization: `Bearer ${on.token(user)}` } })
  return await response.json() as Listed
}

/** Every block of the DAG under `root`, as Kubo lists them. */
async function dagBlocks (root: string): Promise<string[]> {
  const refs = (await kubo.ipfs('refs', '-r', '--unique', root)).split('\n').map((l) => l.trim()).filter((l) => l !== '')
  return [root, ...refs]
}

const failedRewrite: ProxyRule = ({ method, path }) => method === 'GET' && path.startsWith('/pins/')
  ? { pass: true, rewrite: (json) => ({ ...json, status: 'failed', info: { reason: 'NO_PROVIDERS', details: 'could not find the root on the network' } }) }
  : { pass: true }

async function rejection (promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

describe('Pinning Service API destination', () => {
  test('pins the root with the whole DAG in the service node; a second run pins the new root and cleanup removes the old pin only', async () => {
    const first = await run([service({ user: 'replace', pinName: 'ipcr test' })], 'one')
    const report = first.destinations[0] as DestinationReport
    expect(report).toMatchObject({ kind: 'psa', ok: true, details: { service: 'helia', status: 'pinned', pinned: first.rootCid } })
    expect(report.label).toBe(`pinning service 'helia' ${server.url}`)
    const blocks = await dagBlocks(first.rootCid)
    expect(blocks.length).toBeGreaterThan(5)
    for (const cid of blocks) expect(await holds(server, cid)).toBe(true)
    let listed = await pins(server, 'replace')
    expect(listed.results.map((p) => [p.pin.cid, p.status])).toEqual([[first.rootCid, 'pinned']])
    expect(listed.results[0]?.requestid).toBe(report.details.requestId)
    expect(listed.results[0]?.pin.name).toBe('ipcr test team/app:one')
    expect(listed.results[0]?.pin.meta).toMatchObject({ 'ipcr-registry': 'ipcr test', repository: 'team/app', tags: 'one' })

    // A pin of another registry on the same account stays.
    await fetch(`${server.url}/pins`, { method: 'POST', headers: { Authorization: `Bearer ${server.token('replace')}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ cid: first.rootCid, name: 'ipcr test2 other', meta: { 'ipcr-registry': 'ipcr test2' } }) })

    const logger = logs()
    const second = await run([service({ user: 'replace', pinName: 'ipcr test' }, logger)], 'two', { logger })
    expect(second.rootCid).not.toBe(first.rootCid)
    expect(second.destinations[0]).toMatchObject({ ok: true, details: { status: 'pinned', pinned: second.rootCid } })
    listed = await pins(server, 'replace')
    expect(listed.results.map((p) => p.pin.name).sort()).toEqual(['ipcr test team/app:two', 'ipcr test2 other'])
    expect(listed.results.find((p) => p.pin.name === 'ipcr test team/app:two')?.pin.cid).toBe(second.rootCid)
    expect(logger.lines.join('\n')).toContain(`removed 1 earlier pin(s) of 'ipcr test': ${first.rootCid}`)
  })

  test('a re-run that publishes the same root uses the pin it finds, instead of asking again', async () => {
    const now = new Date('2026-11-29T12:00:00Z')
    const layout = join(dir, 'layout-same')
    await buildOciLayout(layout, { tag: 'same', layers: [{ files: { 'a.txt': 'the same root twice\n' } }] })
    const publishOnce = async (logger?: Logger): Promise<PipelineResult> => await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: ['same'], tempDir: dir, now, destinations: [served(service({ user: 'same', pinName: 'ipcr same' }, logger))], ...(logger != null ? { logger } : {}) })
    const first = await publishOnce()
    const logger = logs()
    const again = await publishOnce(logger)
    expect(again.rootCid).toBe(first.rootCid)
    expect(again.destinations[0]?.details.requestId).toBe(first.destinations[0]?.details.requestId)
    expect(logger.lines.join('\n')).toContain(`${first.rootCid} is pinned already`)
    expect((await pins(server, 'same')).results.map((p) => [p.pin.cid, p.status])).toEqual([[first.rootCid, 'pinned']])
  })

  test('with no origins, dialling the delegates the service answers is enough', async () => {
    const dialled: string[][] = []
    const dest = service({ user: 'delegates' })
    const spy: Destination = { ...dest, kind: dest.kind, label: dest.label, preflight: async (o) => await dest.preflight(o), store: async (context) => await dest.store({ ...context, network: { origins: context.network?.origins ?? [], dial: async (a) => { dialled.push(a); await context.network?.dial(a) } } }) }
    const result = await run([spy], 'delegates', { withOrigins: false })
    expect(result.destinations[0]).toMatchObject({ ok: true, details: { status: 'pinned', pinned: result.rootCid } })
    expect(dialled).toEqual([server.helia.libp2p.getMultiaddrs().map(String)])
    for (const cid of await dagBlocks(result.rootCid)) expect(await holds(server, cid)).toBe(true)
  })

  test('a wrong token: a clear error naming the service and its token, without the token', async () => {
    const token = 'wrong-token-4f1d2c9a7b'
    const dest = new PinningServiceDestination({ name: 'helia', endpoint: server.url, token })
    const err = await rejection(run([dest], 'token'))
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toContain(`pinning service 'helia' ${server.url} refused its token (HTTP 401)`)
    expect(err.message).not.toContain(token)
    expect(err.message).not.toContain('4f1d2c9a')
  })

  test('a 500 then 200 on the pin request: retried, and pinned', async () => {
    const proxy = await startProxy(server.url, ({ method, path, count }) => method === 'POST' && path === '/pins' && count === 1
      ? { status: 500, body: '{"error":{"reason":"INTERNAL","details":"try again"}}' }
      : { pass: true })
    try {
      const logger = logs()
      const result = await run([service({ user: 'fivehundred', endpoint: proxy.url, retries: 2 }, logger)], 'fivehundred', { logger })
      expect(result.destinations[0]).toMatchObject({ ok: true, details: { status: 'pinned', pinned: result.rootCid } })
      expect(proxy.seen.filter((s) => s === 'POST /pins')).toHaveLength(2)
      expect(logger.lines.some((l) => l.startsWith('warn') && l.includes('HTTP 500') && l.includes('try again'))).toBe(true)
      expect((await pins(server, 'fivehundred')).count).toBe(1)
    } finally {
      await proxy.stop()
    }
  })

  test('a 429 with Retry-After: waits, retries and ends pinned', async () => {
    const proxy = await startProxy(server.url, ({ method, path, count }) => method === 'GET' && path.startsWith('/pins/') && count === 1
      ? { status: 429, headers: { 'Retry-After': '1' }, body: '{"error":{"reason":"RATE_LIMITED"}}' }
      : { pass: true })
    try {
      const logger = logs()
      const result = await run([service({ user: 'ratelimit', endpoint: proxy.url }, logger)], 'ratelimit', { logger })
      const report = result.destinations[0] as DestinationReport
      expect(report).toMatchObject({ ok: true, details: { status: 'pinned' } })
      expect(proxy.seen.filter((s) => s === `GET /pins/${String(report.details.requestId)}`).length).toBeGreaterThanOrEqual(2)
      expect(logger.lines.some((l) => l.includes('HTTP 429') && l.includes('retrying in 1.0 s'))).toBe(true)
    } finally {
      await proxy.stop()
    }
  })

  test('a pin that never finishes: the pin timeout ends it, naming the status and the request id', async () => {
    const proxy = await startProxy(server.url, ({ method, path }) => method === 'GET' && path.startsWith('/pins/')
      ? { pass: true, rewrite: (json) => ({ ...json, status: 'queued' }) }
      : { pass: true })
    try {
      const err = await rejection(run([service({ user: 'forever', endpoint: proxy.url, timeoutMs: 1500 })], 'forever'))
      const id = proxy.seen.find((s) => s.startsWith('GET /pins/'))?.slice('GET /pins/'.length)
      expect(id).toBeDefined()
      expect(err.message).toContain(`pinning service 'helia' ${proxy.url}`)
      expect(err.message).toMatch(/is still queued after 2 s \(pin timeout; request '[^']+'\)/)
      expect(err.message).toContain(`request '${id as string}'`)
    } finally {
      await proxy.stop()
    }
  })

  test('a pin that ends failed: the error carries the service\'s info', async () => {
    const proxy = await startProxy(server.url, failedRewrite)
    try {
      const err = await rejection(run([service({ user: 'failed', endpoint: proxy.url })], 'failed'))
      expect(err.message).toMatch(/pinning service 'helia' .* pinning \S+ failed \(request '[^']+'\): reason: NO_PROVIDERS; details: could not find the root on the network/)
    } finally {
      await proxy.stop()
    }
  })

  describe('two services at once', () => {
    function namePublisher (): NamePublisher & { calls: number } {
      return {
        kind: 'fake',
        label: 'fake name',
        calls: 0,
        preflight: async () => {},
        async publish (context): Promise<NameReport> {
          this.calls++
          return { kind: 'fake', label: 'fake name', name: 'fake', value: `/ipfs/${context.root.toString()}` }
        }
      }
    }

    test('one not required fails: the required one pins, both are reported, the name moves', async () => {
      const proxy = await startProxy(other.url, failedRewrite)
      try {
        const names = namePublisher()
        const good = service({ user: 'twoa', name: 'good' })
        const bad = service({ user: 'twob', name: 'flaky', endpoint: proxy.url, required: false }, undefined, other)
        const result = await run([good, bad], 'twoa', { names: [names] })
        expect(result.destinations).toHaveLength(2)
        expect(result.destinations.find((r) => r.label === good.label)).toMatchObject({ ok: true, required: true, details: { status: 'pinned', service: 'good', pinned: result.rootCid } })
        const failed = result.destinations.find((r) => r.label === bad.label)
        expect(failed).toMatchObject({ ok: false, required: false })
        expect(failed?.error).toContain('could not find the root on the network')
        expect(names.calls).toBe(1)
      } finally {
        await proxy.stop()
      }
    })

    test('a required one fails: the run fails after the other pinned, and no name moves', async () => {
      const proxy = await startProxy(other.url, failedRewrite)
      try {
        const names = namePublisher()
        const good = service({ user: 'twoc', name: 'good', required: false })
        const bad = service({ user: 'twod', name: 'strict', endpoint: proxy.url }, undefined, other)
        const err = await rejection(run([good, bad], 'twob', { names: [names] }))
        expect(err).toBeInstanceOf(StoreFailedError)
        expect(err.message).toContain("pinning service 'strict'")
        expect(err.message).toContain('could not find the root on the network')
        const reports = (err as StoreFailedError).reports
        expect(reports.find((r) => r.label === good.label)).toMatchObject({ ok: true, details: { status: 'pinned' } })
        expect(reports.find((r) => r.label === bad.label)).toMatchObject({ ok: false, required: true })
        expect(names.calls).toBe(0)
      } finally {
        await proxy.stop()
      }
    })
  })
})
