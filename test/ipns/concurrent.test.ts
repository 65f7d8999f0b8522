import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Destination, DestinationContext, NamePublisher } from '../../src/core/destinations/types.js'
import { createProviders } from '../../src/core/destinations/settings.js'
import { generateKey } from '../../src/core/ipns/keys.js'
import { KuboRecordStore } from '../../src/core/ipns/kubo-routing.js'
import { IpnsPublisher } from '../../src/core/ipns/publisher.js'
import type { RecordStore } from '../../src/core/ipns/types.js'
import { KuboDestination } from '../../src/core/kubo/destination.js'
import { ConcurrentPublishError, runPipeline, type PipelineResult } from '../../src/core/pipeline.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { carContents } from '../publish/helpers.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { runCli } from '../helpers/process.js'

// Issue 9: publishes of different tags to one registry at the same time all end up in it.
let dir: string
let layout: string
let kubo: KuboNode

beforeAll(async () => {
  dir = await makeTempDir('ipcr-ipns-concurrent-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'concurrent\n' } }] })
  // Online (no peers): Kubo reads records back only when online.
  kubo = await startKubo({ offline: false })
}, 60_000)

afterAll(async () => {
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

/** The tags the root a name holds has, by `ipfs ls` of the repository's tags folder. */
async function tagsNamed (name: string): Promise<string[]> {
  const root = (await kubo.ipfs('name', 'resolve', '--nocache', `/ipns/${name}`)).trim()
  const listing = await kubo.ipfs('ls', `${root}/team/app/tags`)
  return listing.trim().split('\n').map((line) => (line.trim().split(/\s+/).pop() as string).replace(/\/$/, '')).sort()
}

interface Run {
  /** Runs the publish of `tag`; `wrap` may interpose on its destination, publisher and record store. */
  publish: (tag: string, wrap?: Wrap, lifetime?: string, carPath?: string, maxRebases?: number) => Promise<PipelineResult>
  name: string
}

interface Wrap {
  point?: () => Promise<void>
  beforePublish?: () => Promise<void>
  beforePut?: () => Promise<void>
  afterPut?: () => Promise<void>
  beforeGet?: () => Promise<void>
  afterGet?: () => Promise<void>
}

async function registry (pinName: string): Promise<Run> {
  const generated = await generateKey()
  const privateKey = Buffer.from(generated.key.bytes).toString('base64')
  const publish = async (tag: string, wrap: Wrap = {}, lifetime = '48h', carPath?: string, maxRebases?: number): Promise<PipelineResult> => {
    const kuboDest = new KuboDestination({ url: kubo.apiUrl, pinName })
    const real = new KuboRecordStore(kuboDest.rpc)
    const store: RecordStore = {
      label: real.label,
      get: async (n, o) => {
        await wrap.beforeGet?.()
        const got = await real.get(n, o)
        await wrap.afterGet?.()
        return got
      },
      put: async (n, r, o) => {
        await wrap.beforePut?.()
        await real.put(n, r, o)
        await wrap.afterPut?.()
      }
    }
    const destination: Destination = {
      kind: kuboDest.kind,
      label: kuboDest.label,
      needsCar: true,
      preflight: async (o) => { await kuboDest.preflight(o) },
      sources: () => kuboDest.sources(),
      store: async (c) => await kuboDest.store(c),
      point: async (c: DestinationContext) => { await wrap.point?.(); await kuboDest.point(c) },
      cleanup: async (c) => { await kuboDest.cleanup(c) }
    }
    const ipns = new IpnsPublisher({ privateKey, stores: [store], lifetime })
    const publisher: NamePublisher = {
      kind: ipns.kind,
      label: ipns.label,
      source: ipns.source,
      preflight: async (o) => { await ipns.preflight(o) },
      publish: async (c) => { await wrap.beforePublish?.(); return await ipns.publish(c) }
    }
    const tempDir = await makeTempDir('ipcr-concurrent-tmp-')
    return await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: [tag], tempDir, destinations: [destination], names: [publisher], ...(carPath != null ? { carPath } : {}), ...(maxRebases != null ? { maxRebases } : {}) })
  }
  return { publish, name: generated.name }
}

function once (fn: () => Promise<void>): () => Promise<void> {
  let done = false
  return async () => {
    if (done) return
    done = true
    await fn()
  }
}

/** A promise and the function that resolves it. */
function gate (): { open: () => void, opened: Promise<void> } {
  let open = (): void => {}
  const opened = new Promise<void>((resolve) => { open = resolve })
  return { open, opened }
}

describe('two publishes of one registry, interleaved step by step', () => {
  test('the name moves while this run stores: its tags are re-applied onto the new root', async () => {
    const reg = await registry('ipcr concurrent 1')
    await reg.publish('base')
    let other: PipelineResult | undefined
    const mine = await reg.publish('a', { point: once(async () => { other = await reg.publish('b') }) })
    expect(mine.rebasedOnto).toEqual([other?.rootCid])
    expect(mine.previousRoot).toBe(other?.rootCid)
    expect(await tagsNamed(reg.name)).toEqual(['a', 'b', 'base'])
  })

  test('when the retries run out, the run fails saying so, and the name keeps the other run\'s root', async () => {
    const reg = await registry('ipcr concurrent retries')
    await reg.publish('base')
    let other: PipelineResult | undefined
    const failed = reg.publish('a', { point: once(async () => { other = await reg.publish('b') }) }, '48h', undefined, 0)
    await expect(failed).rejects.toThrow(ConcurrentPublishError)
    await expect(failed).rejects.toThrow(/moved 1 time while this run published .*Run again, or give each registry a workflow concurrency group/)
    expect((await kubo.ipfs('name', 'resolve', '--nocache', `/ipns/${reg.name}`)).trim()).toBe(`/ipfs/${other?.rootCid as string}`)
    expect(await tagsNamed(reg.name)).toEqual(['b', 'base'])
  })

  test('a kept CAR is rewritten for the final root: its own blocks and the re-applied directories', async () => {
    const reg = await registry('ipcr concurrent car')
    await reg.publish('base')
    const car = join(dir, 'kept.car')
    let other: PipelineResult | undefined
    const mine = await reg.publish('a', { point: once(async () => { other = await reg.publish('b') }) }, '48h', car)
    expect(mine.rebasedOnto).toEqual([other?.rootCid])
    const kept = await carContents(car)
    expect(kept.root).toBe(mine.rootCid)
    expect(mine.car).toMatchObject({ path: car, blocks: kept.cids.size })
    expect(kept.cids.has(mine.rootCid)).toBe(true)
    expect(kept.cids.has(mine.imageCid)).toBe(true)
    // Importing the CAR into a node that has the other run's root gives the whole final registry.
    await kubo.ipfs('dag', 'import', '--pin-roots=false', car)
    expect((await kubo.ipfs('resolve', `/ipfs/${mine.rootCid}/team/app/tags/b`)).trim()).toMatch(/^\/ipfs\//)
    expect(await tagsNamed(reg.name)).toEqual(['a', 'b', 'base'])
  })

  test('the name moves between the last check and the put: the publisher refuses to put and the tags are re-applied', async () => {
    const reg = await registry('ipcr concurrent 2')
    await reg.publish('base')
    let other: PipelineResult | undefined
    const mine = await reg.publish('a', { beforePublish: once(async () => { other = await reg.publish('b') }) })
    expect(mine.rebasedOnto).toEqual([other?.rootCid])
    expect(await tagsNamed(reg.name)).toEqual(['a', 'b', 'base'])
  })

  test('a publish that checked before this one put, and puts after this one read back, is caught by the read after cleanup', async () => {
    const reg = await registry('ipcr concurrent 3')
    await reg.publish('base')
    const bAtPut = gate()
    const aReadBack = gate()
    const bPut = gate()
    let aPut = false
    let aGets = 0
    // A: signs, waits until B has signed too (B's record has the later validity and wins the tie),
    // puts, reads back (sees its own root), then reads again only after B's put landed.
    const a = reg.publish('a', {
      beforePut: once(async () => { await bAtPut.opened }),
      afterPut: async () => { aPut = true },
      beforeGet: async () => { if (aPut && ++aGets === 2) await bPut.opened },
      afterGet: async () => { if (aPut && aGets === 1) aReadBack.open() }
    })
    // B: read the name before A put, puts only after A read back.
    const b = reg.publish('b', {
      beforePut: once(async () => { bAtPut.open(); await aReadBack.opened }),
      afterPut: once(async () => { bPut.open() })
    }, '49h')
    const [mine, theirs] = await Promise.all([a, b])
    expect(mine.rebasedOnto).toEqual([theirs.rootCid])
    expect(theirs.rebasedOnto).toBeUndefined()
    expect(await tagsNamed(reg.name)).toEqual(['a', 'b', 'base'])
  })
})

describe('publishes sharing a Kubo node take turns on a lock there', () => {
  test('a publish that reaches the name while another holds the lock waits, then re-applies its tags onto the other root', async () => {
    const generated = await generateKey()
    const privateKey = Buffer.from(generated.key.bytes).toString('base64')
    const settings = { kubo: { url: kubo.apiUrl, pinName: 'ipcr lock' }, ipns: { privateKey } }
    const lines: string[] = []
    const waiting = gate()
    const logger = {
      debug () {},
      info (m: string) { lines.push(m); if (m.includes('waiting for another publish of the same name')) waiting.open() },
      warn (m: string) { lines.push(m) },
      group: async <T>(_n: string, fn: () => Promise<T>): Promise<T> => await fn()
    }
    const run = async (tag: string, beforePublish?: () => Promise<void>): Promise<PipelineResult> => {
      const providers = createProviders(settings, logger)
      const names = beforePublish == null ? providers.names : providers.names.map((n) => Object.assign(Object.create(Object.getPrototypeOf(n)), n, { publish: async (c: DestinationContext) => { await beforePublish(); return await n.publish(c) } }))
      return await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: [tag], tempDir: await makeTempDir('ipcr-lock-tmp-'), destinations: providers.destinations, names, logger })
    }
    await run('base')
    let theirs: Promise<PipelineResult> | undefined
    // A holds the lock while it publishes: B starts then, and A goes on only once B waits for the lock.
    const mine = await run('a', once(async () => { theirs = run('b'); await waiting.opened }))
    const other = await (theirs as Promise<PipelineResult>)
    expect(mine.rebasedOnto).toBeUndefined()
    expect(other.rebasedOnto).toEqual([mine.rootCid])
    expect(await tagsNamed(generated.name)).toEqual(['a', 'b', 'base'])
    expect((await kubo.ipfs('files', 'ls', '/.ipcr-locks')).trim()).toBe('')
  })
})

