import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { createProviders, type DestinationSettings } from '../../src/core/destinations/settings.js'
import { InputError } from '../../src/core/errors.js'
import { KuboDestination } from '../../src/core/kubo/destination.js'
import { KuboIpnsPublisher } from '../../src/core/ipns/kubo-keystore.js'
import { ensureKey } from '../../src/core/kubo/ipns.js'
import { ipnsNameOf, parsePrivateKey } from '../../src/core/ipns/keys.js'
import { readMfsRoot } from '../../src/core/kubo/mfs.js'
import { KuboError } from '../../src/core/kubo/rpc.js'
import type { Logger } from '../../src/core/logger.js'
import { runPipeline, type PipelineResult } from '../../src/core/pipeline.js'
import { publish } from '../../src/core/publish.js'
import { buildOciLayout, makeTempDir, uniqueName } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'

// Issue 8: a failed run must not leak a pin, inputs are checked before any work,
// PEM keys are named, no CAR is left where nobody asked for one, Kubo URLs as users give them.
let dir: string
let layout: string
let kubo: KuboNode
const temporary: string[] = []
const now = new Date('2026-11-29T00:00:00Z')

beforeAll(async () => {
  dir = await makeTempDir('ipcr-kubo-converge-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'converge\n' } }] })
  kubo = await startKubo()
}, 60_000)

afterAll(async () => {
  await kubo?.stop()
  for (const t of [dir, ...temporary]) await rm(t, { recursive: true, force: true })
})

function recorder (): Logger & { lines: string[] } {
  const lines: string[] = []
  return {
    lines,
    debug () {},
    info (message) { lines.push(message) },
    warn (message) { lines.push(message) },
    group: async (_name, fn) => await fn()
  }
}

/** What a shell does: settings → providers (checked) → pipeline, with a fresh temp folder. */
async function runWith (settings: DestinationSettings, tags: string[], logger: Logger = recorder(), carPath?: string): Promise<PipelineResult & { tempDir: string }> {
  const tempDir = await makeTempDir('ipcr-converge-tmp-')
  temporary.push(tempDir)
  const { destinations, names } = createProviders(settings, logger)
  const result = await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags, tempDir, logger, now, destinations, names, ...(carPath != null ? { carPath } : {}) })
  return { ...result, tempDir }
}

async function recursivePins (): Promise<string[]> {
  return (await kubo.ipfs('pin', 'ls', '--type=recursive', '--names')).trim().split('\n').filter((l) => l !== '').sort()
}

async function failure<T extends Error> (promise: Promise<unknown>, type: new (...args: any[]) => T): Promise<T> {
  const err = await promise.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(type)
  return err as T
}

describe('IPNS lifetime', () => {
  test('an invalid lifetime is refused before any pin is added, any CAR written or MFS moved', async () => {
    await kubo.ipfs('key', 'gen', 'lifetime-key')
    const pinsBefore = await recursivePins()
    const car = join(dir, 'lifetime.car')
    const err = await failure(runWith({ kubo: { url: kubo.apiUrl, mfsPath: '/lifetime', pinName: 'ipcr lifetime' }, ipns: { keystoreKey: 'lifetime-key', lifetime: '2 days' } }, ['v1'], recorder(), car), InputError)
    expect(err.input).toBe('ipns-lifetime')
    expect(await recursivePins()).toEqual(pinsBefore)
    expect(existsSync(car)).toBe(false)
    await expect(kubo.ipfs('files', 'stat', '/lifetime')).rejects.toThrow()

    // The same run with a valid lifetime publishes, and Kubo takes it.
    const ok = await runWith({ kubo: { url: kubo.apiUrl, mfsPath: '/lifetime', pinName: 'ipcr lifetime' }, ipns: { keystoreKey: 'lifetime-key', lifetime: '1h30m' } }, ['v1'], recorder(), car)
    expect((await kubo.ipfs('name', 'resolve', '--offline', ok.names[0]?.name as string)).trim()).toBe(`/ipfs/${ok.rootCid}`)
  })
})

