import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { FirstSource } from '../../src/core/blocks/multi.js'
import type { BlockSource } from '../../src/core/blocks/types.js'
import { publish } from '../../src/core/publish.js'
import { buildMultiPlatformLayout, buildOciLayout, type BuiltOciImage } from '../helpers/images.js'
import { umociAddLayer } from '../publish/helpers.js'
import { describeLayoutImage } from '../helpers/images.js'
import type { KuboNode } from '../helpers/kubo.js'

/** A registry tree published from real images (umoci, regctl) into CAR files. */
export interface PublishedRegistry {
  root: CID
  /** The CARs of both publishes; `source` reads them. */
  cars: CarBlockSource[]
  source: BlockSource
  layout: string
  /** team/app:1.0 (also tagged latest and stable): two layers, one of 3 MiB + 5 bytes of random data (four leaves). */
  app: BuiltOciImage
  /** team/app:2.0: app plus one layer. */
  app2: { manifestDigest: string, configDigest: string, layerDigests: string[] }
  /** team/multi:1.0, a linux/amd64 + linux/arm64 index. */
  multi: { indexDigest: string, amd64: BuiltOciImage, arm64: BuiltOciImage }
  /** The image IDs (config digests) publish reported. */
  imageIds: Record<string, string>
  close: () => Promise<void>
}

export const BIG_FILE_BYTES = 3 * 1024 * 1024 + 5

export async function publishRegistry (dir: string): Promise<PublishedRegistry> {
  const layout = join(dir, 'layout')
  const app = await buildOciLayout(layout, {
    tag: 'v1',
    layers: [{ files: { 'data/big.bin': randomBytes(BIG_FILE_BYTES) } }, { files: { 'app.txt': 'v1\n' } }]
  })
  await umociAddLayer(layout, 'v1', 'v2', { 'app.txt': 'v2\n' })
  const app2 = await describeLayoutImage(layout, 'v2')
  const multiLayout = join(dir, 'multi')
  const multi = await buildMultiPlatformLayout(multiLayout)
  const now = new Date('2026-11-01T00:00:00.000Z')
  const one = await publish({ image: { kind: 'file', path: `${layout}:v1` }, name: 'team/app', tags: ['1.0', 'latest', 'stable'], carPath: join(dir, 'one.car'), tempDir: dir, now })
  const cars = [await CarBlockSource.open(one.car.path)]
  const two = await publish({ image: { kind: 'file', path: `${layout}:v2` }, name: 'team/app', tags: ['2.0'], previousRoot: CID.parse(one.rootCid), sources: [...cars], carPath: join(dir, 'two.car'), tempDir: dir, now })
  cars.push(await CarBlockSource.open(two.car.path))
  const three = await publish({ image: { kind: 'file', path: `${multiLayout}:multi` }, name: 'team/multi', tags: ['1.0'], previousRoot: CID.parse(two.rootCid), sources: [...cars], carPath: join(dir, 'three.car'), tempDir: dir, now })
  cars.push(await CarBlockSource.open(three.car.path))
  return {
    root: CID.parse(three.rootCid),
    cars,
    source: new FirstSource(cars),
    layout,
    app,
    app2,
    multi: { indexDigest: multi.indexDigest, amd64: multi.amd64, arm64: multi.arm64 },
    imageIds: { 'team/app:1.0': one.imageId, 'team/app:2.0': two.imageId, 'team/multi:1.0': three.imageId },
    close: async () => { await Promise.all(cars.map(async (car) => { await car.close() })) }
  }
}

/** Imports the registry's CARs into a Kubo node (blocks only, nothing pinned). */
export async function importInto (kubo: KuboNode, registry: PublishedRegistry): Promise<void> {
  for (const car of registry.cars) await kubo.ipfs('dag', 'import', '--pin-roots=false', car.path)
}

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** The connection ended before the body did (Content-Length not reached). */
  cut: boolean
}

/** One request with node:http, the body read whole; a connection cut mid-body is reported, not thrown. */
export async function request (url: string, options: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<Answer> {
  const { request: send } = await import('node:http')
  return await new Promise<Answer>((resolve, reject) => {
    const req = send(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      let done = false
      const finish = (cut: boolean): void => {
        if (done) return
        done = true
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), cut })
      }
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => { finish(!res.complete) })
      res.on('aborted', () => { finish(true) })
      res.on('error', () => { finish(true) })
      res.on('close', () => { finish(!res.complete) })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}
