import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { openPullSources } from '../../src/core/pull/sources.js'
import { pullImage, type PullOptions } from '../../src/core/pull/pull.js'
import { dockerImageId, dockerLoad, dockerRemove, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { run, withToolsOnPath } from '../helpers/tools.js'
import { importInto, publishRegistry, type PublishedRegistry } from '../serve/fixture.js'

let dir: string
let registry: PublishedRegistry
let kubo: KuboNode
const loaded: string[] = []

beforeAll(async () => {
  dir = await makeTempDir('ipcr-pull-docker-')
  registry = await publishRegistry(dir)
  kubo = await startKubo()
  await importInto(kubo, registry)
})

afterAll(async () => {
  await dockerRemove(...loaded)
  await kubo?.stop()
  await registry?.close()
  await rm(dir, { recursive: true, force: true })
})

let count = 0
const fresh = (name: string): string => join(dir, `${name}-${++count}`)

async function pull (options: Partial<PullOptions> & { reference: string }): Promise<Awaited<ReturnType<typeof pullImage>>> {
  const sources = await openPullSources([{ kind: 'gateway', url: kubo.gatewayUrl }])
  try {
    return await pullImage({ output: fresh('out'), cacheDir: fresh('cache'), ...options, sources })
  } finally {
    await sources.close()
  }
}

/** The image ID of what `docker load` printed it loaded (by name, or by ID for an untagged image). */
async function loadedId (output: string): Promise<string> {
  const byId = /Loaded image ID: (sha256:[a-f0-9]{64})/.exec(output)
  if (byId != null) return byId[1] as string
  const byName = /Loaded image(?:\(s\))?: (\S+)/.exec(output)
  if (byName == null) throw new Error(`docker load printed no image: ${output}`)
  loaded.push(byName[1] as string)
  return await dockerImageId(byName[1] as string)
}

async function removeAll (): Promise<void> {
  await dockerRemove(...loaded.splice(0))
}

test('a tag pulled as a docker-archive tar file: docker load gives the original image ID', async () => {
  const tar = join(fresh('tar'), 'image.tar')
  await pull({ reference: `ipfs/${registry.root.toString()}/team/app:1.0`, output: tar, outputFormat: 'docker' })
  expect(await loadedId(await run('docker', ['load', '--input', tar]))).toBe(registry.imageIds['team/app:1.0'])
  await removeAll()
})

test('a tag streamed straight into docker load: the original image ID', async () => {
  const load = spawn('docker', ['load'], { stdio: ['pipe', 'pipe', 'pipe'], env: withToolsOnPath() })
  let out = ''
  load.stdout.on('data', (c) => { out += String(c) })
  load.stderr.on('data', (c) => { out += String(c) })
  const closed = new Promise<number>((resolve) => load.on('close', (code) => { resolve(code ?? 1) }))
  await pull({ reference: `ipfs/${registry.root.toString()}/team/app:2.0`, output: load.stdin })
  load.stdin.end()
  expect(await closed).toBe(0)
  expect(await loadedId(out)).toBe(registry.imageIds['team/app:2.0'])
  await removeAll()
})

test('a multi-platform image by digest with a platform: that platform only, docker load gives its image ID', async () => {
  const out = fresh('out')
  const result = await pull({ reference: `ipfs/${registry.root.toString()}/team/multi@${registry.multi.indexDigest}`, platform: 'linux/arm64', output: out })
  expect(result.platform).toBe('linux/arm64')
  expect(result.digest).toBe(registry.multi.arm64.manifestDigest)
  const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'))
  expect(index.manifests.map((m: any) => m.digest)).toEqual([registry.multi.arm64.manifestDigest])
  const arm64 = registry.multi.arm64
  const expected = [arm64.manifestDigest, arm64.configDigest, ...arm64.layerDigests].map((d) => d.slice('sha256:'.length)).sort()
  expect((await readdir(join(out, 'blobs', 'sha256'))).sort()).toEqual(expected)
  expect(await loadedId(await dockerLoad(out))).toBe(arm64.configDigest)
  await removeAll()

  // The same index by its tag with a platform; by digest without one, this machine's platform.
  const byTag = await pull({ reference: `ipfs/${registry.root.toString()}/team/multi:1.0`, platform: 'linux/arm64' })
  expect(byTag.digest).toBe(arm64.manifestDigest)
  const host = await pull({ reference: `ipfs/${registry.root.toString()}/team/multi@${registry.multi.indexDigest}` })
  expect(host.digest).toBe(process.arch === 'arm64' ? arm64.manifestDigest : registry.multi.amd64.manifestDigest)
  await expect(pull({ reference: `ipfs/${registry.root.toString()}/team/multi@${registry.multi.indexDigest}`, platform: 'linux/s390x' }))
    .rejects.toThrow(/no image for linux\/s390x \(it has: linux\/amd64, linux\/arm64\)/)
})

test('the original recipe on the same tree: ipfs get of the tag folder, then tar | docker load', async () => {
  const got = fresh('get')
  await kubo.ipfs('get', '-o', got, `/ipfs/${registry.root.toString()}/team/app/tags/1.0`)
  expect(await loadedId(await dockerLoad(got))).toBe(registry.imageIds['team/app:1.0'])
  await removeAll()
})