describe('five publishes started at once as separate processes', () => {
  test('all five tags end up in the final root, every time', async () => {
    for (let round = 1; round <= 3; round++) {
      const generated = await generateKey()
      const env = { ...process.env, IPCR_IPNS_PRIVATE_KEY: Buffer.from(generated.key.bytes).toString('base64') }
      const tags = ['t1', 't2', 't3', 't4', 't5']
      const runs = await Promise.all(tags.map(async (tag) => await runCli(['push', '--file', layout, '--name', 'team/app', '--tag', tag,
        '--kubo-rpc-url', kubo.apiUrl, '--kubo-pin-name', `ipcr five ${round}`, '--json'], dir, env)))
      for (const run of runs) if (run.code !== 0) throw new Error(`round ${round}: ${run.stderr}`)
      expect(await tagsNamed(generated.name)).toEqual(tags)
      // The name holds the root of one of the runs, and it is pinned.
      const named = (await kubo.ipfs('name', 'resolve', '--nocache', `/ipns/${generated.name}`)).trim().replace('/ipfs/', '')
      const results = runs.map((r) => JSON.parse(r.stdout) as PipelineResult)
      expect(results.map((r) => r.rootCid)).toContain(named)
      const pinned = async (): Promise<string[]> => (await kubo.ipfs('pin', 'ls', '--type=recursive', '--names')).split('\n').filter((l) => l.endsWith(`ipcr five ${round}`)).map((l) => l.split(' ')[0] as string)
      expect(await pinned()).toContain(named)
      // A run leaves the pins other runs made while it ran; the next run removes them.
      const next = await runCli(['push', '--file', layout, '--name', 'team/app', '--tag', 't6', '--kubo-rpc-url', kubo.apiUrl, '--kubo-pin-name', `ipcr five ${round}`, '--json'], dir, env)
      expect(next.code).toBe(0)
      expect(await pinned()).toEqual([JSON.parse(next.stdout).rootCid])
      expect(await tagsNamed(generated.name)).toEqual([...tags, 't6'])
    }
  }, 240_000)
})
