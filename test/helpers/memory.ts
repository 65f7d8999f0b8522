import { CarWriter } from '@ipld/car/writer'
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream, readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { CarFileWriter } from '../../src/core/car/writer.js'
import { importFile } from '../../src/core/unixfs/file.js'

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

/** A file of `size` random bytes imported into a new CAR at `path`, left open for more blocks; its node and sha256 digest. */
export async function randomFileInCar (path: string, size: number): Promise<{ car: CarFileWriter, file: Awaited<ReturnType<typeof importFile>>, digest: string }> {
  const hash = createHash('sha256')
  async function * content (): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < size; i += MiB) {
      const chunk = randomBytes(Math.min(MiB, size - i))
      hash.update(chunk)
      yield chunk
    }
  }
  const car = await CarFileWriter.create(path)
  const file = await importFile(content(), car)
  return { car, file, digest: `sha256:${hash.digest('hex')}` }
}
