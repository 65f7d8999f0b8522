import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { CarFileWriter } from '../../src/core/car/writer.js'
import { importFile } from '../../src/core/unixfs/file.js'
import { makeTempDir } from '../helpers/images.js'
import { bytesOf } from '../unixfs/fixtures.js'

const cli = resolve('dist/cli.js')
const MiB = 1024 * 1024
let dir: string

beforeAll(async () => { dir = await makeTempDir('ipcr-get-limits-') })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

interface Run { code: number, stdout: string, stderr: string, peakRssKiB: number }

/** Runs the real CLI under `/usr/bin/time -v`: its exit code, output and peak RSS. */
async function ipcr (...args: string[]): Promise<Run> {
  const child = spawn('/usr/bin/time', ['-v', process.execPath, cli, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c) => { stdout += String(c) })
  child.stderr.on('data', (c) => { stderr += String(c) })
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
  if (rss == null) throw new Error(`no peak RSS in: ${stderr}`)
  return { code, stdout, stderr: stderr.slice(0, stderr.indexOf('\tCommand being timed')), peakRssKiB: Number(rss[1]) }
}

/** A dag-pb block with UnixFS data; its CID and cumulative size. */
async function node (unixfs: UnixFS, links: dagPb.PBLink[]): Promise<{ cid: CID, bytes: Uint8Array, size: number }> {
  const bytes = dagPb.encode(dagPb.prepare({ Data: unixfs.marshal(), Links: links }))
  const cid = CID.createV1(dagPb.code, await sha256.digest(bytes))
  return { cid, bytes, size: bytes.length + links.reduce((sum, l) => sum + (l.Tsize ?? 0), 0) }
}

async function rawBlock (bytes: Uint8Array): Promise<{ cid: CID, bytes: Uint8Array, size: number }> {
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes, size: bytes.length }
}

/** Writes blocks (deduplicated by the writer) into a CAR with `root`. */
async function writeCar (name: string, root: CID, blocks: Array<{ cid: CID, bytes: Uint8Array }>): Promise<string> {
  const path = join(dir, name)
  const car = await CarFileWriter.create(path)
  for (const block of blocks) await car.put(block.cid, block.bytes)
  await car.close(root)
  return path
}

/** Nothing of a failed get is left next to the output: no output, no temporary sibling. */
async function expectNothingLeft (out: string): Promise<void> {
  const names = await readdir(dir)
  expect(names.filter((n) => n.includes(out))).toEqual([])
}

describe('ipcr get: bounded memory and limits', () => {
  test('a 512 MiB file is written with a peak RSS under 200 MiB', async () => {
    const size = 512 * MiB
    const base = bytesOf(MiB, 7)
    async function * content (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < size / MiB; i++) {
        const chunk = new Uint8Array(base)
        new DataView(chunk.buffer).setUint32(0, i)
        yield chunk
      }
    }
    const path = join(dir, 'big.car')
    const car = await CarFileWriter.create(path)
    const file = await importFile(content(), car)
    await car.close(file.cid)

    const run = await ipcr('get', '--car', path, `/ipfs/${file.cid.toString()}`, '-o', 'big.bin')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect((await stat(join(dir, 'big.bin'))).size).toBe(size)
    const head = await readFile(join(dir, 'big.bin'))
    expect(head.subarray(MiB * 300 + 4, MiB * 301).equals(base.subarray(4))).toBe(true)
    expect(head.readUInt32BE(MiB * 300)).toBe(300)
    expect(run.peakRssKiB).toBeLessThan(200 * 1024)
    await rm(join(dir, 'big.bin'))
    await rm(path)
  })
})
