import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { CID } from 'multiformats/cid'
import { FsBlockStore } from '../../src/core/blocks/fs-store.js'
import { silentLogger } from '../../src/core/logger.js'
import { registryResolver } from '../../src/core/registry/resolve.js'
import { startBind } from '../helpers/bind.js'
import { join } from 'node:path'
import { openPullSources, type PullSourceSpec } from '../../src/core/pull/sources.js'
import { pullImage, type PullOptions } from '../../src/core/pull/pull.js'
import { blobFile, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { run } from '../helpers/tools.js'
import { importInto, publishRegistry, type PublishedRegistry } from '../serve/fixture.js'
import { requestedCids, startGatewayProxy, type GatewayProxy } from './proxy.js'

let dir: string
let registry: PublishedRegistry
let kubo: KuboNode
let proxy: GatewayProxy

beforeAll(async () => {
  dir = await makeTempDir('ipcr-pull-kubo-')
  registry = await publishRegistry(dir)
  kubo = await startKubo()
  await importInto(kubo, registry)
  proxy = await startGatewayProxy(kubo.gatewayUrl)
})

afterAll(async () => {
  await proxy?.close()
  await kubo?.stop()
  await registry?.close()
  await rm(dir, { recursive: true, force: true })
})

let count = 0
const fresh = (name: string): string => join(dir, `${name}-${++count}`)

/** The file CID of the largest of `digests` in team/app:1.0's tag folder, and every block under it (root included). */
async function layerBlocks (digests: string[], tag = '1.0'): Promise<{ digest: string, root: string, blocks: string[] }> {
  let best = { digest: '', size: -1 }
  for (const digest of digests) {
    const size = (await readFile(blobFile(registry.layout, digest))).length
    if (size > best.size) best = { digest, size }
  }
  const path = `/ipfs/${registry.root.toString()}/team/app/tags/${tag}/blobs/sha256/${best.digest.slice('sha256:'.length)}`
  const root = (await kubo.ipfs('resolve', '-r', path)).trim().replace(/^\/ipfs\//, '')
  const refs = (await kubo.ipfs('refs', '-r', '-u', root)).split('\n').map((l) => l.trim()).filter((l) => l !== '')
  return { digest: best.digest, root, blocks: [root, ...refs] }
}

async function pull (specs: PullSourceSpec[], options: Partial<PullOptions> & { reference: string }): Promise<Awaited<ReturnType<typeof pullImage>>> {
  const sources = await openPullSources(specs)
  try {
    return await pullImage({ output: fresh('out'), cacheDir: fresh('cache'), ...options, sources })
  } finally {
    await sources.close()
  }
}

test('a tag through a Kubo gateway: whole blobs as CARs, the same files as `ipfs get` of the tag folder', async () => {
  const out = fresh('out')
  proxy.requests.length = 0
  const result = await pull([{ kind: 'gateway', url: proxy.url }], { reference: `ipfs/${registry.root.toString()}/team/app:1.0`, output: out })
  expect(result.digest).toBe(registry.app.manifestDigest)
  expect(result.carBlocks).toBeGreaterThan(0)
  // The big layer's blocks came in its CAR, none of them one by one (its root block is read once to list the folder).
  const bigLayer = await layerBlocks(registry.app.layerDigests)
  expect(proxy.requests.filter((r) => r.includes(`/ipfs/${bigLayer.root}?format=car`))).toHaveLength(1)
  expect(bigLayer.blocks.length).toBeGreaterThan(3)
  expect(requestedCids(proxy.requests.filter((r) => r.includes('format=raw'))).filter((c) => bigLayer.blocks.slice(1).includes(c))).toEqual([])
  const got = fresh('get')
  await kubo.ipfs('get', '-o', got, `/ipfs/${registry.root.toString()}/team/app/tags/1.0`)
  await run('diff', ['-r', got, out])
  for (const digest of [registry.app.manifestDigest, registry.app.configDigest, ...registry.app.layerDigests]) {
    const hex = digest.slice('sha256:'.length)
    expect((await readFile(join(out, 'blobs', 'sha256', hex))).equals(await readFile(blobFile(registry.layout, digest)))).toBe(true)
  }
})

test('a tag through the Kubo RPC (block/get): the blobs of the original image', async () => {
  const out = fresh('out')
  const result = await pull([{ kind: 'kubo', url: kubo.apiUrl, offline: true }], { reference: `/ipfs/${registry.root.toString()}/team/app:2.0`, output: out })
  expect(result.carBlocks).toBe(0)
  expect(result.digest).toBe(registry.app2.manifestDigest)
  for (const digest of [registry.app2.manifestDigest, registry.app2.configDigest, ...registry.app2.layerDigests]) {
    const hex = digest.slice('sha256:'.length)
    expect((await readFile(join(out, 'blobs', 'sha256', hex))).equals(await readFile(blobFile(registry.layout, digest)))).toBe(true)
  }
})

test('a gateway that corrupts one block: the pull falls back to the next gateway; with no good source it fails naming the block', async () => {
  const layer = await layerBlocks(registry.app.layerDigests)
  const leaf = layer.blocks.find((c) => c.startsWith('bafkrei')) as string
  const bad = await startGatewayProxy(kubo.gatewayUrl)
  try {
    bad.corrupt = (await readBlockBytes(leaf)).subarray(0, 64)
    const out = fresh('out')
    await pull([{ kind: 'gateway', url: bad.url }, { kind: 'gateway', url: kubo.gatewayUrl }], { reference: `ipfs/${registry.root.toString()}/team/app:1.0`, output: out })
    // Once in its CAR, once asked for alone.
    expect(bad.corrupted).toBe(2)
    const hex = layer.digest.slice('sha256:'.length)
    expect((await readFile(join(out, 'blobs', 'sha256', hex))).equals(await readFile(blobFile(registry.layout, layer.digest)))).toBe(true)

    const nothing = fresh('out')
    const failed = pull([{ kind: 'gateway', url: bad.url }], { reference: `ipfs/${registry.root.toString()}/team/app:1.0`, output: nothing })
    await expect(failed).rejects.toThrow(leaf)
    await expect(failed).rejects.toThrow(/digest mismatch/)
    await expect(stat(nothing)).rejects.toThrow(/ENOENT/)
  } finally {
    await bad.close()
  }
})

test('the content cache: a second pull asks the gateway nothing; another tag fetches none of the layer it shares; a changed cache file is fetched again', async () => {
  const cacheDir = fresh('cache')
  const reference = `ipfs/${registry.root.toString()}/team/app:1.0`
  proxy.requests.length = 0
  await pull([{ kind: 'gateway', url: proxy.url }], { reference, cacheDir })
  expect(proxy.requests.length).toBeGreaterThan(0)

  proxy.requests.length = 0
  const again = await pull([{ kind: 'gateway', url: proxy.url }], { reference, cacheDir })
  expect(proxy.requests).toEqual([])
  expect(again.fetched).toEqual({ blocks: 0, bytes: 0 })

  const shared = await layerBlocks(registry.app.layerDigests)
  expect(registry.app2.layerDigests).toContain(shared.digest)
  proxy.requests.length = 0
  await pull([{ kind: 'gateway', url: proxy.url }], { reference: `ipfs/${registry.root.toString()}/team/app:2.0`, cacheDir })
  expect(proxy.requests.length).toBeGreaterThan(0)
  expect(requestedCids(proxy.requests).filter((c) => shared.blocks.includes(c))).toEqual([])

  const leaf = shared.blocks.find((c) => c.startsWith('bafkrei')) as string
  await writeFile(new FsBlockStore(cacheDir).pathOf(CID.parse(leaf)), 'not the block')
  proxy.requests.length = 0
  const out = fresh('out')
  await pull([{ kind: 'gateway', url: proxy.url }], { reference, cacheDir, output: out })
  expect(requestedCids(proxy.requests)).toEqual([leaf])
  const hex = shared.digest.slice('sha256:'.length)
  expect((await readFile(join(out, 'blobs', 'sha256', hex))).equals(await readFile(blobFile(registry.layout, shared.digest)))).toBe(true)
})

async function readBlockBytes (cid: string): Promise<Buffer> {
  const response = await fetch(`${kubo.apiUrl}/api/v0/block/get?arg=${cid}`, { method: 'POST' })
  return Buffer.from(await response.arrayBuffer())
}

test('an IPNS name and a DNSLink domain (BIND on loopback) through registryResolver, with progress lines; no resolver, no pull', async () => {
  const name = (await kubo.ipfs('key', 'gen', '--type=ed25519', '--ipns-base=base36', 'pull-test')).trim()
  await kubo.ipfs('name', 'publish', '--allow-offline', '--key=pull-test', `/ipfs/${registry.root.toString()}`)
  const bind = await startBind([`_dnslink.registry IN TXT "dnslink=/ipns/${name}"`])
  const resolveRoot = registryResolver({ resolver: bind.server, gateways: [kubo.gatewayUrl] })
  try {
    const byDomain = await pull([{ kind: 'gateway', url: kubo.gatewayUrl }], { reference: 'registry.example.test/team/app:2.0', resolveRoot })
    expect(byDomain.root).toBe(registry.root.toString())
    expect(byDomain.digest).toBe(registry.app2.manifestDigest)
  } finally {
    await bind.stop()
  }
  const lines: string[] = []
  const logger = { ...silentLogger, info: (line: string) => { lines.push(line) } }
  const result = await pull([{ kind: 'gateway', url: kubo.gatewayUrl }], { reference: `ipns/${name}/team/app:1.0`, resolveRoot, logger, progressIntervalMs: 0 })
  expect(result.root).toBe(registry.root.toString())
  expect(result.digest).toBe(registry.app.manifestDigest)
  expect(lines).toContain(`ipns/${name} is /ipfs/${registry.root.toString()}`)
  expect(lines.filter((l) => l.startsWith(`fetching ipns/${name}/team/app:1.0: `) && / of .*\(\d+%\)/.test(l)).length).toBeGreaterThan(1)

  await expect(pull([{ kind: 'gateway', url: kubo.gatewayUrl }], { reference: `ipns/${name}/team/app:1.0` })).rejects.toThrow(/must be looked up, and no resolver is configured/)
  await expect(pull([{ kind: 'gateway', url: kubo.gatewayUrl }], { reference: `ipfs/${registry.root.toString()}/team/app:9.9` })).rejects.toThrow(/team\/app has no tag 9\.9 \(tags: 1\.0, 2\.0, latest, stable\)/)
  await expect(pull([{ kind: 'gateway', url: kubo.gatewayUrl }], { reference: `ipfs/${registry.root.toString()}/team/none:1.0` })).rejects.toThrow(/the registry has no repository team\/none/)
})

test('an output folder in the way is refused before anything is fetched', async () => {
  const out = fresh('out')
  await mkdir(out)
  await writeFile(join(out, 'x'), 'x')
  proxy.requests.length = 0
  await expect(pull([{ kind: 'gateway', url: proxy.url }], { reference: `ipfs/${registry.root.toString()}/team/app:1.0`, output: out })).rejects.toThrow(/Input 'output': .* already exists and is not an empty folder/)
  expect(proxy.requests).toEqual([])
})

test('blocks from the published CAR files (no network): the same tar as through the gateway', async () => {
  const [fromCars, fromGateway] = [join(fresh('tar'), 'a.tar'), join(fresh('tar'), 'b.tar')]
  const result = await pull(registry.cars.map((c) => ({ kind: 'car' as const, path: c.path })), { reference: `ipfs/${registry.root.toString()}/team/app:2.0`, output: fromCars, outputFormat: 'docker' })
  expect(result.carBlocks).toBe(0)
  await pull([{ kind: 'gateway', url: kubo.gatewayUrl }], { reference: `ipfs/${registry.root.toString()}/team/app:2.0`, output: fromGateway, outputFormat: 'docker' })
  expect((await readFile(fromCars)).equals(await readFile(fromGateway))).toBe(true)
  await expect(pull([{ kind: 'car', path: join(dir, 'nothing.car') }], { reference: `ipfs/${registry.root.toString()}/team/app:2.0` })).rejects.toThrow(/Input 'cars': cannot read .*nothing\.car/)
})
