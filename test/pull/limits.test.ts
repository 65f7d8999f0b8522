import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { CarFileWriter } from '../../src/core/car/writer.js'
import { jsonBytes } from '../../src/core/image/blob.js'
import { openPullSources } from '../../src/core/pull/sources.js'
import { pullImage } from '../../src/core/pull/pull.js'
import { editTree } from '../../src/core/unixfs/edit.js'
import { importBytes } from '../../src/core/unixfs/file.js'
import { makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { startGatewayProxy, type GatewayProxy } from './proxy.js'

const MiB = 1024 * 1024
let dir: string
let kubo: KuboNode
let proxy: GatewayProxy
let root: CID

beforeAll(async () => {
  dir = await makeTempDir('ipcr-pull-limits-')
  kubo = await startKubo()
  proxy = await startGatewayProxy(kubo.gatewayUrl)
  // Two tag folders holding the same 3 MiB blob: 'honest' links it with its true size, 'lies' with 100 bytes.
  const bytes = randomBytes(3 * MiB)
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  const carPath = join(dir, 'tree.car')
  const car = await CarFileWriter.create(carPath)
  const file = await importBytes(bytes, car)
  const index = await importBytes(jsonBytes({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: bytes.length }] }), car)
  const blob = ['blobs', 'sha256', digest.slice(7)]
  const tree = await editTree(null, [
    { path: ['team', 'app', 'tags', 'honest', ...blob], node: file },
    { path: ['team', 'app', 'tags', 'honest', 'index.json'], node: index },
    { path: ['team', 'app', 'tags', 'lies', ...blob], node: { cid: file.cid, size: 100 } },
    { path: ['team', 'app', 'tags', 'lies', 'index.json'], node: index }
  ], null, car)
  await car.close(tree.cid)
  root = tree.cid
  await kubo.ipfs('dag', 'import', '--pin-roots=false', carPath)
})

afterAll(async () => {
  await proxy?.close()
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

async function pull (tag: string, maxBytes: number): Promise<unknown> {
  const sources = await openPullSources([{ kind: 'gateway', url: proxy.url }])
  try {
    return await pullImage({ reference: `ipfs/${root.toString()}/team/app:${tag}`, sources, cacheDir: join(dir, `cache-${tag}-${maxBytes}`), output: join(dir, `out-${tag}-${maxBytes}`), limits: { maxBytes }, limitNames: { maxBytes: '--max-bytes' } })
  } finally {
    await sources.close()
  }
}

test('a tag folder declaring more bytes than the limit is refused before any blob is fetched', async () => {
  proxy.requests.length = 0
  await expect(pull('honest', 2 * MiB)).rejects.toThrow(/over the limit --max-bytes \(2\.0 MiB\)/)
  expect(proxy.requests.filter((r) => r.includes('format=car'))).toEqual([])
})

test('a tag folder that understates its size is stopped at the limit while fetching', async () => {
  proxy.requests.length = 0
  await expect(pull('lies', 2 * MiB)).rejects.toThrow(/more than 2 MiB of blocks to pull .*: over the limit --max-bytes/)
  // The same folder within a limit that fits it is pulled.
  await expect(pull('lies', 4 * MiB)).resolves.toMatchObject({ written: { files: 2 } })
})
