import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { FirstSource } from '../../src/core/blocks/multi.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { resolveDnsLink } from '../../src/core/dns/resolve.js'
import type { NamedRegistry, ResolvedRoot } from '../../src/core/registry/resolve.js'
import { startRegistryServer, type RegistryServer } from '../../src/core/serve/server.js'
import { editTree } from '../../src/core/unixfs/edit.js'
import { resolvePath } from '../../src/core/unixfs/tree.js'
import { startBind, type BindServer } from '../helpers/bind.js'
import { blobFile, makeTempDir } from '../helpers/images.js'
import { runProcess } from '../helpers/process.js'
import { run } from '../helpers/tools.js'
import { publishRegistry, request, type PublishedRegistry } from './fixture.js'

// A registry named by a DNSLink domain, resolved through a real DNS server (BIND on loopback)
// with the project's resolver: skopeo pulls `<server>/<domain>/team/app:<tag>`, and a new root
// in the TXT record is served once the resolved root's TTL has passed.
const DOMAIN = 'registry.example.test'
const TTL_MS = 60_000

let dir: string
let registry: PublishedRegistry
let bind: BindServer
let server: RegistryServer
let clock = 0
let newer: { root: CID, store: MemoryBlockStore }

beforeAll(async () => {
  dir = await makeTempDir('ipcr-serve-dnslink-')
  registry = await publishRegistry(dir)
  // The next publish: tag 3.0 added, naming 2.0's tag folder.
  const store = new MemoryBlockStore()
  const folder = await resolvePath(registry.root, ['team', 'app', 'tags', '2.0'], registry.source)
  newer = { root: (await editTree(registry.root, [{ path: ['team', 'app', 'tags', '3.0'], node: folder as { cid: CID, size: number } }], registry.source, store)).cid, store }
  bind = await startBind([`_dnslink.registry IN TXT "dnslink=/ipfs/${registry.root.toString()}"`])
  const resolveRoot = async (name: NamedRegistry): Promise<ResolvedRoot> => {
    if (name.kind !== 'dnslink') throw new Error('IPNS is not part of this test')
    const found = await resolveDnsLink(name.domain, { resolver: bind.server })
    const value = found.values[0] as string
    return { root: CID.parse(value.replace(/^dnslink=\/ipfs\//, '')), ttlMs: TTL_MS }
  }
  server = await startRegistryServer({ listen: '127.0.0.1:0', source: new FirstSource([store, registry.source]), resolveRoot, now: () => clock })
})

afterAll(async () => {
  await server?.close()
  await bind?.stop()
  await registry?.close()
  await rm(dir, { recursive: true, force: true })
})

test('skopeo pulls by domain; a new root in DNS shows up after the TTL, without a restart', async () => {
  const out = join(dir, 'by-domain')
  await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${server.address}/${DOMAIN}/team/app:1.0`, `oci:${out}:copy`])
  for (const digest of [registry.app.manifestDigest, ...registry.app.layerDigests]) {
    const [mine, theirs] = await Promise.all([readFile(join(out, 'blobs', 'sha256', digest.slice(7))), readFile(blobFile(registry.layout, digest))])
    expect([digest, mine.equals(theirs)]).toEqual([digest, true])
  }
  const tags = async (): Promise<string[]> => JSON.parse((await request(`${server.url}/v2/${DOMAIN}/team/app/tags/list`)).body.toString()).tags
  expect(await tags()).toEqual(['1.0', '2.0', 'latest', 'stable'])

  const update = await runProcess('sh', ['-c', `printf '%s\\n' "server 127.0.0.1 ${bind.port}" "update delete _dnslink.${DOMAIN} TXT" "update add _dnslink.${DOMAIN} 60 TXT \\"dnslink=/ipfs/${newer.root.toString()}\\"" send | nsupdate -y ${bind.tsig}`])
  expect(update.code).toBe(0)
  expect(await bind.dig(`_dnslink.${DOMAIN}`)).toEqual([`"dnslink=/ipfs/${newer.root.toString()}"`])
  // Within the TTL the root resolved before still answers.
  expect(await tags()).toEqual(['1.0', '2.0', 'latest', 'stable'])
  clock += TTL_MS + 1
  expect(await tags()).toEqual(['1.0', '2.0', '3.0', 'latest', 'stable'])
  const manifest = await request(`${server.url}/v2/${DOMAIN}/team/app/manifests/3.0`)
  expect(manifest.headers['docker-content-digest']).toBe(registry.app2.manifestDigest)
})
