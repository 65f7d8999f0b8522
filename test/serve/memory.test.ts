import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { build } from 'esbuild'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { fileContent } from '../../src/core/unixfs/content.js'
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

test.each([
  ['blocks from a CAR', false],
  ['a gateway\'s whole file, checked leaf by leaf', true]
])(`a ${SIZE / 1024 / 1024} MiB blob from %s is served by a process that stays under ${RSS_MIB} MiB of RSS`, async (_label, whole) => {
  const carPath = join(dir, 'big.car')
  const { car, file, digest } = await randomFileInCar(carPath, SIZE)
  const root = await editTree(null, [{ path: ['team', 'big', 'tags', '1', 'blobs', 'sha256', digest.slice(7)], node: file }], null, car)
  await car.close(root.cid)

  // The gateway (in this process): the file's bytes on its plain path, read from the CAR.
  const served = { requests: 0, bytes: 0 }
  const blocks = await CarBlockSource.open(carPath)
  const gateway = createServer((req, res) => {
    served.requests++
    if (req.url !== `/ipfs/${file.cid.toString()}`) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) })
    const body = Readable.from(fileContent(file.cid, blocks))
    body.on('data', (chunk: Uint8Array) => { served.bytes += chunk.length })
    body.pipe(res)
  })
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve))
  const gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`

  const src = fileURLToPath(new URL('../../src/core/', import.meta.url))
  await writeFile(join(dir, 'entry.ts'), `
import { CarBlockSource } from ${JSON.stringify(join(src, 'blocks/car-source.ts'))}
import { GatewayFileSource } from ${JSON.stringify(join(src, 'blocks/gateway-file.ts'))}
import { startRegistryServer } from ${JSON.stringify(join(src, 'serve/server.ts'))}
const car = await CarBlockSource.open(process.argv[2])
// Counts the raw leaves read from the CAR (none when the gateway's file gives them all).
let leaves = 0
const source = { label: car.label, get: async (cid, options) => { if (cid.code === 0x55) leaves++; return await car.get(cid, options) } }
const files = process.argv[3] != null ? [new GatewayFileSource(process.argv[3])] : []
const server = await startRegistryServer({ listen: '127.0.0.1:0', source, files })
process.stdout.write(server.url + '\\n')
process.stdin.resume()
process.stdin.on('end', async () => { process.stdout.write('leaves ' + leaves + '\\n'); await server.close(); await car.close() })
`)
  const script = join(dir, 'serve.mjs')
  await build({ entryPoints: [join(dir, 'entry.ts')], outfile: script, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } })
  const timeFile = join(dir, 'time')
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, process.execPath, script, carPath, ...(whole ? [gatewayUrl] : [])], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  let out = ''
  child.stderr.on('data', (c) => { stderr += String(c) })
  const closed = new Promise((resolve) => child.on('close', resolve))
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c) => {
      out += String(c)
      if (out.includes('\n')) resolve(out.split('\n')[0] as string)
    })
    child.on('close', () => { reject(new Error(`server exited: ${stderr}`)) })
  })
  try {
    const answer = await streamDigest(`${url}/v2/ipfs/${root.cid.toString()}/team/big/blobs/${digest}`)
    child.stdin.end()
    expect(await closed).toBe(0)
    expect(stderr).toBe('')
    expect(answer).toEqual({ status: 200, bytes: SIZE, digest })
    // With the gateway: every leaf came in its one answer. Without: every leaf from the CAR.
    expect(out.trim().split('\n')[1]).toBe(`leaves ${whole ? 0 : SIZE / (1024 * 1024)}`)
    expect(served).toEqual(whole ? { requests: 1, bytes: SIZE } : { requests: 0, bytes: 0 })
    const peakMiB = Number((await readFile(timeFile, 'utf8')).trim().split('\n').pop()) / 1024
    expect(peakMiB).toBeLessThan(RSS_MIB)
  } finally {
    gateway.closeAllConnections()
    await new Promise<void>((resolve) => gateway.close(() => { resolve() }))
    await blocks.close()
  }
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
