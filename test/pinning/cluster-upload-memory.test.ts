import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { ClusterDestination } from '../../src/core/pinning/cluster.js'
import type { DestinationContext } from '../../src/core/destinations/types.js'
import { makeTempDir } from '../helpers/images.js'
import { MiB, bytesRead, settle, sleep, writeRandomCar } from '../helpers/memory.js'
import { startCluster, type ClusterPeer, type TestCluster } from '../helpers/cluster.js'

// The CAR goes to the cluster as fast as the cluster reads it, and what was sent is let
// go: the client's memory stays flat whatever the CAR's size (as for Kubo's dag import).
const CAR_MIB = 160
const BLOCK = 512 * 1024
let dir: string
let car: string
let root: CID
let cluster: TestCluster

beforeAll(async () => {
  dir = await makeTempDir('ipcr-cluster-upload-')
  car = join(dir, 'big.car')
  root = await writeRandomCar(car, CAR_MIB, BLOCK)
  cluster = await startCluster({ peers: 1 })
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('cluster add of a large CAR', () => {
  test(`${CAR_MIB} MiB go to the cluster with the client holding neither what it sent nor what the cluster has not read`, async () => {
    const peer = cluster.peers[0] as ClusterPeer
    const dest = new ClusterDestination({ url: peer.apiUrl, pinName: 'ipcr big' })
    await dest.preflight({})
    await settle()
    const base = process.memoryUsage().arrayBuffers
    const start = bytesRead(peer.pid)
    const storing = dest.store({ root, carPath: car, previousRoot: null, result: {} as DestinationContext['result'] })
    // Once the cluster peer has read 48 MiB, stop it for a second: a client that respects the
    // socket's backpressure waits (one that reads ahead pulls the rest of the CAR into
    // memory), and what was sent must be garbage by then (one that keeps it holds it).
    for (let i = 0; i < 10_000 && bytesRead(peer.pid) - start < 48 * MiB; i++) await sleep(2)
    let held: number
    process.kill(peer.pid, 'SIGSTOP')
    try {
      await sleep(1500)
      await settle() // what is left is what the client holds
      held = process.memoryUsage().arrayBuffers - base
    } finally {
      process.kill(peer.pid, 'SIGCONT')
    }
    const report = await storing
    expect(report.details).toMatchObject({ pinned: root.toString(), peersPinned: 1 })
    expect(await peer.kubo.ipfs('pin', 'ls', '--type=recursive')).toContain(root.toString())
    expect(held).toBeLessThan(32 * MiB)
  })
})
