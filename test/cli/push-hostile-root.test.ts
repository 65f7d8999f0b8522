import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { readdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { CarFileWriter } from '../../src/core/car/writer.js'
import { demoImage, writeSampleImage } from '../../src/core/sample.js'
import { makeTempDir } from '../helpers/images.js'

const cli = resolve('dist/cli.js')
const MiB = 1024 * 1024
let dir: string
let image: string

beforeAll(async () => {
  dir = await makeTempDir('ipcr-hostile-root-')
  image = (await writeSampleImage(join(dir, 'image'), demoImage)).dir
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

interface Block { cid: CID, bytes: Uint8Array, size: number }

async function node (unixfs: UnixFS, links: dagPb.PBLink[]): Promise<Block> {
  const bytes = dagPb.encode(dagPb.prepare({ Data: unixfs.marshal(), Links: links }))
  const cid = CID.createV1(dagPb.code, await sha256.digest(bytes))
  return { cid, bytes, size: bytes.length + links.reduce((sum, l) => sum + (l.Tsize ?? 0), 0) }
}

async function rawBlock (bytes: Uint8Array): Promise<Block> {
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes, size: bytes.length }
}

const prefix = (slot: number): string => slot.toString(16).toUpperCase().padStart(2, '0')
const shardData = (): UnixFS => new UnixFS({ type: 'hamt-sharded-directory', data: new Uint8Array(32).fill(0xff), fanout: 256n, hashType: 0x22n })
const dirOf = async (entries: Record<string, Block>): Promise<Block> =>
  await node(new UnixFS({ type: 'directory' }), Object.entries(entries).map(([Name, b]) => ({ Name, Hash: b.cid, Tsize: b.size })))

/** Runs the real CLI under `/usr/bin/time -v` and `prlimit --as` (1.5 GiB of address space). */
async function ipcr (...args: string[]): Promise<{ code: number, stderr: string, peakRssKiB: number }> {
  const child = spawn('/usr/bin/time', ['-v', 'prlimit', `--as=${1536 * MiB}`, process.execPath, cli, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c) => { stderr += String(c) })
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
  if (rss == null) throw new Error(`no peak RSS in: ${stderr}`)
  return { code, stderr: stderr.slice(0, stderr.indexOf('\tCommand being timed')), peakRssKiB: Number(rss[1]) }
}

describe('push onto a hostile previous root', () => {
  test('a HAMT that links one shard 256 times per level (16.7M entries) is refused, naming the root and the path', async () => {
    // Shard C holds 256 entries; B links to C from all 256 slots, A to B: 256^3 entries in 4 small blocks.
    const leaf = await rawBlock(new TextEncoder().encode('blob'))
    const c = await node(shardData(), Array.from({ length: 256 }, (_, i) => ({ Name: `${prefix(i)}${'0'.repeat(60)}${i.toString(16).padStart(4, '0')}`, Hash: leaf.cid, Tsize: leaf.size })))
    const b = await node(shardData(), Array.from({ length: 256 }, (_, i) => ({ Name: prefix(i), Hash: c.cid, Tsize: c.size })))
    const a = await node(shardData(), Array.from({ length: 256 }, (_, i) => ({ Name: prefix(i), Hash: b.cid, Tsize: b.size })))
    const blobs = await dirOf({ sha256: a })
    const tag = await dirOf({ blobs })
    const catalog = await rawBlock(new TextEncoder().encode(JSON.stringify({
      schemaVersion: 1,
      updated: '2026-01-01T00:00:00.000Z',
      images: [{ name: 'team/app', tags: [{ tag: 'v0', digest: `sha256:${'0'.repeat(64)}`, platforms: ['linux/amd64'], size: 4, cid: tag.cid.toString(), published: '2026-01-01T00:00:00.000Z' }] }]
    })))
    const tags = await dirOf({ v0: tag })
    const app = await dirOf({ tags })
    const team = await dirOf({ app })
    const root = await dirOf({ 'catalog.json': catalog, team })
    const carPath = join(dir, 'hostile.car')
    const car = await CarFileWriter.create(carPath)
    for (const block of [root, catalog, team, app, tags, tag, blobs, a, b, c, leaf]) await car.put(block.cid, block.bytes)
    await car.close(root.cid)

    const run = await ipcr('push', '--file', image, '--name', 'team/app', '--tag', 'v1', '--previous-root', root.cid.toString(), '--previous-car', carPath, '--car', 'out.car')
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`previous root ${root.cid.toString()}, /team/app/tags/v0/blobs/sha256`)
    expect(run.stderr).toContain(`HAMT shard ${b.cid.toString()} is linked more than once`)
    expect((await readdir(dir)).filter((n) => n.startsWith('out.car'))).toEqual([])
    expect(run.peakRssKiB).toBeLessThan(300 * 1024)
  })
})
