import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { GatewayBlockSource } from '../../src/core/blocks/gateway.js'
import { GatewayFileSource } from '../../src/core/blocks/gateway-file.js'
import { KuboBlockSource } from '../../src/core/kubo/block-source.js'
import { kuboConfig } from '../../src/core/kubo/config.js'
import { KuboRpc } from '../../src/core/kubo/rpc.js'
import type { BlockSource } from '../../src/core/blocks/types.js'
import type { AbortOptions } from '../../src/core/logger.js'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { startRegistryServer } from '../../src/core/serve/server.js'
import { blobFile, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { run } from '../helpers/tools.js'
import { startGatewayProxy } from '../pull/proxy.js'
import { importInto, publishRegistry, type PublishedRegistry } from './fixture.js'

let dir: string
let registry: PublishedRegistry
let kubo: KuboNode

beforeAll(async () => {
  dir = await makeTempDir('ipcr-serve-kubo-')
  registry = await publishRegistry(dir)
  kubo = await startKubo()
  await importInto(kubo, registry)
})

afterAll(async () => {
  await kubo?.stop()
  await registry?.close()
  await rm(dir, { recursive: true, force: true })
})

const sources: Array<[string, () => BlockSource]> = [
  ['a Kubo gateway (trustless, raw blocks)', () => new GatewayBlockSource([kubo.gatewayUrl])],
  ['the Kubo RPC', () => new KuboBlockSource(new KuboRpc(kuboConfig({ url: kubo.apiUrl })), { offline: true })]
]

test.each(sources)('blocks from %s: skopeo copies byte-identical blobs', async (_label, source) => {
  await copyThrough([], source())
})

/** A block source that counts the full 1 MiB raw leaves it gives (those of the 3 MiB layer). */
function countingLeaves (source: BlockSource): BlockSource & { fullLeaves: number } {
  const counting = {
    label: source.label,
    fullLeaves: 0,
    get: async (cid: CID, options?: AbortOptions) => {
      const bytes = await source.get(cid, options)
      if (cid.code === raw.code && bytes.length === 1024 * 1024) counting.fullLeaves++
      return bytes
    }
  }
  return counting
}

/** skopeo copies team/app:1.0 from a server over `files` and `source`; every blob must be the original's. */
async function copyThrough (files: GatewayFileSource[], source: BlockSource): Promise<void> {
  const server = await startRegistryServer({ listen: '127.0.0.1:0', source, files })
  const out = join(dir, `out-${Math.random().toString(16).slice(2)}`)
  try {
    await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${server.address}/ipfs/${registry.root.toString()}/team/app:1.0`, `oci:${out}:copy`])
  } finally {
    await server.close()
  }
  for (const digest of [registry.app.manifestDigest, registry.app.configDigest, ...registry.app.layerDigests]) {
    const hex = digest.slice('sha256:'.length)
    const [mine, theirs] = await Promise.all([readFile(join(out, 'blobs', 'sha256', hex)), readFile(blobFile(registry.layout, digest))])
    expect([digest, mine.equals(theirs)]).toEqual([digest, true])
  }
}

test('whole files from the Kubo gateway\'s plain path, each leaf checked: byte-identical blobs, and no leaf asked for block by block', async () => {
  const source = countingLeaves(new GatewayBlockSource([kubo.gatewayUrl]))
  const files = new GatewayFileSource(kubo.gatewayUrl)
  await copyThrough([files], source)
  expect(files.unusable).toBeUndefined()
  // The 3 MiB layer's three full leaves came in its file, none as a block.
  expect(source.fullLeaves).toBe(0)
})

test('a gateway that corrupts a leaf of a file: that leaf on comes block by block, the blobs are still byte-identical, and it is asked for no more files', async () => {
  const proxy = await startGatewayProxy(kubo.gatewayUrl)
  try {
    const layer = await readFile(blobFile(registry.layout, registry.app.layerDigests[0] as string))
    expect(layer.length).toBeGreaterThan(2 * 1024 * 1024)
    proxy.corrupt = layer.subarray(1024 * 1024 + 100, 1024 * 1024 + 164)
    const source = countingLeaves(new GatewayBlockSource([kubo.gatewayUrl]))
    const files = new GatewayFileSource(proxy.url)
    await copyThrough([files], source)
    expect(proxy.corrupted).toBe(1)
    expect(files.unusable).toMatch(/^it sent bytes that are not leaf bafk\w+ of bafy\w+$/)
    // The first full leaf came in the file; the corrupted second one and the third as blocks.
    expect(source.fullLeaves).toBe(2)
  } finally {
    await proxy.close()
  }
})

test('a trustless-only Kubo gateway (Gateway.DeserializedResponses false) refuses plain files: it is asked for no more, and every blob comes block by block, byte-identical', async () => {
  const trustless = await startKubo({ config: { 'Gateway.DeserializedResponses': false } })
  try {
    await importInto(trustless, registry)
    const source = countingLeaves(new GatewayBlockSource([trustless.gatewayUrl]))
    const files = new GatewayFileSource(trustless.gatewayUrl)
    await copyThrough([files], source)
    expect(files.unusable).toMatch(/^it answered HTTP 4\d\d for a file$/)
    expect(source.fullLeaves).toBe(3)
  } finally {
    await trustless.stop()
  }
})
