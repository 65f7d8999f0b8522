import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { jsonBytes } from '../../src/core/image/blob.js'
import { editTree } from '../../src/core/unixfs/edit.js'
import { importBytes } from '../../src/core/unixfs/file.js'
import { makeTempDir } from '../helpers/images.js'
import { randomFileInCar } from '../helpers/memory.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'

// A pull streams: a process pulling a 256 MiB blob through a Kubo gateway (as a CAR) into the
// cache and then into a tar file peaks far below the blob's size (GNU time's maximum RSS).
const SIZE = 256 * 1024 * 1024
const RSS_MIB = 200
let dir: string
let kubo: KuboNode

beforeAll(async () => {
  dir = await makeTempDir('ipcr-pull-rss-')
  kubo = await startKubo()
})
afterAll(async () => {
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

test(`a tag folder with a ${SIZE / 1024 / 1024} MiB blob is pulled by a process that stays under ${RSS_MIB} MiB of RSS`, async () => {
  const carPath = join(dir, 'big.car')
  const { car, file, digest } = await randomFileInCar(carPath, SIZE)
  // Enough of a tag folder for a pull by tag: index.json names the blob (a pull does not read the manifest it names).
  const index = await importBytes(jsonBytes({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: SIZE }] }), car)
  const folder = ['team', 'big', 'tags', '1']
  const root = await editTree(null, [
    { path: [...folder, 'blobs', 'sha256', digest.slice(7)], node: file },
    { path: [...folder, 'index.json'], node: index }
  ], null, car)
  await car.close(root.cid)
  await kubo.ipfs('dag', 'import', '--pin-roots=false', carPath)

  const src = fileURLToPath(new URL('../../src/core/', import.meta.url))
  await writeFile(join(dir, 'entry.ts'), `
import { openPullSources } from ${JSON.stringify(join(src, 'pull/sources.ts'))}
import { pullImage } from ${JSON.stringify(join(src, 'pull/pull.ts'))}
const [gateway, reference, cacheDir, output] = process.argv.slice(2)
const sources = await openPullSources([{ kind: 'gateway', url: gateway }])
const result = await pullImage({ reference, sources, cacheDir, output, outputFormat: 'docker' })
process.stdout.write(JSON.stringify(result))
`)
  const script = join(dir, 'pull.mjs')
  await build({ entryPoints: [join(dir, 'entry.ts')], outfile: script, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } })
  const timeFile = join(dir, 'time')
  const tar = join(dir, 'out.tar')
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, process.execPath, script, kubo.gatewayUrl, `ipfs/${root.cid.toString()}/team/big:1`, join(dir, 'cache'), tar], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c) => { stdout += String(c) })
  child.stderr.on('data', (c) => { stderr += String(c) })
  const code = await new Promise((resolve) => child.on('close', resolve))
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
  const result = JSON.parse(stdout)
  expect(result.carBlocks).toBeGreaterThan(256)
  expect(result.written.bytes).toBeGreaterThan(SIZE)
  expect((await stat(tar)).size).toBeGreaterThan(SIZE)
  const peakMiB = Number((await readFile(timeFile, 'utf8')).trim().split('\n').pop()) / 1024
  console.log(`pull of ${SIZE / 1024 / 1024} MiB: peak RSS ${peakMiB.toFixed(0)} MiB`)
  expect(peakMiB).toBeLessThan(RSS_MIB)
}, 300_000)