describe('cleanup converges', () => {
  test('a successful run removes every pin of its pin name but the new root, including one an earlier failure left, and says so', async () => {
    const kuboSettings = { url: kubo.apiUrl, mfsPath: '/converge', pinName: 'ipcr converge' }
    const car = (): string => join(dir, `${uniqueName('converge')}.car`)
    const first = await runWith({ kubo: kuboSettings }, ['v1'], recorder(), car())
    // Left behind by a failed run (pinned under the registry's name, never unpinned),
    // next to pins that are not this registry's: another name that contains it, and another name.
    const leaked = (await kubo.ipfs('add', '-q', '--pin=false', '--cid-version=1', join(layout, 'index.json'))).trim()
    await kubo.ipfs('pin', 'add', '--name', 'ipcr converge', leaked)
    await writeFile(join(dir, 'other.txt'), 'not this registry\n')
    const other = (await kubo.ipfs('add', '-q', '--pin=false', '--cid-version=1', join(dir, 'other.txt'))).trim()
    await kubo.ipfs('pin', 'add', '--name', 'ipcr converge 2', other)
    const logger = recorder()
    const second = await runWith({ kubo: kuboSettings }, ['v2'], logger, car())
    const pins = await recursivePins()
    expect(pins.filter((p) => p.endsWith(' ipcr converge'))).toEqual([`${second.rootCid} recursive ipcr converge`])
    expect(pins).toContain(`${other} recursive ipcr converge 2`)
    expect(pins.join('\n')).not.toContain(first.rootCid)
    expect(pins.join('\n')).not.toContain(leaked)
    const line = logger.lines.find((l) => l.includes('earlier pin'))
    expect(line).toContain("removed 2 earlier pin(s) named 'ipcr converge'")
    expect(line).toContain(leaked)
    expect(line).toContain(first.rootCid)

    // Nothing left to remove (the same publish again gives the same root): the run says that too.
    const again = recorder()
    expect((await runWith({ kubo: kuboSettings }, ['v2'], again, car())).rootCid).toBe(second.rootCid)
    expect(again.lines).toContain(`Kubo RPC ${kubo.apiUrl}: no other pin named 'ipcr converge' to remove`)
  })
})

describe('cleanup keeps what is not this registry\'s', () => {
  test('a previous root pinned under another name stays pinned, and the log says why', async () => {
    const first = await runWith({ kubo: { url: kubo.apiUrl, mfsPath: '/rename', pinName: 'ipcr rename-a' } }, ['v1'])
    const logger = recorder()
    const second = await runWith({ kubo: { url: kubo.apiUrl, mfsPath: '/rename', pinName: 'ipcr rename-b' } }, ['v2'], logger)
    expect(second.previousRoot).toBe(first.rootCid)
    expect(await recursivePins()).toEqual(expect.arrayContaining([`${first.rootCid} recursive ipcr rename-a`, `${second.rootCid} recursive ipcr rename-b`]))
    expect(logger.lines).toContain(`Kubo RPC ${kubo.apiUrl}: the previous root ${first.rootCid} stays pinned: its pin is named 'ipcr rename-a', not 'ipcr rename-b'`)
  })

  test('an empty pin name, which would match every unnamed pin, is refused before any work', () => {
    for (const pinName of ['', '  ', 'a\nb', 'x'.repeat(256)]) {
      expect(() => new KuboDestination({ url: kubo.apiUrl, pinName })).toThrow("Input 'kubo-pin-name': expected a name of 1 to 255 characters")
    }
  })
})

describe('a run that fails after the import', () => {
  let guarded: KuboNode
  beforeAll(async () => {
    // A token that may import blocks but not pin: the run fails between the two.
    guarded = await startKubo({
      config: { 'API.Authorizations': { ci: { AuthSecret: 'bearer:full', AllowedPaths: ['/api/v0'] }, importer: { AuthSecret: 'bearer:import-only', AllowedPaths: ['/api/v0/version', '/api/v0/pin/ls', '/api/v0/dag/import'] } } },
      apiAuth: 'bearer:full'
    })
  })
  afterAll(async () => { await guarded?.stop() })

  test('leaves no pin behind (not even an unnamed one the next run could not recognise)', async () => {
    const pins = async (): Promise<string[]> => (await guarded.ipfs('pin', 'ls', '--type=recursive', '--names')).trim().split('\n').filter((l) => l !== '').sort()
    const before = await pins()
    const err = await failure(runWith({ kubo: { url: guarded.apiUrl, headers: { Authorization: 'Bearer import-only' }, retries: 0 } }, ['v1']), KuboError)
    expect(err.message).toContain('pin/add')
    expect(await pins()).toEqual(before)
    // The temporary CAR the import read is gone too.
    expect(await readdir(temporary[temporary.length - 1] as string)).toEqual([])
  })
})

