import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { startRegistryServer, type RegistryServer } from '../../src/core/serve/server.js'
import { makeTempDir } from '../helpers/images.js'
import { run } from '../helpers/tools.js'
import { conformanceBin, runConformance, type ConformanceData } from './conformance.js'
import { startDistribution } from './distribution.js'
import { publishRegistry, type PublishedRegistry } from './fixture.js'

/** Where the program's printed results are kept (not removed after the run). */
const resultsRoot = resolve(process.env.IPCR_CONFORMANCE_RESULTS ?? join('.cache', 'conformance'))

/** The read-only tests this version runs; each must have run and passed. */
const EXPECTED = [
  'OCI Conformance Test/ping',
  'OCI Conformance Test/empty/tag list',
  'OCI Conformance Test/empty/referrers',
  'OCI Conformance Test/read-only/tag-list',
  'OCI Conformance Test/read-only/head/manifest-head-by-tag',
  'OCI Conformance Test/read-only/head/manifest-head-by-digest',
  'OCI Conformance Test/read-only/head/blob-head',
  'OCI Conformance Test/read-only/pull/manifest-by-tag',
  'OCI Conformance Test/read-only/pull/manifest-by-digest',
  'OCI Conformance Test/read-only/pull/blob-get',
  'OCI Conformance Test/read-only/referrers',
  'OCI Conformance Test/missing-manifest/by-digest',
  'OCI Conformance Test/missing-manifest/by-tag',
  'OCI Conformance Test/invalid-digest-format/manifest-get'
]

let dir: string
let registry: PublishedRegistry
let server: RegistryServer

beforeAll(async () => {
  if (!existsSync(conformanceBin)) throw new Error(`${conformanceBin} is missing: run scripts/install-deps.sh`)
  dir = await makeTempDir('ipcr-conformance-')
  registry = await publishRegistry(dir)
  server = await startRegistryServer({ listen: '127.0.0.1:0', source: registry.source, defaultRegistry: { kind: 'ipfs', root: registry.root } })
})

afterAll(async () => {
  await server?.close()
  await registry?.close()
  await rm(dir, { recursive: true, force: true })
})

function readOnlyData (address: string, repo: string): ConformanceData {
  return {
    registry: address,
    repo,
    tags: ['1.0', 'latest'],
    manifests: [registry.app.manifestDigest, registry.app2.manifestDigest],
    blobs: [registry.app.configDigest, ...registry.app.layerDigests],
    referrers: [registry.app.manifestDigest]
  }
}

test.each([
  ['ipfs', (): string => `ipfs/${registry.root.toString()}/team/app`],
  ['default', (): string => 'team/app']
])('the conformance program, read-only pull mode, passes every test it runs (%s registry form)', async (form, repo) => {
  const outcome = await runConformance(readOnlyData(server.address, repo()), join(resultsRoot, `ipcr-${form}`))
  const notPassed = [...outcome.leaves].filter(([, status]) => status !== 'Pass' && status !== 'Disabled')
  expect(notPassed).toEqual([])
  for (const name of EXPECTED) expect([name, outcome.tests.get(name)]).toEqual([name, 'Pass'])
  expect(outcome.result).toBe('Pass')
  expect(outcome.counts.FAIL).toBe(0)
  expect(outcome.counts.Error).toBe(0)
  expect(outcome.counts.Pass).toBeGreaterThanOrEqual(EXPECTED.length)
})

// With two read-only tags the program also pages the tag list (n=1, then last=…), and with a
// subject digest it lists referrers in the read-only data: distribution 2.8.2 fails both as well.
test('for comparison, the CNCF distribution registry fails referrers, tag paging and the invalid digest in the same mode', async () => {
  const peer = await startDistribution(await makeTempDir('ipcr-distribution-'))
  try {
    // Fill it from ipcr serve: skopeo copies registry to registry, keeping every digest.
    for (const tag of ['1.0', 'latest', '2.0']) {
      await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false',
        `docker://${server.address}/ipfs/${registry.root.toString()}/team/app:${tag}`, `docker://${peer.address}/team/app:${tag}`])
    }
    const outcome = await runConformance(readOnlyData(peer.address, 'team/app'), join(resultsRoot, 'distribution'))
    const failed = [...outcome.leaves].filter(([, status]) => status === 'FAIL').map(([name]) => name)
    expect(failed.sort()).toEqual([
      'OCI Conformance Test/empty/referrers',
      'OCI Conformance Test/invalid-digest-format/manifest-get',
      'OCI Conformance Test/read-only/referrers',
      'OCI Conformance Test/read-only/tag-list'
    ])
    expect(outcome.result).toBe('FAIL')
    expect(outcome.tests.get('OCI Conformance Test/read-only/pull/blob-get')).toBe('Pass')
  } finally {
    await peer.stop()
  }
})
