import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { startRegistryServer, type RegistryServer } from '../../src/core/serve/server.js'
import { blobFile, makeTempDir } from '../helpers/images.js'
import { run } from '../helpers/tools.js'
import { publishRegistry, type PublishedRegistry } from './fixture.js'
import { startPodmanApi } from './podman-api.js'

let dir: string
let registry: PublishedRegistry
let server: RegistryServer
/** `127.0.0.1:PORT/ipfs/<cid>`: where references start. */
let prefix: string

beforeAll(async () => {
  dir = await makeTempDir('ipcr-serve-clients-')
  registry = await publishRegistry(dir)
  server = await startRegistryServer({ listen: '127.0.0.1:0', source: registry.source })
  prefix = `${server.address}/ipfs/${registry.root.toString()}`
})

afterAll(async () => {
  await server?.close()
  await registry?.close()
  await rm(dir, { recursive: true, force: true })
})

const hex = (digest: string): string => digest.replace(/^sha256:/, '')

test('skopeo copy docker://… oci:… gives byte-identical blobs', async () => {
  const out = join(dir, 'skopeo-out')
  await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${prefix}/team/app:1.0`, `oci:${out}:copy`])
  const copied = await readdir(join(out, 'blobs', 'sha256'))
  const expected = [registry.app.manifestDigest, registry.app.configDigest, ...registry.app.layerDigests].map(hex)
  expect(copied.sort()).toEqual([...expected].sort())
  for (const digest of expected) {
    const [mine, theirs] = await Promise.all([readFile(join(out, 'blobs', 'sha256', digest)), readFile(blobFile(registry.layout, digest))])
    expect([digest, mine.equals(theirs)]).toEqual([digest, true])
  }
})

test('skopeo picks the right platform of a multi-platform image', async () => {
  const out = join(dir, 'skopeo-arm64')
  await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--override-arch', 'arm64', `docker://${prefix}/team/multi:1.0`, `oci:${out}:arm`])
  const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'))
  expect(index.manifests[0].digest).toBe(registry.multi.arm64.manifestDigest)
  expect((await readFile(join(out, 'blobs', 'sha256', hex(registry.multi.arm64.configDigest)))).length).toBeGreaterThan(0)
})

test('podman pull (tls-verify off) gives the original image ID', async () => {
  const ref = `${prefix}/team/app:1.0`
  try {
    await run('podman', ['pull', '--quiet', '--tls-verify=false', ref])
    const id = (await run('podman', ['image', 'inspect', '--format', '{{.Id}}', ref])).trim()
    expect(id).toBe(hex(registry.app.configDigest))
    expect(`sha256:${id}`).toBe(registry.imageIds['team/app:1.0'])
  } finally {
    await run('podman', ['rmi', '--force', ref]).catch(() => {})
  }
})

test('the docker CLI (through podman\'s Docker API) pulls a tag and a digest with the original image ID', async () => {
  const api = await startPodmanApi(await makeTempDir('ipcr-podman-api-'), server.address)
  const byTag = `${prefix}/team/app:2.0`
  const byDigest = `${prefix}/team/app@${registry.app2.manifestDigest}`
  const docker = async (...args: string[]): Promise<string> => (await run('docker', args, { env: api.env })).trim()
  try {
    await docker('pull', '--quiet', byTag)
    expect(await docker('inspect', '--format', '{{.Id}}', byTag)).toBe(registry.app2.configDigest)
    await docker('pull', '--quiet', byDigest)
    expect(await docker('inspect', '--format', '{{.Id}}', byDigest)).toBe(registry.app2.configDigest)
  } finally {
    await docker('rmi', '--force', byTag, byDigest).catch(() => {})
    await api.stop()
  }
})
