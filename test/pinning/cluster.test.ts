import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { CarWriter } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { DestinationContext } from '../../src/core/destinations/types.js'
import { createProviders } from '../../src/core/destinations/settings.js'
import { InputError } from '../../src/core/errors.js'
import { ClusterDestination, replicationOf } from '../../src/core/pinning/cluster.js'
import { runPipeline } from '../../src/core/pipeline.js'
import { redact } from '../../src/core/redact.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { startCluster, type ClusterPeer, type TestCluster } from '../helpers/cluster.js'
import { startKubo, swarmAddress } from '../helpers/kubo.js'

let dir: string
let layout: string
let cluster: TestCluster
const auth = { user: 'ipcr', password: 'cluster-rest-password-1' }

beforeAll(async () => {
  dir = await makeTempDir('ipcr-cluster-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'cluster destination\n' } }] })
  cluster = await startCluster({ peers: 2, basicAuth: auth })
})

afterAll(async () => {
  await cluster?.stop()
  await rm(dir, { recursive: true, force: true })
})

function peer (i: number): ClusterPeer {
  return cluster.peers[i] as ClusterPeer
}

async function recursivePins (p: ClusterPeer): Promise<string> {
  return await p.kubo.ipfs('pin', 'ls', '--type=recursive')
}

/** Polls (bounded) until `check` holds; cluster unpins on the IPFS daemons after DELETE answered. */
async function eventually (what: string, check: () => Promise<boolean>): Promise<void> {
  // Generous: the bound only keeps a broken run from hanging.
  for (let i = 0; i < 600; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${what}: not within 600 attempts`)
}

/** A CAR of one directory block linking to `missing` (by default a block that exists nowhere: no IPFS daemon can ever pin it). */
async function partialCar (path: string, link?: CID): Promise<CID> {
  const missing = link ?? CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode(`missing ${Date.now()} ${Math.random()}`)))
  const bytes = dagPb.encode(dagPb.prepare({ Data: new Uint8Array([8, 1]), Links: [{ Hash: missing, Name: 'gone', Tsize: 1 }] }))
  const root = CID.create(1, dagPb.code, await sha256.digest(bytes))
  const { writer, out } = CarWriter.create([root])
  const written = pipeline(Readable.from(out), createWriteStream(path))
  await writer.put({ cid: root, bytes })
  await writer.close()
  await written
  return root
}

function storeContext (root: CID, carPath: string): DestinationContext {
  return { root, carPath, previousRoot: null, result: {} as DestinationContext['result'] }
}

describe('IPFS Cluster destination', () => {
  test('uploads the CAR, waits until both peers pinned it (replication 2), and the next publish unpins the previous root last', async () => {
    const config = { url: peer(0).apiUrl, auth: `${auth.user}:${auth.password}`, replicationMin: 2, replicationMax: 2, pinName: 'ipcr test' }
    const first = await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: ['v1'], tempDir: dir, destinations: [new ClusterDestination(config)] })
    expect(first.destinations[0]).toMatchObject({ kind: 'cluster', details: { pinned: first.rootCid, pinName: 'ipcr test', peersPinned: 2, peersAllocated: 2, replicationMin: 2, replicationMax: 2 } })
    for (const p of cluster.peers) expect(await recursivePins(p)).toContain(first.rootCid)

    // Through the settings, as the shells build it, against the other peer's REST API.
    const { destinations } = createProviders({ cluster: { ...config, url: peer(1).apiUrl } }, undefined as never)
    const second = await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: ['v2'], tempDir: dir, destinations })
    expect(second.rootCid).not.toBe(first.rootCid)
    expect(second.destinations[0]?.details).toMatchObject({ pinned: second.rootCid, peersPinned: 2 })
    for (const p of cluster.peers) {
      expect(await recursivePins(p)).toContain(second.rootCid)
      await eventually(`${p.name} unpins ${first.rootCid}`, async () => !(await recursivePins(p)).includes(first.rootCid))
    }
    const allocations = await peer(0).ctl('--enc', 'json', 'pin', 'ls')
    expect(allocations).toContain(second.rootCid)
    expect(allocations).not.toContain(first.rootCid)

    // Each peer's Pinning Service API (pinsvcapi) serves the same pin as pinned.
    for (const p of cluster.peers) {
      const response = await fetch(`${p.pinsvcUrl}/pins?cid=${second.rootCid}`)
      expect(response.status).toBe(200)
      const body = await response.json() as { count: number, results: Array<{ status: string, pin: { cid: string, name?: string } }> }
      expect(body.count).toBe(1)
      expect(body.results[0]).toMatchObject({ status: 'pinned', pin: { cid: second.rootCid, name: 'ipcr test' } })
    }
  })

  test('replication -1: every peer pins it', async () => {
    const dest = new ClusterDestination({ url: peer(0).apiUrl, auth: `${auth.user}:${auth.password}`, replicationMin: -1, pinName: 'ipcr everywhere' })
    const result = await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/everywhere', tags: ['v1'], tempDir: dir, destinations: [dest] })
    expect(result.destinations[0]?.details).toMatchObject({ pinned: result.rootCid, peersPinned: 2, peersAllocated: 2, replicationMin: -1, replicationMax: -1 })
    for (const p of cluster.peers) expect(await recursivePins(p)).toContain(result.rootCid)
    await dest.api.unpin(CID.parse(result.rootCid))
  })

  test('pinned everywhere, a peer the cluster cannot ask is not waited for; a peer in pin_error that leaves too few fails', () => {
    const status = (statuses: string[], allocations: string[] = []): Parameters<typeof replicationOf>[0] => ({
      allocations,
      peer_map: Object.fromEntries(statuses.map((s, i) => [`id${i}`, { peername: `p${i}`, status: s, ...(s === 'pin_error' ? { error: 'context deadline exceeded' } : {}) }]))
    })
    expect(replicationOf(status(['pinned', 'pinned', 'cluster_error']), -1)).toMatchObject({ pinned: 2, allocated: 3, needed: 2, unreachable: 1, hopeless: false })
    expect(replicationOf(status(['pinned', 'pinning', 'cluster_error']), -1)).toMatchObject({ pinned: 1, needed: 2 })
    // Allocated to two of three peers: the third is 'remote'.
    expect(replicationOf(status(['pinned', 'remote', 'pin_error'], ['id0', 'id2']), 2)).toMatchObject({ pinned: 1, allocated: 2, needed: 2, hopeless: true, failed: ['p2: pin_error (context deadline exceeded)'] })
    expect(replicationOf(status(['pinned', 'remote', 'pinning'], ['id0', 'id2']), 1)).toMatchObject({ pinned: 1, allocated: 2, needed: 1, hopeless: false })
  })

  test('a wrong password is refused at preflight with a clear error that does not hold it', async () => {
    const password = 'wrong-cluster-password-42'
    const dest = new ClusterDestination({ url: peer(0).apiUrl, auth: `${auth.user}:${password}` })
    const err = await dest.preflight({}).then(() => undefined, (e: unknown) => e as Error)
    expect(err?.message).toMatch(/refused the credentials \(HTTP 401\); check cluster-api-auth/)
    expect(err?.message).toContain(new URL(peer(0).apiUrl).origin)
    expect(err?.message).not.toContain(password)
    expect(err?.message).not.toContain(Buffer.from(`${auth.user}:${password}`).toString('base64'))
    expect(redact(`x ${password} y`)).toBe('x *** y')

    // No credentials at all: the same.
    await expect(new ClusterDestination({ url: peer(0).apiUrl }).preflight({})).rejects.toThrow(/HTTP 401/)
  })

  test('a bearer token from POST /token is accepted', async () => {
    const response = await fetch(`${peer(0).apiUrl}/token`, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` } })
    expect(response.status).toBe(200)
    const { token } = await response.json() as { token: string }
    expect(token).not.toContain(':')
    const logs: string[] = []
    const logger = { debug () {}, info (m: string) { logs.push(m) }, warn (m: string) { logs.push(m) }, group: async <T>(_: string, fn: () => Promise<T>) => await fn() }
    await new ClusterDestination({ url: peer(0).apiUrl, auth: token }, logger).preflight({})
    expect(logs.join('\n')).toContain(`IPFS Cluster 1.1.6`)
    expect(logs.join('\n')).toContain(peer(0).id)
    await expect(new ClusterDestination({ url: peer(0).apiUrl, auth: `${token.slice(0, -4)}AAAA` }).preflight({})).rejects.toThrow(/refused the credentials \(HTTP 401\)/)
  })

  test('more peers than the cluster has: the add fails saying why; not required, the run still succeeds with an ok:false report', async () => {
    const config = { url: peer(0).apiUrl, auth: `${auth.user}:${auth.password}`, replicationMin: 3, replicationMax: 3, pinName: 'ipcr too many' }
    const run = runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: ['v3'], tempDir: dir, destinations: [new ClusterDestination(config)] })
    await expect(run).rejects.toThrow(/IPFS Cluster http:\/\/127\.0\.0\.1:\d+\/add: .*not enough peers to allocate/)

    const result = await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: ['v3'], tempDir: dir, destinations: [new ClusterDestination({ ...config, required: false })] })
    expect(result.destinations[0]).toMatchObject({ ok: false, required: false })
    expect(result.destinations[0]?.error).toMatch(/not enough peers to allocate/)
  })

  test('a pin that never completes ends at the pin timeout with each peer\'s status', async () => {
    const carPath = join(dir, 'unpinnable.car')
    const root = await partialCar(carPath)
    const dest = new ClusterDestination({ url: peer(0).apiUrl, auth: `${auth.user}:${auth.password}`, replicationMin: 2, replicationMax: 2, pinName: 'ipcr stuck', timeoutMs: 3000 })
    await dest.preflight({})
    try {
      const err = await dest.store(storeContext(root, carPath)).then(() => undefined, (e: unknown) => e as Error)
      expect(err?.message).toMatch(new RegExp(`${root.toString()} not pinned on 2 peer\\(s\\) within the pin timeout \\(3 s\\): 0 pinned \\(peer[01]: (pinning|pin_queued), peer[01]: (pinning|pin_queued)\\)`))
      expect(await recursivePins(peer(0))).not.toContain(root.toString())
    } finally {
      await dest.api.unpin(root)
    }
  })

  test('a CAR without some blocks: the peers fetch them from the origins the run serves them at', async () => {
    const origin = await startKubo({ offline: false })
    const dest = new ClusterDestination({ url: peer(1).apiUrl, auth: `${auth.user}:${auth.password}`, replicationMin: 2, replicationMax: 2, pinName: 'ipcr origins', timeoutMs: 90_000 })
    let root: CID | undefined
    try {
      const block = CID.parse((await origin.ipfs('block', 'put', '--cid-codec=raw', '/etc/hostname')).trim())
      for (const p of cluster.peers) expect(await p.kubo.ipfs('swarm', 'peers')).not.toContain((await swarmAddress(origin)).split('/p2p/')[1])
      const carPath = join(dir, 'partial.car')
      root = await partialCar(carPath, block)
      const network = { origins: [await swarmAddress(origin)], dial: async () => {} }
      await dest.preflight({})
      const report = await dest.store({ ...storeContext(root, carPath), network })
      expect(report.details).toMatchObject({ pinned: root.toString(), peersPinned: 2 })
      for (const p of cluster.peers) {
        expect(await recursivePins(p)).toContain(root.toString())
        expect((await p.kubo.ipfs('block', 'stat', '--offline', block.toString()))).toContain(block.toString())
      }
    } finally {
      if (root != null) await dest.api.unpin(root)
      await origin.stop()
    }
  })

  test('the constructor checks its configuration without network calls', () => {
    const bad = (config: object, input: string): void => {
      let err: unknown
      try {
        new ClusterDestination({ url: 'http://127.0.0.1:1', ...config })
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(InputError)
      expect((err as InputError).input).toBe(input)
    }
    bad({ url: 'ftp://host' }, 'cluster-api-url')
    bad({ url: '/ip4/127.0.0.1/udp/9094' }, 'cluster-api-url')
    bad({ replicationMin: 3, replicationMax: 2 }, 'cluster-replication-min')
    bad({ replicationMin: 1.5 }, 'cluster-replication-min')
    bad({ replicationMax: 0 }, 'cluster-replication-max')
    bad({ replicationMin: -1, replicationMax: 2 }, 'cluster-replication-max')
    bad({ replicationMin: -2 }, 'cluster-replication-min')
    bad({ pinName: ' ' }, 'pin-name')
    bad({ timeoutMs: 0 }, 'pin-timeout')
    bad({ auth: '' }, 'cluster-api-auth')
    bad({ auth: ':password' }, 'cluster-api-auth')
    bad({ auth: 'two words' }, 'cluster-api-auth')
    bad({ url: 'http://u:p@127.0.0.1:1', auth: 'user:secret' }, 'cluster-api-auth')

    const dest = new ClusterDestination({ url: 'http://admin:s3cret-pass@127.0.0.1:9094/', replicationMin: -1 })
    expect(dest.label).toBe('IPFS Cluster http://127.0.0.1:9094')
    expect(redact('s3cret-pass')).toBe('***')
    expect(new ClusterDestination({ url: '/ip4/127.0.0.1/tcp/9094' }).label).toBe('IPFS Cluster http://127.0.0.1:9094')
  })
})
