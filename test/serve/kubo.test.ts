import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { GatewayBlockSource } from '../../src/core/blocks/gateway.js'
import { KuboBlockSource } from '../../src/core/kubo/block-source.js'
import { kuboConfig } from '../../src/core/kubo/config.js'
import { KuboRpc } from '../../src/core/kubo/rpc.js'
import type { BlockSource } from '../../src/core/blocks/types.js'
import { startRegistryServer } from '../../src/core/serve/server.js'
import { blobFile, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { run } from '../helpers/tools.js'
import { publishRegistry, type PublishedRegistry } from './fixture.js'

let dir: string
let registry: PublishedRegistry
let kubo: KuboNode

beforeAll(async () => {
  dir = await makeTempDir('ipcr-serve-kubo-')
  registry = await publishRegistry(dir)
  kubo = await startKubo()
  for (const car of registry.cars) await kubo.ipfs('dag', 'import', '--pin-roots=false', car.path)
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
  const server = await startRegistryServer({ listen: '127.0.0.1:0', source: source() })
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
})
