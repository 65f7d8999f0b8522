import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { PinningServiceDestination } from '../../src/core/pinning/psa.js'
import { runPipeline } from '../../src/core/pipeline.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { startCluster, type ClusterPeer, type TestCluster } from '../helpers/cluster.js'
import { carContents } from '../publish/helpers.js'

// Issue 10: a second, independently written Pinning Service API server: an IPFS Cluster
// peer's pinsvcapi. Its Kubo has no copy of the blocks: it connects to the pin's origins
// (the runner's embedded node) and fetches them there.
let dir: string
let layout: string
let cluster: TestCluster

beforeAll(async () => {
  dir = await makeTempDir('ipcr-cluster-psa-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'pinned through a cluster peer\'s pinning service API\n' } }] })
  cluster = await startCluster({ peers: 2 })
}, 120_000)

afterAll(async () => {
  await cluster?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('IPFS Cluster\'s Pinning Service API', () => {
  test('pins the root from the runner\'s embedded node, on every peer\'s Kubo', async () => {
    const peer = cluster.peers[0] as ClusterPeer
    const destination = new PinningServiceDestination({ name: 'cluster', endpoint: peer.pinsvcUrl, token: 'cluster-has-no-token-here', timeoutMs: 120_000 })
    const car = join(dir, 'registry.car')
    const result = await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: ['v1'], tempDir: dir, carPath: car, destinations: [destination], network: { listen: ['/ip4/127.0.0.1/tcp/0'] } })
    expect(result.destinations[0]).toMatchObject({ kind: 'psa', ok: true, details: { status: 'pinned', pinned: result.rootCid } })
    const blocks = (await carContents(car)).cids
    for (const p of cluster.peers) {
      expect(await p.kubo.ipfs('pin', 'ls', '--type=recursive')).toContain(result.rootCid)
      for (const cid of blocks) await p.kubo.ipfs('block', 'stat', '--offline', cid)
    }
  })
})
