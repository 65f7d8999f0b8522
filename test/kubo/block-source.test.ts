import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { kuboConfig } from '../../src/core/kubo/config.js'
import { KuboBlockSource } from '../../src/core/kubo/block-source.js'
import { KuboError, KuboRpc } from '../../src/core/kubo/rpc.js'
import { makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'

// Every block source caps a block's size (4 MiB by default), reading the body as
// a stream and stopping at the cap.
let dir: string
beforeAll(async () => { dir = await makeTempDir('ipcr-kubo-blocks-') })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

function source (url: string): KuboBlockSource {
  return new KuboBlockSource(new KuboRpc(kuboConfig({ url, retries: 2, retryDelayMs: 1 })))
}

describe('a real Kubo node', () => {
  let kubo: KuboNode
  beforeAll(async () => { kubo = await startKubo() })
  afterAll(async () => { await kubo?.stop() })

  test('serves a 1 MiB block; a 5 MiB block (put with --allow-big-block) is refused as too large', async () => {
    const cids: string[] = []
    for (const size of [1024 * 1024, 5 * 1024 * 1024]) {
      const file = join(dir, `block-${size}`)
      await writeFile(file, randomBytes(size))
      cids.push((await kubo.ipfs('block', 'put', '--allow-big-block', file)).trim())
    }
    const blocks = source(kubo.apiUrl)
    expect((await blocks.get(CID.parse(cids[0] as string))).byteLength).toBe(1024 * 1024)
    const err = await blocks.get(CID.parse(cids[1] as string)).catch((e) => e)
    expect(err).toBeInstanceOf(KuboError)
    expect(err.message).toBe(`Kubo RPC ${kubo.apiUrl}: block/get ${cids[1] as string} failed: block ${cids[1] as string} larger than 4194304 bytes`)
  })
})

describe('an endless block/get body', () => {
  let server: Server
  let written = 0
  let requests = 0
  const LIMIT = 512 * 1024 * 1024
  beforeAll(async () => {
    // Answers block/get with 200 and bytes until the client hangs up (or 512 MiB, so that
    // a client without a cap ends too); counts what the socket accepted.
    server = createServer((req, res) => {
      requests++
      req.resume()
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const chunk = Buffer.alloc(1024 * 1024, 7)
      const pump = (): void => {
        while (!res.destroyed && written < LIMIT) {
          written += chunk.byteLength
          if (!res.write(chunk)) {
            res.once('drain', pump)
            return
          }
        }
        res.end()
      }
      res.on('close', () => { res.removeAllListeners('drain') })
      pump()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  test('ends in a bounded error after about 4 MiB, and memory does not grow with the body', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const cid = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode('any block')))
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 5)
    const err = await source(url).get(cid).catch((e) => e)
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().rss)
    expect(err).toBeInstanceOf(KuboError)
    expect(err.message).toBe(`Kubo RPC ${url}: block/get ${cid.toString()} failed: block ${cid.toString()} larger than 4194304 bytes`)
    // What the server could push: the cap plus socket buffers, far from the 512 MiB it offers.
    expect(requests).toBe(1) // too large is final: not retried
    expect(written).toBeLessThan(64 * 1024 * 1024)
    expect(peak - before).toBeLessThan(128 * 1024 * 1024)
  })
})

describe('a silent block/get', () => {
  test('ends at the overall deadline per block, across attempts', async () => {
    let requests = 0
    const server = createServer(() => { requests++ })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const cid = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode('silent')))
      // Without the deadline: 11 attempts of 100 ms. With it (250 ms): at most 3.
      const blocks = new KuboBlockSource(new KuboRpc(kuboConfig({ url, retries: 10, retryDelayMs: 1 })), { timeoutMs: 100, deadlineMs: 250 })
      const err = await blocks.get(cid).catch((e) => e)
      expect(err).toBeInstanceOf(KuboError)
      expect(err.message).toBe(`Kubo RPC ${url}: block/get ${cid.toString()} failed: no answer within the overall deadline of 250 ms`)
      expect(requests).toBeGreaterThanOrEqual(1)
      expect(requests).toBeLessThanOrEqual(3)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
