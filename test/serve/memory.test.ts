import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { editTree } from '../../src/core/unixfs/edit.js'
import { makeTempDir } from '../helpers/images.js'
import { randomFileInCar } from '../helpers/memory.js'

// A blob streams: a server process sending a 256 MiB blob peaks far below the blob's size
// (GNU time's maximum RSS, compared with a generous bound).
const SIZE = 256 * 1024 * 1024
const RSS_MIB = 200 // measured: about 155 (Node itself, 16 MiB of read-ahead, blocks awaiting GC); 316 with the blob held whole
let dir: string

beforeAll(async () => { dir = await makeTempDir('ipcr-serve-rss-') })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

test(`a ${SIZE / 1024 / 1024} MiB blob is served by a process that stays under ${RSS_MIB} MiB of RSS`, async () => {
  const carPath = join(dir, 'big.car')
  const { car, file, digest } = await randomFileInCar(carPath, SIZE)
  const root = await editTree(null, [{ path: ['team', 'big', 'tags', '1', 'blobs', 'sha256', digest.slice(7)], node: file }], null, car)
  await car.close(root.cid)

  const src = fileURLToPath(new URL('../../src/core/', import.meta.url))
  await writeFile(join(dir, 'entry.ts'), `
import { CarBlockSource } from ${JSON.stringify(join(src, 'blocks/car-source.ts'))}
import { startRegistryServer } from ${JSON.stringify(join(src, 'serve/server.ts'))}
const source = await CarBlockSource.open(process.argv[2])
const server = await startRegistryServer({ listen: '127.0.0.1:0', source })
process.stdout.write(server.url + '\\n')
process.stdin.resume()
process.stdin.on('end', async () => { await server.close(); await source.close() })
`)
  const script = join(dir, 'serve.mjs')
  await build({ entryPoints: [join(dir, 'entry.ts')], outfile: script, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } })
  const timeFile = join(dir, 'time')
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, process.execPath, script, carPath], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c) => { stderr += String(c) })
  const closed = new Promise((resolve) => child.on('close', resolve))
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (c) => {
      out += String(c)
      if (out.includes('\n')) resolve(out.trim())
    })
    child.on('close', () => { reject(new Error(`server exited: ${stderr}`)) })
  })
  const answer = await streamDigest(`${url}/v2/ipfs/${root.cid.toString()}/team/big/blobs/${digest}`)
  child.stdin.end()
  expect(await closed).toBe(0)
  expect(stderr).toBe('')
  expect(answer).toEqual({ status: 200, bytes: SIZE, digest })
  const peakMiB = Number((await readFile(timeFile, 'utf8')).trim().split('\n').pop()) / 1024
  expect(peakMiB).toBeLessThan(RSS_MIB)
}, 300_000)

/** GET with the body hashed as it arrives, not kept. */
async function streamDigest (url: string): Promise<{ status: number, bytes: number, digest: string }> {
  const { get } = await import('node:http')
  return await new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      const hash = createHash('sha256')
      let bytes = 0
      res.on('data', (chunk: Buffer) => { hash.update(chunk); bytes += chunk.length })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, bytes, digest: `sha256:${hash.digest('hex')}` }) })
      res.on('error', reject)
    }).on('error', reject)
  })
}
