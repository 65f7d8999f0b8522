import { CarWriter } from '@ipld/car/writer'
import { randomBytes } from 'node:crypto'
import { createWriteStream, readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

// What the upload memory tests share: a large CAR of random raw blocks, a process's reads,
// and the garbage collector.

export const MiB = 1024 * 1024

/** Writes `mib` MiB of random raw blocks of `blockBytes` each as a CAR at `path`; returns its root (the first block). */
export async function writeRandomCar (path: string, mib: number, blockBytes = MiB): Promise<CID> {
  const blocks: Array<{ cid: CID, bytes: Uint8Array }> = []
  for (let i = 0; i < mib * MiB / blockBytes; i++) {
    const bytes = randomBytes(blockBytes)
    blocks.push({ cid: CID.createV1(0x55, await sha256.digest(bytes)), bytes })
  }
  const root = (blocks[0] as { cid: CID }).cid
  const { writer, out } = CarWriter.create([root])
  const written = pipeline(Readable.from(out), createWriteStream(path))
  for (const block of blocks) await writer.put(block)
  await writer.close()
  await written
  return root
}

/** Bytes a process has read so far (sockets included), from /proc/<pid>/io. */
export function bytesRead (pid: number): number {
  const m = /^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))
  return m != null ? Number(m[1]) : 0
}

/** The garbage collector, without --expose-gc on the command line. */
setFlagsFromString('--expose-gc')
export const gc = runInNewContext('gc') as () => void

export const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Garbage collected, and the backing stores of dead buffers released (that may lag a collection). */
export async function settle (): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc()
    await sleep(50)
  }
}
