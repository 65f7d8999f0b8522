import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { KuboDestination } from '../../src/core/kubo/destination.js'
import type { Logger } from '../../src/core/logger.js'
import { runPipeline } from '../../src/core/pipeline.js'
import { buildOciLayout, describeLayoutImage, dockerImageId, dockerLoad, dockerRemove, makeTempDir, skopeoCopy } from '../helpers/images.js'
import { startKubo, swarmAddress, type KuboNode } from '../helpers/kubo.js'
import { carContents, umociAddLayer } from '../publish/helpers.js'

// Two online Kubo nodes on loopback, no bootstrap peers: ipcr publishes to A through
// its RPC API; B, connected to A only, fetches the tag folders over bitswap, and
// `docker load` of what B wrote gives back the original images.
let dir: string
let layout: string
let v2: string
let a: KuboNode
let b: KuboNode
const images: string[] = []

beforeAll(async () => {
  dir = await makeTempDir('ipcr-two-nodes-')
  layout = join(dir, 'layout')
  // A 32 MiB base layer (random: it does not compress), shared by v1 and v2.
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'usr/lib/base.so': randomBytes(32 * 1024 * 1024) } }, { files: { 'app.txt': 'v1\n' } }] })
  await umociAddLayer(layout, 'v1', 'v2', { 'app.txt': 'v2\n' })
  // A layout's first image is the one published: v2 gets a layout of its own.
  v2 = join(dir, 'v2')
  await skopeoCopy(`oci:${layout}:v2`, `oci:${v2}:v2`)
  ;[a, b] = await Promise.all([startKubo({ offline: false }), startKubo({ offline: false })])
  await b.ipfs('swarm', 'connect', await swarmAddress(a))
}, 60_000)

afterAll(async () => {
  await dockerRemove(...images)
  await Promise.all([a?.stop(), b?.stop()])
  await rm(dir, { recursive: true, force: true })
})

/** A block's key as Kubo's blockstore has it: its multihash (`refs local` prints it as a raw CIDv1). */
function blockKey (cid: string): string {
  return CID.createV1(0x55, CID.parse(cid).multihash).toString()
}

/** Every block in a node's blockstore. */
async function localBlocks (node: KuboNode): Promise<Set<string>> {
  return new Set((await node.ipfs('refs', 'local')).split('\n').filter((l) => l !== '').map(blockKey))
}

/** B: `ipfs get` of a tag folder, `tar -C DIR -cf - . | docker load`, the image ID docker reports. */
async function loadOnB (root: string, tag: string): Promise<string> {
  const out = join(dir, `b-${tag}`)
  await b.ipfs('get', '-o', out, `/ipfs/${root}/nodes/app/tags/${tag}`)
  const ref = `localhost/nodes/app:${tag}`
  images.push(ref)
  await dockerRemove(ref)
  await dockerLoad(out)
  return await dockerImageId(ref)
}

describe('publish to Kubo node A, read from node B', () => {
  test('B loads what ipcr stored on A; the second tag adds only its own blocks to A', async () => {
    expect((await b.ipfs('swarm', 'peers')).trim()).toBe(await swarmAddress(a))
    const dest = new KuboDestination({ url: a.apiUrl, mfsPath: '/ipcr' })
    const first = await runPipeline({ image: { kind: 'file', path: `${layout}:v1` }, name: 'nodes/app', tags: ['v1'], carPath: join(dir, 'v1.car'), tempDir: dir, destinations: [dest] })
    expect((await a.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(first.rootCid)
    // B has nothing of it: everything comes from A over bitswap.
    expect(await b.ipfs('block', 'stat', '--offline', first.rootCid).catch(() => 'absent')).toBe('absent')
    const v1 = (await describeLayoutImage(layout, 'v1')).configDigest
    expect(await loadOnB(first.rootCid, 'v1')).toBe(v1)

    // v2, on the previous root A keeps in MFS: the watcher counts A's blocks right
    // before and right after the store step (before MFS moves, which writes blocks of its own).
    let before = new Set<string>()
    let after = new Set<string>()
    const logger: Logger = {
      debug () {},
      info () {},
      warn () {},
      group: async (name, fn) => {
        if (!name.startsWith('Store in')) return await fn()
        before = await localBlocks(a)
        const result = await fn()
        after = await localBlocks(a)
        return result
      }
    }
    const second = await runPipeline({ image: { kind: 'file', path: v2 }, name: 'nodes/app', tags: ['v2'], carPath: join(dir, 'v2.car'), tempDir: dir, destinations: [dest], logger })
    expect(second.previousRoot).toBe(first.rootCid)
    expect(second.reusedBlobs).toBe(2) // the base layer and v1's app layer
    const car = await carContents(second.car.path)
    const carBlocks = new Set([...car.cids].map(blockKey))
    expect(carBlocks.size).toBe(second.car.blocks)
    // A holds exactly what it held plus the CAR's blocks. One of them it had already:
    // oci-layout, the same few bytes in every tag folder, which publish writes every time.
    expect(new Set([...before, ...carBlocks])).toEqual(after)
    const ociLayout = (await a.ipfs('resolve', '-r', `/ipfs/${second.rootCid}/nodes/app/tags/v2/oci-layout`)).trim().replace('/ipfs/', '')
    expect([...carBlocks].filter((cid) => before.has(cid))).toEqual([blockKey(ociLayout)])
    expect(after.size - before.size).toBe(second.car.blocks - 1)
    // Far less than the first import: no base-layer chunk again.
    expect(second.car.blocks).toBeLessThan(first.car.blocks / 3)
    expect(second.car.bytes).toBeLessThan(first.car.bytes / 100)

    expect((await a.ipfs('files', 'stat', '--hash', '/ipcr')).trim()).toBe(second.rootCid)
    expect(await loadOnB(second.rootCid, 'v1')).toBe(v1)
    expect(await loadOnB(second.rootCid, 'v2')).toBe((await describeLayoutImage(v2, 'v2')).configDigest)
  })
})
