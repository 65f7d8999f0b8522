import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { GatewayBlockSource } from '../../src/core/blocks/gateway.js'
import { BlockNotFoundError } from '../../src/core/errors.js'
import type { Logger } from '../../src/core/logger.js'

type Handler = (req: IncomingMessage, res: ServerResponse, block: Uint8Array | undefined) => void

interface TestGateway { url: string, requests: IncomingMessage[], server: Server }

const blocks = new Map<string, Uint8Array>()
const servers: Server[] = []

async function gateway(handler: Handler): Promise<TestGateway> {
  const requests: IncomingMessage[] = []
  const server = createServer((req, res) => {
    requests.push(req)
    const match = /^\/ipfs\/([^/?]+)/.exec(req.url ?? '')
    const block = match != null ? blocks.get(match[1] as string) : undefined
    handler(req, res, block)
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server }
}

/** A correct trustless gateway. */
const good: Handler = (req, res, block) => {
  const url = new URL(req.url ?? '', 'http://x')
  if (url.searchParams.get('format') !== 'raw' || req.headers.accept !== 'application/vnd.ipld.raw') {
    res.writeHead(400).end('raw only')
  } else if (block == null) {
    res.writeHead(404).end()
  } else {
    res.writeHead(200, { 'content-type': 'application/vnd.ipld.raw' }).end(block)
  }
}

async function addBlock(content: string): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = new TextEncoder().encode(content)
  const cid = CID.createV1(raw.code, await sha256.digest(bytes))
  blocks.set(cid.toString(), bytes)
  return { cid, bytes }
}

let block: { cid: CID, bytes: Uint8Array }
beforeAll(async () => { block = await addBlock('a block served over HTTP') })
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

