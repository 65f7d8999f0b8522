import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { kuboConfig } from '../../src/core/kubo/config.js'
import { importCar, isPinned } from '../../src/core/kubo/pins.js'
import { KuboRpc } from '../../src/core/kubo/rpc.js'
import { makeTempDir } from '../helpers/images.js'
import { MiB, bytesRead, gc, sleep, writeRandomCar } from '../helpers/memory.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'

// The CAR goes to Kubo as fast as Kubo reads it, and what was sent is let go: the
// client's memory stays flat whatever the CAR's size. (Node 20's fetch, under
// kubo-rpc-client's dag.import, kept every chunk it had sent until the request
// ended: a 300 MiB CAR cost 300 MiB.)
const CAR_MIB = 160
let dir: string
let car: string
let root: CID
let kubo: KuboNode

beforeAll(async () => {
  dir = await makeTempDir('ipcr-kubo-import-')
  car = join(dir, 'big.car')
  root = await writeRandomCar(car, CAR_MIB)
  kubo = await startKubo()
}, 60_000)

afterAll(async () => {
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('dag import of a large CAR', () => {
  test(`${CAR_MIB} MiB go to Kubo with the client holding neither what it sent nor what Kubo has not read`, async () => {
    const rpc = new KuboRpc(kuboConfig({ url: kubo.apiUrl }))
    const blocksBefore = (await kubo.ipfs('refs', 'local')).trim().split('\n').length
    gc()
    const base = process.memoryUsage().arrayBuffers
    const start = bytesRead(kubo.pid)
    const importing = importCar(rpc, car)
    // Once Kubo has read 128 MiB, stop it for a second: a client that respects the
    // socket's backpressure waits (one that reads ahead pulls the rest of the CAR into
    // memory), and the 128 MiB sent must be garbage by then (one that keeps them holds them).
    for (let i = 0; i < 10_000 && bytesRead(kubo.pid) - start < 128 * MiB; i++) await sleep(2)
    let held: number
    process.kill(kubo.pid, 'SIGSTOP')
    try {
      await sleep(1500)
      gc() // what is left is what the client holds
      held = process.memoryUsage().arrayBuffers - base
    } finally {
      process.kill(kubo.pid, 'SIGCONT')
    }
    const roots = await importing
    expect(roots.map((r) => r.cid.toString())).toEqual([root.toString()])
    expect(await isPinned(rpc, root)).toBe(true)
    expect((await kubo.ipfs('refs', 'local')).trim().split('\n').length - blocksBefore).toBe(CAR_MIB)
    expect(held).toBeLessThan(32 * MiB)
  })
})
