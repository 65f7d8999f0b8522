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

/**
 * Runs the real CLI under `/usr/bin/time -v` (for its peak RSS) and `prlimit --as` (so that a
 * run whose memory grows without bound fails at 1.5 GiB of address space instead of filling the machine).
 */
async function ipcr (...args: string[]): Promise<Run> {
  const child = spawn('/usr/bin/time', ['-v', 'prlimit', `--as=${1536 * MiB}`, process.execPath, cli, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
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
  expect(names.filter((n) => n === out || n.startsWith(`.${out}.`))).toEqual([])
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
    expect(run.stderr).not.toMatch(/^ipcr: /m)
    expect(run.code).toBe(0)
    expect((await stat(join(dir, 'big.bin'))).size).toBe(size)
    const head = await readFile(join(dir, 'big.bin'))
    expect(head.subarray(MiB * 300 + 4, MiB * 301).equals(base.subarray(4))).toBe(true)
    expect(head.readUInt32BE(MiB * 300)).toBe(300)
    expect(run.peakRssKiB).toBeLessThan(200 * 1024)
    await rm(join(dir, 'big.bin'))
    await rm(path)
  })

  test('a small CAR holding a 128 GiB file (one leaf linked over and over) is refused before anything is written', async () => {
    const leaf = await rawBlock(bytesOf(MiB, 3))
    const gib = await node(new UnixFS({ type: 'file', blockSizes: Array.from({ length: 1024 }, () => BigInt(MiB)) }), Array.from({ length: 1024 }, () => ({ Hash: leaf.cid, Tsize: leaf.size })))
    const file = await node(new UnixFS({ type: 'file', blockSizes: Array.from({ length: 128 }, () => BigInt(1024 * MiB)) }), Array.from({ length: 128 }, () => ({ Hash: gib.cid, Tsize: gib.size })))
    const car = await writeCar('bomb.car', file.cid, [file, gib, leaf])
    expect((await stat(car)).size).toBeLessThan(2 * MiB)

    const run = await ipcr('get', '--car', car, `/ipfs/${file.cid.toString()}`, '-o', 'bomb.bin')
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('--max-bytes')
    expect(run.stderr).toContain('64 GiB')
    await expectNothingLeft('bomb.bin')
    expect(run.peakRssKiB).toBeLessThan(200 * 1024)
    // The same file is refused under a smaller limit, and the limit is set in any unit.
    const small = await ipcr('get', '--car', car, `/ipfs/${gib.cid.toString()}`, '-o', 'gib.bin', '--max-bytes', '512MiB')
    expect(small.code).toBe(1)
    expect(small.stderr).toContain('--max-bytes (512 MiB)')
    await expectNothingLeft('gib.bin')
  })

  test('a 3 KB CAR of nested directories expanding to 2^24 files is refused before anything is written', async () => {
    const empty = await rawBlock(new Uint8Array(0))
    let level = await node(new UnixFS({ type: 'directory' }), [{ Name: 'f', Hash: empty.cid, Tsize: 0 }])
    const blocks = [level, empty]
    for (let i = 0; i < 24; i++) {
      level = await node(new UnixFS({ type: 'directory' }), [{ Name: 'a', Hash: level.cid, Tsize: level.size }, { Name: 'b', Hash: level.cid, Tsize: level.size }])
      blocks.push(level)
    }
    const car = await writeCar('nested.car', level.cid, blocks)
    expect((await stat(car)).size).toBeLessThan(4096)

    const run = await ipcr('get', '--car', car, `/ipfs/${level.cid.toString()}`, '-o', 'nested')
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('--max-entries')
    await expectNothingLeft('nested')
    expect(run.peakRssKiB).toBeLessThan(200 * 1024)
  })

  test('sizes a DAG understates are enforced while writing; the partial output is removed', async () => {
    // A directory whose links claim 10 bytes for 64 KiB files: the measure passes, the writing does not.
    const files = await Promise.all([1, 2, 3].map(async (seed) => await rawBlock(bytesOf(64 * 1024, seed))))
    const dirNode = await node(new UnixFS({ type: 'directory' }), files.map((f, i) => ({ Name: `f${i}`, Hash: f.cid, Tsize: 10 })))
    const car = await writeCar('understated.car', dirNode.cid, [dirNode, ...files])
    const run = await ipcr('get', '--car', car, `/ipfs/${dirNode.cid.toString()}`, '-o', 'understated', '--max-bytes', '100KiB')
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('--max-bytes (100 KiB)')
    await expectNothingLeft('understated')

    // A file node whose block sizes disagree with its leaves.
    const leaf = files[0] as { cid: CID, bytes: Uint8Array, size: number }
    const liar = await node(new UnixFS({ type: 'file', blockSizes: [10n, 10n] }), [{ Hash: leaf.cid, Tsize: leaf.size }, { Hash: leaf.cid, Tsize: leaf.size }])
    const liarCar = await writeCar('liar.car', liar.cid, [liar, leaf])
    const lie = await ipcr('get', '--car', liarCar, `/ipfs/${liar.cid.toString()}`, '-o', 'liar.bin')
    expect(lie.code).toBe(1)
    expect(lie.stderr).toContain('where its parent says 10')
    await expectNothingLeft('liar.bin')

    // Within the limits the same kind of tree is written in full.
    const ok = await ipcr('get', '--car', car, `/ipfs/${dirNode.cid.toString()}`, '-o', 'fits', '--max-bytes', '192KiB', '--max-entries', '4')
    expect(ok.stderr).not.toMatch(/^ipcr: /m)
    // Progress never claims more than 100% of a size the DAG understated.
    expect([...ok.stderr.matchAll(/\((\d+)%\)/g)].every((m) => Number(m[1]) <= 100)).toBe(true)
    expect(ok.code).toBe(0)
    expect((await readdir(join(dir, 'fits'))).sort()).toEqual(['f0', 'f1', 'f2'])
    expect((await readdir(dir)).filter((n) => n.startsWith('.fits.'))).toEqual([])
  })

  test('limits are checked as given: too few entries, a bad size', async () => {
    const files = await Promise.all([1, 2, 3].map(async (seed) => await rawBlock(bytesOf(100, seed))))
    const dirNode = await node(new UnixFS({ type: 'directory' }), files.map((f, i) => ({ Name: `f${i}`, Hash: f.cid, Tsize: f.size })))
    const car = await writeCar('three.car', dirNode.cid, [dirNode, ...files])
    const few = await ipcr('get', '--car', car, `/ipfs/${dirNode.cid.toString()}`, '-o', 'few', '--max-entries', '3')
    expect(few.code).toBe(1)
    expect(few.stderr).toContain('--max-entries (3)')
    await expectNothingLeft('few')
    const bad = await ipcr('get', '--car', car, `/ipfs/${dirNode.cid.toString()}`, '-o', 'bad', '--max-bytes', 'lots')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('ipcr: --max-bytes: ')
    await expectNothingLeft('bad')
  })
})
