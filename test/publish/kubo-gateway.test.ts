import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { GatewayBlockSource } from '../../src/core/blocks/gateway.js'
import { publish, type KeptCar, type PublishResult } from '../../src/core/publish.js'
import { buildOciLayout, describeLayoutImage, dockerImageId, dockerLoad, dockerRemove, makeTempDir, skopeoCopy } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { umociAddLayer } from './helpers.js'

// A real Kubo gateway as the trustless source of the previous root, and Kubo's
// `ipfs get` + `ipfs add -r` as the check that the tree is what Kubo would build.
let dir: string
let layout: string
let v2: string
let kubo: KuboNode
const now = new Date('2026-11-03T00:00:00Z')

beforeAll(async () => {
  dir = await makeTempDir('ipcr-kubo-gw-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'big.bin': new Uint8Array(2_500_000).fill(7) } }, { files: { 'app.txt': 'v1\n' } }] })
  await umociAddLayer(layout, 'v1', 'v2', { 'app.txt': 'v2\n' })
  v2 = join(dir, 'v2')
  await skopeoCopy(`oci:${layout}:v2`, `oci:${v2}:v2`)
  kubo = await startKubo()
})

afterAll(async () => {
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

async function publishV2 (previousRoot: string, source: CarBlockSource | GatewayBlockSource, car: string): Promise<PublishResult & KeptCar> {
  return await publish({ image: { kind: 'file', path: v2 }, name: 'gateway/app', tags: ['v2'], previousRoot: CID.parse(previousRoot), sources: [source], carPath: join(dir, car), tempDir: dir, now })
}

describe('previous root read through a real Kubo gateway', () => {
  test('gives the same root as reading the CAR, and Kubo serves the result with the original recipe', async () => {
    const first = await publish({ image: { kind: 'file', path: `${layout}:v1` }, name: 'gateway/app', tags: ['v1'], carPath: join(dir, 'v1.car'), tempDir: dir, now })
    await kubo.ipfs('dag', 'import', first.car.path)

    const viaGateway = await publishV2(first.rootCid, new GatewayBlockSource([kubo.gatewayUrl]), 'v2-gw.car')
    const car = await CarBlockSource.open(first.car.path)
    const viaCar = await publishV2(first.rootCid, car, 'v2-car.car')
    await car.close()
    expect(viaGateway.rootCid).toBe(viaCar.rootCid)
    expect(viaGateway.reusedBlobs).toBeGreaterThanOrEqual(1)

    await kubo.ipfs('dag', 'import', viaGateway.car.path)
    // ipfs get a tag folder, tar -C DIR -cf - . | docker load (the recipe from the original README)
    const out = join(dir, 'v1-folder')
    await kubo.ipfs('get', '-o', out, `/ipfs/${viaGateway.rootCid}/gateway/app/tags/v1`)
    await dockerRemove('localhost/gateway/app:v1')
    await dockerLoad(out)
    expect(await dockerImageId('localhost/gateway/app:v1')).toBe((await describeLayoutImage(layout, 'v1')).configDigest)
    await dockerRemove('localhost/gateway/app:v1')

    // Kubo's own `ipfs add -r` of the whole registry gives our root CID.
    const tree = join(dir, 'tree')
    await kubo.ipfs('get', '-o', tree, `/ipfs/${viaGateway.rootCid}`)
    expect((await kubo.ipfs('add', '-r', '-Q', '--only-hash', '--cid-version', '1', tree)).trim()).toBe(viaGateway.rootCid)
  })
})
