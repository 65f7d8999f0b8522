import { stopProcess } from '../helpers/interrupt.js'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { generateKeyPair, privateKeyToProtobuf, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { base36 } from 'multiformats/bases/base36'
import { KuboDestination, type KuboDestinationConfig } from '../../src/core/kubo/destination.js'
import { KuboIpnsPublisher } from '../../src/core/ipns/kubo-keystore.js'
import { KuboError } from '../../src/core/kubo/rpc.js'
import type { Logger } from '../../src/core/logger.js'
import { runPipeline, type PipelineOptions, type PipelineResult } from '../../src/core/pipeline.js'
import { buildOciLayout, makeTempDir, uniqueName } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { carContents } from '../publish/helpers.js'

// What a release pipeline meets when Kubo is not fine: a daemon that dies mid-import,
// an endpoint nobody listens on, refused credentials, a Kubo too old, IPNS keys
// given as secrets. Every case runs against a real Kubo daemon, except the version
// check, which needs a Kubo older than this machine can build.
let dir: string
let small: string
let big: string
const now = new Date('2026-11-03T00:00:00Z')

beforeAll(async () => {
  dir = await makeTempDir('ipcr-kubo-failures-')
  small = join(dir, 'small')
  big = join(dir, 'big')
  await buildOciLayout(small, { tag: 'v1', layers: [{ files: { 'hello.txt': 'small\n' } }] })
  // 64 MiB of random bytes: a CAR Kubo takes a moment to import.
  await buildOciLayout(big, { tag: 'v1', layers: [{ files: { 'opt/data.bin': randomBytes(64 * 1024 * 1024) } }, { files: { 'app.txt': 'big\n' } }] })
}, 60_000)

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A Logger that keeps warnings and the names of the groups the pipeline entered. */
function recorder (onGroup?: (name: string) => void): Logger & { warnings: string[], groups: string[] } {
  const warnings: string[] = []
  const groups: string[] = []
  return {
    warnings,
    groups,
    debug () {},
    info () {},
    warn (message) { warnings.push(message) },
    group: async (name, fn) => {
      groups.push(name)
      onGroup?.(name)
      return await fn()
    }
  }
}

function pipeline (image: string, tags: string[], dest: KuboDestinationConfig, extra: Partial<PipelineOptions> = {}): { car: string, run: () => Promise<PipelineResult> } {
  const car = join(dir, `${uniqueName('car')}.car`)
  return {
    car,
    run: async () => await runPipeline({
      image: { kind: 'file', path: image },
      name: 'team/app',
      tags,
      carPath: car,
      tempDir: dir,
      now,
      destinations: [new KuboDestination(dest, extra.logger)],
      ...extra
    })
  }
}

async function failure (promise: Promise<unknown>): Promise<KuboError> {
  const err = await promise.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(KuboError)
  return err as KuboError
}

/** Bytes a process has read so far (sockets included), from /proc/<pid>/io. */
function bytesRead (pid: number): number {
  const m = /^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))
  return m != null ? Number(m[1]) : 0
}