describe('GatewayBlockSource', () => {
  it('fetches and verifies a block from a trustless gateway', async () => {
    const g = await gateway(good)
    const source = new GatewayBlockSource([`${g.url}/`])
    expect(Buffer.from(await source.get(block.cid)).equals(block.bytes)).toBe(true)
    expect(g.requests[0]?.url).toBe(`/ipfs/${block.cid.toString()}?format=raw`)
  })

  it('falls back to the next gateway when a gateway serves corrupted bytes', async () => {
    const corrupt = await gateway((_req, res) => { res.writeHead(200).end('not the right bytes') })
    const g = await gateway(good)
    const source = new GatewayBlockSource([corrupt.url, g.url], { retryDelayMs: 1 })
    expect(Buffer.from(await source.get(block.cid)).equals(block.bytes)).toBe(true)
    expect(corrupt.requests).toHaveLength(1) // a mismatch is not retried
    expect(g.requests).toHaveLength(1)
  })

  it('retries a 500 with backoff, then succeeds', async () => {
    let calls = 0
    const flaky = await gateway((req, res, b) => {
      if (++calls <= 2) res.writeHead(500).end('busy')
      else good(req, res, b)
    })
    const source = new GatewayBlockSource([flaky.url], { retries: 2, retryDelayMs: 5 })
    expect(Buffer.from(await source.get(block.cid)).equals(block.bytes)).toBe(true)
    expect(flaky.requests).toHaveLength(3)
  })

  it('moves on from a 404 without retrying and reports every gateway tried', async () => {
    const missing = await gateway((_req, res) => { res.writeHead(404).end() })
    const broken = await gateway((_req, res) => { res.writeHead(503).end() })
    const source = new GatewayBlockSource([missing.url, `http://user:secret@127.0.0.1:${new URL(broken.url).port}/base/`], { retries: 1, retryDelayMs: 1 })
    const error = await source.get(block.cid).catch((err) => err)
    expect(error).toBeInstanceOf(BlockNotFoundError)
    expect(error.message).toContain(`${missing.url} (HTTP 404)`)
    expect(error.message).toContain(`${broken.url}/base (HTTP 503)`)
    expect(error.message).not.toContain('secret')
    expect(source.label).not.toContain('secret')
    expect(missing.requests).toHaveLength(1)
    expect(broken.requests).toHaveLength(2)
    // userinfo is sent as basic auth, and the path prefix is kept
    expect(broken.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('user:secret').toString('base64')}`)
    expect(broken.requests[0]?.url?.startsWith('/base/ipfs/')).toBe(true)
  })

  it('treats network errors and timeouts as retryable failures', async () => {
    const hanging = await gateway(() => {})
    const closed = await gateway(good)
    const closedUrl = closed.url
    closed.server.close()
    const g = await gateway(good)
    const source = new GatewayBlockSource([closedUrl, hanging.url, g.url], { retries: 1, retryDelayMs: 1, timeoutMs: 200 })
    expect(Buffer.from(await source.get(block.cid)).equals(block.bytes)).toBe(true)
    expect(hanging.requests).toHaveLength(2)
    const none = new GatewayBlockSource([hanging.url], { retries: 0, timeoutMs: 100 })
    await expect(none.get(block.cid)).rejects.toThrow(/timeout after 100 ms/)
  })

  it('honours an AbortSignal', async () => {
    const hanging = await gateway(() => {})
    const source = new GatewayBlockSource([hanging.url], { timeoutMs: 10_000 })
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('user abort')), 50)
    await expect(source.get(block.cid, { signal: controller.signal })).rejects.toThrow('user abort')
  })

  it('uses an injected fetch', async () => {
    const urls: string[] = []
    const fetch = (async (input: string | URL | Request) => {
      urls.push(String(input))
      return new Response(block.bytes, { status: 200 })
    }) as typeof globalThis.fetch
    const source = new GatewayBlockSource(['https://gw.example'], { fetch })
    expect(Buffer.from(await source.get(block.cid)).equals(block.bytes)).toBe(true)
    expect(urls).toEqual([`https://gw.example/ipfs/${block.cid.toString()}?format=raw`])
  })

  it('refuses a redirect to another origin: the other listener receives no request, credentials included', async () => {
    const other = await gateway(good)
    const front = await gateway((req, res) => { res.writeHead(307, { location: `${other.url}${req.url ?? ''}&token=in-location` }).end() })
    const source = new GatewayBlockSource([front.url.replace('http://', 'http://user:gw-s3cret@')], { retryDelayMs: 1 })
    const error = await source.get(block.cid).catch((err) => err)
    expect(error).toBeInstanceOf(BlockNotFoundError)
    expect(error.message).toBe(`Block ${block.cid.toString()} not found on gateways: ${front.url} (answered HTTP 307 with a redirect to another origin (${other.url}); ipcr sends no request to another origin (check the URL))`)
    expect(front.requests).toHaveLength(1) // not retried
    expect(other.requests).toHaveLength(0)
  })

  it('follows a redirect to another origin for a gateway without credentials (a subdomain gateway), verifying the block', async () => {
    const other = await gateway(good)
    const front = await gateway((req, res) => { res.writeHead(301, { location: `${other.url}${req.url ?? ''}` }).end() })
    const source = new GatewayBlockSource([front.url], { retryDelayMs: 1 })
    expect(Buffer.from(await source.get(block.cid)).equals(block.bytes)).toBe(true)
    expect(other.requests).toHaveLength(1)
    expect(other.requests[0]?.headers.authorization).toBeUndefined()
  })

  it('follows a redirect within the same origin', async () => {
    const moving = await gateway((req, res) => {
      const moved = /^\/moved\/ipfs\/([^/?]+)/.exec(req.url ?? '')
      if (moved != null) good(req, res, blocks.get(moved[1] as string))
      else res.writeHead(308, { location: `/moved${req.url ?? ''}` }).end()
    })
    const source = new GatewayBlockSource([moving.url])
    expect(Buffer.from(await source.get(block.cid)).equals(block.bytes)).toBe(true)
    expect(moving.requests.map((r) => r.url)).toEqual([`/ipfs/${block.cid.toString()}?format=raw`, `/moved/ipfs/${block.cid.toString()}?format=raw`])
  })

  it('stops asking a gateway that timed out 4 times in a row, and says so once', async () => {
    const silent = await gateway(() => {})
    const g = await gateway(good)
    const warnings: string[] = []
    const logger: Logger = { debug () {}, info () {}, warn (m) { warnings.push(m) }, group: async (_n, fn) => await fn() }
    // The silent gateway never answers, so it always times out; the good one has ample time to answer.
    const source = new GatewayBlockSource([silent.url, g.url], { retries: 1, retryDelayMs: 1, timeoutMs: 1000, logger })
    for (let i = 0; i < 10; i++) expect(Buffer.from(await source.get(block.cid)).equals(block.bytes)).toBe(true)
    expect(silent.requests).toHaveLength(4)
    expect(g.requests).toHaveLength(10)
    expect(warnings).toEqual([`${silent.url}: 4 timeouts or network errors in a row; not asking this gateway again in this run`])
    // Once every gateway is given up, a block fails at once, naming why.
    const alone = new GatewayBlockSource([silent.url], { retries: 0, timeoutMs: 50, logger })
    for (let i = 0; i < 4; i++) await expect(alone.get(block.cid)).rejects.toThrow(BlockNotFoundError)
    const before = silent.requests.length
    await expect(alone.get(block.cid)).rejects.toThrow(`${silent.url} (not asked: 4 timeouts or network errors in a row)`)
    expect(silent.requests.length).toBe(before)
  })

  it('has an overall deadline per block, across attempts and gateways', async () => {
    const first = await gateway(() => {})
    const second = await gateway(() => {})
    // Without the deadline: 6 attempts of 200 ms on each gateway. With it, the deadline
    // (300 ms) passes during the second attempt on the first gateway.
    const source = new GatewayBlockSource([first.url, second.url], { retries: 5, retryDelayMs: 1, timeoutMs: 200, deadlineMs: 300, maxConsecutiveFailures: 100 })
    const error = await source.get(block.cid).catch((err) => err)
    expect(error).toBeInstanceOf(BlockNotFoundError)
    expect(error.message).toBe(`Block ${block.cid.toString()} not fetched within 0.3 s (the deadline per block) from gateways: ${first.url} (no block before the deadline)`)
    expect(first.requests.length).toBeLessThanOrEqual(2)
    expect(second.requests).toHaveLength(0)
  })
})