describe('PEM keys', () => {
  function pem (type: 'ed25519' | 'rsa' | 'ec'): string {
    const options = type === 'rsa' ? { modulusLength: 2048 } : type === 'ec' ? { namedCurve: 'P-256' } : {}
    const { privateKey } = generateKeyPairSync(type as any, options as any) as unknown as { privateKey: KeyObject }
    return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  }

  test('the IPNS name derived from a PEM key is the one Kubo gives it (Ed25519, RSA, ECDSA)', async () => {
    const rpc = new KuboDestination({ url: kubo.apiUrl }).rpc
    for (const type of ['ed25519', 'rsa', 'ec'] as const) {
      const key = parsePrivateKey(pem(type))
      const id = await ensureKey(rpc, `pem-${type}`, key)
      expect(ipnsNameOf(key)).toBe(id)
      // The same key as `ipfs key export` writes it (libp2p protobuf), base64-encoded.
      const exported = join(dir, `pem-${type}.key`)
      await kubo.ipfs('key', 'export', `pem-${type}`, '-o', exported)
      expect(ipnsNameOf(parsePrivateKey((await readFile(exported)).toString('base64')))).toBe(id)
    }
  })

  test('a PEM key of another identity under the keystore name is refused before anything is stored', async () => {
    await kubo.ipfs('key', 'gen', 'pem-taken')
    const existing = (await kubo.ipfs('key', 'list', '-l')).split('\n').map((l) => l.trim().split(/\s+/)).find((l) => l[1] === 'pem-taken')?.[0]
    expect(existing).toMatch(/^k51/)
    const pinsBefore = await recursivePins()
    const car = join(dir, 'pem.car')
    const err = await failure(runWith({ kubo: { url: kubo.apiUrl, mfsPath: '/pem', pinName: 'ipcr pem' }, ipns: { keystoreKey: 'pem-taken', privateKey: pem('ed25519') } }, ['v1'], recorder(), car), KuboError)
    expect(err.message).toBe(`Kubo RPC ${kubo.apiUrl}: the keystore already has a different key named 'pem-taken' (${existing}); remove it or choose another ipns-key`)
    expect(await recursivePins()).toEqual(pinsBefore)
    expect(existsSync(car)).toBe(false)
  })

  test('a PEM that is no private key is refused when read, naming the input', () => {
    const broken = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----'
    const err = (() => { try { parsePrivateKey(broken); return null } catch (e) { return e } })()
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).input).toBe('ipns-private-key')
    expect(() => new KuboIpnsPublisher(new KuboDestination({ url: kubo.apiUrl }).rpc, { key: 'k', privateKey: broken })).toThrow(InputError)
  })
})

describe('Kubo URLs as users give them', () => {
  test('the gateway port is named as a gateway, not the RPC API', async () => {
    const dest = new KuboDestination({ url: kubo.gatewayUrl, retries: 0 })
    const err = await failure(dest.preflight({}), KuboError)
    expect(err.message).toBe(`Kubo RPC ${kubo.gatewayUrl}: version failed: HTTP 404 (404 page not found): this URL does not serve the Kubo RPC API; it looks like a gateway or another web server (the RPC API listens on port 5001 by default, see Addresses.API in the node's config)`)
  })

  test('past the version check, a 404 is still an error, never an empty MFS folder (which would start a new registry)', async () => {
    const rpc = new KuboDestination({ url: kubo.gatewayUrl, retries: 0 }).rpc
    const err = await failure(readMfsRoot(rpc, '/ipcr'), KuboError)
    expect(err.message).toContain('it looks like a gateway')
  })

  test('a multiaddr URL (as Kubo writes it to $IPFS_PATH/api) publishes end to end', async () => {
    const port = new URL(kubo.apiUrl).port
    const result = await runWith({ kubo: { url: `/ip4/127.0.0.1/tcp/${port}`, mfsPath: '/multiaddr', pinName: 'ipcr multiaddr' } }, ['v1'])
    expect(result.destinations[0]?.label).toBe(`Kubo RPC http://127.0.0.1:${port}`)
    expect((await kubo.ipfs('files', 'stat', '--hash', '/multiaddr')).trim()).toBe(result.rootCid)
    expect(await recursivePins()).toContain(`${result.rootCid} recursive ipcr multiaddr`)
  })
})

describe('no CAR where nobody asked for one', () => {
  test('a Kubo destination without carPath imports a temporary CAR and removes it: the temp folder is empty, nothing in the current folder', async () => {
    const cwdBefore = await readdir(process.cwd())
    const logger = recorder()
    const result = await runWith({ kubo: { url: kubo.apiUrl, mfsPath: '/nocar', pinName: 'ipcr nocar' } }, ['v1'], logger)
    expect(result.car.path).toBeUndefined()
    expect(result.car.blocks).toBeGreaterThan(0)
    expect(await readdir(result.tempDir)).toEqual([])
    expect(await readdir(process.cwd())).toEqual(cwdBefore)
    expect(await recursivePins()).toContain(`${result.rootCid} recursive ipcr nocar`)
    expect(logger.lines).toContain('Removed the temporary CAR once stored (no CAR path was given, so none is kept)')
  })

  test('a publish into a store alone writes no CAR at all', async () => {
    const tempDir = await makeTempDir('ipcr-converge-tmp-')
    temporary.push(tempDir)
    const store = new MemoryBlockStore()
    const cwdBefore = await readdir(process.cwd())
    const result = await publish({ image: { kind: 'file', path: layout }, name: 'team/app', tags: ['v1'], tempDir, sinks: [store] })
    expect(result.car.path).toBeUndefined()
    expect(result.car.blocks).toBeGreaterThan(0)
    expect(await readdir(tempDir)).toEqual([])
    expect(await readdir(process.cwd())).toEqual(cwdBefore)
  })

  test('a kept CAR is where it was asked for, and the log says where', async () => {
    const car = join(dir, `${uniqueName('kept')}.car`)
    const logger = recorder()
    const result = await runWith({ kubo: { url: kubo.apiUrl, pinName: 'ipcr kept' } }, ['v1'], logger, car)
    expect(result.car.path).toBe(car)
    expect(existsSync(car)).toBe(true)
    expect(logger.lines.some((l) => l.startsWith(`CAR written to ${car} (new scope: `))).toBe(true)
    expect(await readdir(result.tempDir)).toEqual([])
  })
})