describe('Kubo stopped in the middle of a publish', () => {
  let repo: string
  const nodes: KuboNode[] = []

  beforeAll(async () => { repo = await makeTempDir('ipcr-kubo-repo-') })
  afterAll(async () => {
    for (const node of nodes) await node.stop()
    await rm(repo, { recursive: true, force: true })
  })

  test('a clear error naming the endpoint and the command, the previous pin and MFS root untouched, and a rerun succeeds', async () => {
    const first = await startKubo({ ipfsPath: repo })
    nodes.push(first)
    const config = { url: first.apiUrl, mfsPath: '/ipcr', pinName: 'ipcr registry', retries: 2, retryDelayMs: 50, timeoutMs: 60_000 }
    const v1 = await pipeline(small, ['v1'], config).run()
    expect((await first.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(v1.rootCid)
    const pins = async (node: KuboNode): Promise<string[]> => (await node.ipfs('pin', 'ls', '--type=recursive', '--names')).trim().split('\n').sort()
    const pinsBefore = await pins(first)
    expect(pinsBefore).toContain(`${v1.rootCid} recursive ipcr registry`)

    // Kill -9 the daemon once it has read 16 MiB of the 64 MiB CAR import.
    let killedAt = 0
    let readBeforeKill = 0
    let watching: Promise<void> | undefined
    const logger = recorder((name) => {
      if (!name.startsWith('Store in')) return
      const start = bytesRead(first.pid)
      watching = (async () => {
        const deadline = Date.now() + 30_000
        while ((readBeforeKill = bytesRead(first.pid) - start) < 16 * 1024 * 1024 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 2))
        }
        await first.kill('SIGKILL')
        killedAt = Date.now()
      })()
    })
    const v2 = pipeline(big, ['v2'], config, { logger })
    const err = await failure(v2.run())
    await watching
    expect(readBeforeKill).toBeGreaterThanOrEqual(16 * 1024 * 1024)
    expect(Date.now() - killedAt).toBeLessThan(10_000) // did not hang
    // The upload broke (ECONNRESET or the like), two bounded retries found nobody listening.
    expect(err.message).toBe(`Kubo RPC ${first.apiUrl}: dag/import failed: endpoint unreachable (ECONNREFUSED)`)
    expect(logger.warnings).toHaveLength(2)
    for (const warning of logger.warnings) expect(warning.startsWith(`Kubo RPC ${first.apiUrl}: dag/import failed: `)).toBe(true)
    expect(logger.groups.at(-1)).toBe(`Store in Kubo RPC ${first.apiUrl}`)
    expect(existsSync(v2.car)).toBe(true) // publish itself had finished

    // Same repo, new ports: the pins and the MFS root are the ones of v1, and the new root is not there.
    const second = await startKubo({ ipfsPath: repo })
    nodes.push(second)
    expect((await second.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(v1.rootCid)
    expect(await pins(second)).toEqual(pinsBefore)
    const root = (await carContents(v2.car)).root
    expect(await second.ipfs('block', 'stat', '--offline', root).catch(() => 'absent')).toBe('absent')

    const rerun = await pipeline(big, ['v2'], { ...config, url: second.apiUrl }).run()
    expect(rerun.previousRoot).toBe(v1.rootCid)
    expect(rerun.rootCid).not.toBe(v1.rootCid)
    expect((await second.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(rerun.rootCid)
    const pinsAfter = await pins(second)
    expect(pinsAfter).toContain(`${rerun.rootCid} recursive ipcr registry`)
    expect(pinsAfter.join('\n')).not.toContain(v1.rootCid)
  })
})

describe('an endpoint nobody listens on', () => {
  test('names the endpoint, says unreachable, retries a bounded number of times, and builds no CAR', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    await new Promise((resolve) => server.close(resolve))

    const logger = recorder()
    const p = pipeline(small, ['v1'], { url: `http://127.0.0.1:${port}`, retries: 2, retryDelayMs: 20 }, { logger })
    const started = Date.now()
    const err = await failure(p.run())
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(err.message).toBe(`Kubo RPC http://127.0.0.1:${port}: version failed: endpoint unreachable (ECONNREFUSED)`)
    expect(logger.warnings).toEqual([1, 2].map((n) => `Kubo RPC http://127.0.0.1:${port}: version failed: endpoint unreachable (ECONNREFUSED); retrying (${n} of 2)`))
    expect(logger.groups).toEqual(['Check destinations'])
    expect(existsSync(p.car)).toBe(false)
  })
})

describe('Kubo RPC authorization (API.Authorizations)', () => {
  let kubo: KuboNode
  beforeAll(async () => {
    kubo = await startKubo({
      config: {
        'API.Authorizations': {
          ci: { AuthSecret: 'bearer:s3cret-t0ken', AllowedPaths: ['/api/v0'] },
          basic: { AuthSecret: 'basic:ci:b4sic-pa55', AllowedPaths: ['/api/v0'] },
          // A token that can only ask for the version: it passes the preflight.
          probe: { AuthSecret: 'bearer:vers10n-only', AllowedPaths: ['/api/v0/version'] }
        }
      },
      apiAuth: 'bearer:s3cret-t0ken'
    })
  })
  afterAll(async () => { await kubo?.stop() })

  test('no or wrong credentials: 403 naming the endpoint, not retried, no secret in the message, no CAR', async () => {
    for (const dest of [
      { url: kubo.apiUrl },
      { url: kubo.apiUrl, headers: { Authorization: 'Bearer wr0ng-t0ken' } },
      { url: kubo.apiUrl.replace('http://', 'http://ci:wr0ng-pa55@') }
    ]) {
      const logger = recorder()
      const p = pipeline(small, ['v1'], { ...dest, retries: 3, retryDelayMs: 20 }, { logger })
      const err = await failure(p.run())
      expect(err.status).toBe(403)
      expect(err.message).toBe(`Kubo RPC ${kubo.apiUrl}: version failed: HTTP 403: the endpoint refused the credentials (check kubo-rpc-headers)`)
      expect(logger.warnings).toEqual([])
      expect(existsSync(p.car)).toBe(false)
      for (const secret of ['s3cret', 'wr0ng', 'pa55']) expect(`${err.message} ${String(err.cause)}`).not.toContain(secret)
    }
  })

  test('the right credentials, as a header or in the URL, publish', async () => {
    const bearer = await pipeline(small, ['v1'], { url: kubo.apiUrl, headers: { Authorization: 'Bearer s3cret-t0ken' }, mfsPath: '/ipcr' }).run()
    expect((await kubo.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(bearer.rootCid)
    const dest = new KuboDestination({ url: kubo.apiUrl.replace('http://', 'http://ci:b4sic-pa55@'), mfsPath: '/ipcr' })
    expect(dest.label).toBe(`Kubo RPC ${kubo.apiUrl}`)
    const basic = await runPipeline({ image: { kind: 'file', path: small }, name: 'team/app', tags: ['v2'], carPath: join(dir, 'basic.car'), tempDir: dir, now, destinations: [dest] })
    expect(basic.previousRoot).toBe(bearer.rootCid)
    expect((await kubo.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(basic.rootCid)
    expect(await kubo.ipfs('pin', 'ls', '--type=recursive')).toContain(basic.rootCid)
  })

  test('a token allowed only /api/v0/version passes the version check and is refused at its next command, before any pointer moves', async () => {
    const sortedPins = async (): Promise<string[]> => (await kubo.ipfs('pin', 'ls', '--type=recursive')).split('\n').sort()
    const mfsBefore = (await kubo.ipfs('files', 'stat', '--hash', '/ipcr')).trim()
    const pinsBefore = await sortedPins()
    const headers = { Authorization: 'Bearer vers10n-only' }
    // The preflight lists the pins of the pin name (the only ones cleanup may remove): refused there, before publish builds a CAR.
    const withMfs = pipeline(small, ['v3'], { url: kubo.apiUrl, headers, mfsPath: '/ipcr' }, { logger: recorder() })
    const first = await failure(withMfs.run())
    expect(first.message).toBe(`Kubo RPC ${kubo.apiUrl}: pin/ls --name='ipcr registry' failed: HTTP 403: the endpoint refused the credentials (check kubo-rpc-headers)`)
    expect(existsSync(withMfs.car)).toBe(false)
    // Keeping earlier pins, the preflight lists none: reading the MFS previous root is refused next.
    const keep = pipeline(small, ['v3'], { url: kubo.apiUrl, headers, mfsPath: '/ipcr', unpinPrevious: false }, { logger: recorder() })
    const keptPin = await failure(keep.run())
    expect(keptPin.message).toBe(`Kubo RPC ${kubo.apiUrl}: files/stat /ipcr failed: HTTP 403: the endpoint refused the credentials (check kubo-rpc-headers)`)
    expect(existsSync(keep.car)).toBe(false)
    // Without MFS either: the import is refused.
    const logger = recorder()
    const without = pipeline(small, ['v3'], { url: kubo.apiUrl, headers, unpinPrevious: false }, { logger })
    const second = await failure(without.run())
    expect(second.message).toBe(`Kubo RPC ${kubo.apiUrl}: dag/import failed: HTTP 403: the endpoint refused the credentials (check kubo-rpc-headers)`)
    expect(logger.warnings).toEqual([])
    expect(existsSync(without.car)).toBe(true)
    for (const err of [first, keptPin, second]) expect(err.message).not.toContain('vers10n')
    expect((await kubo.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(mfsBefore)
    expect(await sortedPins()).toEqual(pinsBefore)
  })
})

describe('a Kubo too old', () => {
  let server: Server
  const requests: string[] = []
  beforeAll(async () => {
    // A stand-in for one check only: no Kubo older than 0.40 can be built here, so this
    // tiny server answers /api/v0/version as Kubo 0.30.0 would, and nothing else.
    server = createServer((req, res) => {
      requests.push(`${req.method ?? ''} ${new URL(req.url ?? '/', 'http://x').pathname}`)
      if (new URL(req.url ?? '/', 'http://x').pathname !== '/api/v0/version') {
        res.writeHead(404).end()
        return
      }
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ Version: '0.30.0', Commit: '', Repo: '16', System: 'amd64/linux', Golang: 'go1.22.0' }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  afterAll(async () => { await new Promise((resolve) => server.close(resolve)) })

  test('is refused at the preflight with the version it has and the one it needs', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const p = pipeline(small, ['v1'], { url })
    const err = await failure(p.run())
    expect(err.message).toBe(`Kubo RPC ${url}: Kubo 0.30.0 is too old: ipcr needs Kubo 0.40.0 or newer (the unixfs-v1-2025 profile)`)
    expect(requests).toEqual(['POST /api/v0/version'])
    expect(existsSync(p.car)).toBe(false)
  })
})

describe('IPNS key given as a secret', () => {
  let kubo: KuboNode
  beforeAll(async () => { kubo = await startKubo() })
  afterAll(async () => { await kubo?.stop() })

  test('is imported, publishes under its own name, is reused, and a different key under that name is refused before anything is published', async () => {
    const key = await generateKeyPair('Ed25519')
    const secret = Buffer.from(privateKeyToProtobuf(key)).toString('base64')
    const name = key.publicKey.toCID().toString(base36)
    const run = (tags: string[], privateKey: string): { car: string, run: () => Promise<PipelineResult> } => {
      const dest = new KuboDestination({ url: kubo.apiUrl, mfsPath: '/ipcr' })
      return pipeline(small, tags, { url: kubo.apiUrl }, { destinations: [dest], names: [new KuboIpnsPublisher(dest.rpc, { key: 'registry', privateKey })] })
    }

    const first = await run(['v1'], secret).run()
    expect(first.names.map((n) => n.name)).toEqual([name])
    expect((await kubo.ipfs('name', 'resolve', '--offline', `/ipns/${name}`)).trim()).toBe(`/ipfs/${first.rootCid}`)
    expect(await kubo.ipfs('key', 'list', '-l')).toContain(`${name} registry`)

    const second = await run(['v2'], secret).run()
    expect(second.names.map((n) => n.name)).toEqual([name])
    expect((await kubo.ipfs('name', 'resolve', '--offline', `/ipns/${name}`)).trim()).toBe(`/ipfs/${second.rootCid}`)

    const other = await generateKeyPair('Ed25519')
    const refused = run(['v3'], Buffer.from(privateKeyToProtobuf(other)).toString('base64'))
    const err = await failure(refused.run())
    expect(err.message).toBe(`Kubo RPC ${kubo.apiUrl}: the keystore already has a different key named 'registry' (${name}); remove it or choose another ipns-key`)
    expect(existsSync(refused.car)).toBe(false)
    expect((await kubo.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(second.rootCid)
    expect((await kubo.ipfs('name', 'resolve', '--offline', `/ipns/${name}`)).trim()).toBe(`/ipfs/${second.rootCid}`)
  })

  test('a PEM (PKCS#8) Ed25519 key, as openssl or node:crypto write it, publishes under the name of its public key', async () => {
    const pair = generateKeyPairSync('ed25519')
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const raw = Buffer.from(pair.publicKey.export({ format: 'jwk' }).x as string, 'base64url')
    const name = publicKeyFromRaw(raw).toCID().toString(base36)
    const dest = new KuboDestination({ url: kubo.apiUrl })
    const result = await runPipeline({
      image: { kind: 'file', path: small },
      name: 'team/app',
      tags: ['pem'],
      carPath: join(dir, 'pem.car'),
      tempDir: dir,
      now,
      destinations: [dest],
      names: [new KuboIpnsPublisher(dest.rpc, { key: 'pem-registry', privateKey: pem })]
    })
    expect(result.names.map((n) => n.name)).toEqual([name])
    expect((await kubo.ipfs('name', 'resolve', '--offline', `/ipns/${name}`)).trim()).toBe(`/ipfs/${result.rootCid}`)
  })
})

describe('a Kubo that stops answering', () => {
  test('times out with a clear message, retries a bounded number of times, and the abort signal stops it at once', async () => {
    const node = await startKubo()
    try {
      // Every thread of the daemon is stopped before the first request: it cannot answer.
      await stopProcess(node.pid)
      const dest = new KuboDestination({ url: node.apiUrl, timeoutMs: 500, retries: 1, retryDelayMs: 10 })
      const err = await dest.preflight({}).catch((e) => e)
      expect(err).toBeInstanceOf(KuboError)
      expect(err.message).toBe(`Kubo RPC ${node.apiUrl}: version failed: no answer within 500 ms`)
      // An AbortSignal ends a call without waiting for its timeout (60 s per attempt, past jest's limit with retries).
      const slow = new KuboDestination({ url: node.apiUrl, timeoutMs: 60_000, retries: 3 })
      const controller = new AbortController()
      setTimeout(() => controller.abort(new Error('cancelled by the caller')), 200)
      await expect(slow.preflight({ signal: controller.signal })).rejects.toThrow('cancelled by the caller')
    } finally {
      process.kill(node.pid, 'SIGCONT')
      await node.stop()
    }
  })
})
