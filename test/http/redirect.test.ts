import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { RedirectError } from '../../src/core/errors.js'
import { httpFetch } from '../../src/core/http.js'
import { KuboDestination } from '../../src/core/kubo/destination.js'
import { KuboIpnsPublisher } from '../../src/core/ipns/kubo-keystore.js'
import { KuboError } from '../../src/core/kubo/rpc.js'
import { runPipeline } from '../../src/core/pipeline.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'

// A Kubo endpoint behind a front that answers some commands with 307 to another
// origin (a second listener on another port). Nothing a request carries (headers,
// tokens, the IPNS private key, the CAR) may reach that second listener. The front
// passes every other request to a real Kubo daemon.
const secret = 'X-Api-Key-s3cr3t-9f8e7d6c'
let dir: string
let layout: string
let kubo: KuboNode
const servers: Server[] = []

async function listen (server: Server): Promise<string> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A listener that records every request it receives and answers 200. */
async function elsewhere (): Promise<{ url: string, requests: string[] }> {
  const requests: string[] = []
  const url = await listen(createServer((req, res) => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`)
    req.resume()
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  }))
  return { url, requests }
}

/** Passes a request on to `target`, with `path`. */
function proxy (req: IncomingMessage, res: import('node:http').ServerResponse, target: string, path: string): void {
  const upstream = httpRequest(new URL(path, target), { method: req.method, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers)
    answer.pipe(res)
  })
  upstream.on('error', () => { res.destroy() })
  req.pipe(upstream)
}

/**
 * The front: commands whose path `redirect` selects answer 307 to `to` (with a
 * query that must never be printed); paths under /moved/ are passed to Kubo without
 * that prefix; everything else is passed to Kubo as is.
 */
async function front (redirect: (path: string) => string | undefined): Promise<string> {
  return await listen(createServer((req, res) => {
    const path = req.url ?? '/'
    const target = redirect(new URL(path, 'http://x').pathname)
    if (target != null) {
      req.resume()
      res.writeHead(307, { location: target }).end()
      return
    }
    proxy(req, res, kubo.apiUrl, path.startsWith('/moved/') ? path.slice('/moved'.length) : path)
  }))
}

beforeAll(async () => {
  dir = await makeTempDir('ipcr-redirect-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'r.txt': 'redirects\n' } }] })
  kubo = await startKubo()
})

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

async function refused (promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(KuboError)
  expect((err as Error).cause).toBeInstanceOf(RedirectError)
  return err as Error
}

describe('Kubo RPC behind a redirect to another origin', () => {
  test('version: refused with the endpoint named, nothing sent to the other origin', async () => {
    const other = await elsewhere()
    const url = await front((path) => path === '/api/v0/version' ? `${other.url}/api/v0/version?token=leaked-in-location` : undefined)
    const dest = new KuboDestination({ url, headers: { 'X-Api-Key': secret }, retries: 2, retryDelayMs: 1 })
    const err = await refused(dest.preflight({}))
    expect(err.message).toBe(`Kubo RPC ${url}: version failed: answered HTTP 307 with a redirect to another origin (${other.url}); ipcr sends no request to another origin (check the URL)`)
    expect(other.requests).toEqual([])
  })

  test('key/list and key/import (with the private key): nothing reaches the other origin, the key is not imported', async () => {
    const key = await generateKeyPair('Ed25519')
    const privateKey = Buffer.from(privateKeyToProtobuf(key)).toString('base64')
    for (const command of ['/api/v0/key/list', '/api/v0/key/import']) {
      const other = await elsewhere()
      const url = await front((path) => path === command ? `${other.url}${command}` : undefined)
      const dest = new KuboDestination({ url, headers: { 'X-Api-Key': secret }, retries: 1, retryDelayMs: 1 })
      const ipns = new KuboIpnsPublisher(dest.rpc, { key: 'redirected', privateKey })
      const err = await refused(ipns.preflight({}))
      expect(err.message).toContain(`Kubo RPC ${url}: ${command.slice('/api/v0/'.length)} failed: answered HTTP 307 with a redirect to another origin (${other.url})`)
      expect(other.requests).toEqual([])
    }
    expect(await kubo.ipfs('key', 'list')).not.toContain('redirected')
  })

  test('dag/import (the CAR): refused, nothing reaches the other origin, nothing pinned', async () => {
    const other = await elsewhere()
    const url = await front((path) => path === '/api/v0/dag/import' ? `${other.url}/api/v0/dag/import` : undefined)
    const car = join(dir, 'redirected.car')
    // Kubo lists pins in no fixed order.
    const pins = async (): Promise<string[]> => (await kubo.ipfs('pin', 'ls', '--type=recursive')).split('\n').filter((l) => l !== '').sort()
    const pinsBefore = await pins()
    const err = await refused(runPipeline({
      image: { kind: 'file', path: layout },
      name: 'team/app',
      tags: ['v1'],
      carPath: car,
      tempDir: dir,
      destinations: [new KuboDestination({ url, headers: { 'X-Api-Key': secret }, retries: 1, retryDelayMs: 1 })]
    }))
    expect(err.message).toBe(`Kubo RPC ${url}: dag/import failed: answered HTTP 307 with a redirect to another origin (${other.url}); ipcr sends no request to another origin (check the URL)`)
    expect(other.requests).toEqual([])
    expect(existsSync(car)).toBe(true)
    expect(await pins()).toEqual(pinsBefore)
  })

  test('a redirect within the same origin is followed: the version check and a key import (its body sent again) succeed', async () => {
    const url = await front((path) => path === '/api/v0/version' || path === '/api/v0/key/import' ? `/moved${path}?arg=same-origin&format=libp2p-protobuf-cleartext&allow-any-key-type=true` : undefined)
    const dest = new KuboDestination({ url, retries: 0 })
    await dest.preflight({})
    const key = await generateKeyPair('Ed25519')
    const ipns = new KuboIpnsPublisher(dest.rpc, { key: 'same-origin', privateKey: Buffer.from(privateKeyToProtobuf(key)).toString('base64') })
    await ipns.preflight({})
    expect(await kubo.ipfs('key', 'list')).toContain('same-origin')
  })
})

describe('httpFetch', () => {
  test('follows at most 3 same-origin redirects', async () => {
    let hits = 0
    const url = await listen(createServer((req, res) => {
      hits++
      res.writeHead(302, { location: `/loop/${hits}` }).end()
    }))
    await expect(httpFetch(url, { label: 'loop' })).rejects.toThrow('loop: more than 3 redirects; not followed')
    expect(hits).toBe(4)
  })

  test('a redirect to the same host with credentials in it is refused', async () => {
    const url = await listen(createServer((req, res) => { res.writeHead(301, { location: `http://user:pw@${req.headers.host ?? ''}/x` }).end() }))
    await expect(httpFetch(url, { label: 'creds' })).rejects.toThrow(RedirectError)
  })
})
