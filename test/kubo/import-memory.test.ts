import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { CarWriter } from '@ipld/car/writer'
import { randomBytes } from 'node:crypto'
import { createWriteStream, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { pipeline } from 'node:stream/promises'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { kuboConfig } from '../../src/core/kubo/config.js'
import { importCar, isPinned } from '../../src/core/kubo/pins.js'
import { KuboRpc } from '../../src/core/kubo/rpc.js'
import { makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'

// The CAR goes to Kubo as fast as Kubo reads it, and what was sent is let go: the
// client's memory stays flat whatever the CAR's size. (Node 20's fetch, under
// kubo-rpc-client's dag.import, kept every chunk it had sent until the request
// ended: a 300 MiB CAR cost 300 MiB.)
const MiB = 1024 * 1024
const CAR_MIB = 160
let dir: string
let car: string
let root: CID
let kubo: KuboNode

beforeAll(async () => {
  dir = await makeTempDir('ipcr-kubo-import-')
  car = join(dir, 'big.car')
  const blocks: Array<{ cid: CID, bytes: Uint8Array }> = []
  for (let i = 0; i < CAR_MIB; i++) {
    const bytes = randomBytes(MiB)
    blocks.push({ cid: CID.createV1(0x55, await sha256.digest(bytes)), bytes })
  }
  root = (blocks[0] as { cid: CID }).cid
  const { writer, out } = CarWriter.create([root])
  const written = pipeline(Readable.from(out), createWriteStream(car))
  for (const block of blocks) await writer.put(block)
  await writer.close()
  await written
  blocks.length = 0
  kubo = await startKubo()
}, 60_000)

afterAll(async () => {
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

/** Bytes a process has read so far (sockets included), from /proc/<pid>/io. */
function bytesRead (pid: number): number {
  const m = /^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))
  return m != null ? Number(m[1]) : 0
}

/** The garbage collector, without --expose-gc on the command line. */
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

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
