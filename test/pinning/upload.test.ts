import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { writeFile, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { RedirectError } from '../../src/core/errors.js'
import { uploadFile } from '../../src/core/upload.js'
import { ServiceError } from '../../src/core/service.js'
import { makeTempDir } from '../helpers/images.js'

interface Seen { url: string, authorization?: string, body: Buffer }

/** A server on loopback that records each request (body read in full) and answers with `handler`. */
async function serve (handler: (seen: Seen, index: number, res: ServerResponse) => void): Promise<{ server: Server, url: string, seen: Seen[] }> {
  const seen: Seen[] = []
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const entry = { url: req.url ?? '', ...(req.headers.authorization != null ? { authorization: req.headers.authorization } : {}), body: Buffer.concat(chunks) }
      seen.push(entry)
      handler(entry, seen.length - 1, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

let dir: string
let file: string
const content = randomBytes(300 * 1024)
const servers: Server[] = []

beforeAll(async () => {
  dir = await makeTempDir('ipcr-upload-')
  file = join(dir, 'registry.car')
  await writeFile(file, content)
})

afterAll(async () => {
  for (const s of servers) s.close()
  await rm(dir, { recursive: true, force: true })
})

describe('uploadFile', () => {
  test('sends the file as one multipart part, follows a same-origin redirect with the file again, and returns the trailers', async () => {
    const { server, url, seen } = await serve((_, index, res) => {
      if (index === 0) {
        res.writeHead(307, { Location: '/moved?x=1' }).end()
        return
      }
      res.writeHead(200, { 'Content-Type': 'application/json', Trailer: 'X-Stream-Error' })
      res.write('{"cid":"a"}\n')
      res.addTrailers({ 'X-Stream-Error': 'boom' })
      res.end()
    })
    servers.push(server)
    const answer = await uploadFile(new URL(`${url}/add?format=car`), { label: 'test', headers: { Authorization: 'Bearer t0ken-value' }, path: file, filename: 'registry.car' })
    expect(answer.status).toBe(200)
    expect(answer.text).toBe('{"cid":"a"}\n')
    expect(answer.trailers['x-stream-error']).toBe('boom')
    expect(seen.map((s) => s.url)).toEqual(['/add?format=car', '/moved?x=1'])
    for (const s of seen) {
      expect(s.authorization).toBe('Bearer t0ken-value')
      const at = s.body.indexOf('\r\n\r\n') + 4
      expect(s.body.subarray(0, at).toString()).toMatch(/Content-Disposition: form-data; name="file"; filename="registry.car"/)
      expect(Buffer.compare(s.body.subarray(at, at + content.length), content)).toBe(0)
    }
  })

  test('a redirect to another origin is refused: nothing reaches it', async () => {
    const other = await serve((_, __, res) => res.writeHead(200).end('{}'))
    servers.push(other.server)
    const first = await serve((_, __, res) => res.writeHead(307, { Location: `${other.url.replace('127.0.0.1', 'localhost')}/add` }).end())
    servers.push(first.server)
    const err = await uploadFile(new URL(`${first.url}/add`), { label: 'test', headers: { Authorization: 'Bearer secret-token' }, path: file }).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(RedirectError)
    expect((err as Error).message).toMatch(/redirect to another origin \(http:\/\/localhost:\d+\)/)
    expect(other.seen).toHaveLength(0)
  })

  test('a server that ends its whole answer before reading the rest of the file: its answer counts', async () => {
    // As IPFS Cluster (Go's net/http) does when it refuses the pin: 200, an error trailer, then
    // a half-close (FIN) while the rest of the file is unread. This server never reads more and
    // never closes first, so the client must return on the answer alone, not on the upload's end.
    const big = join(dir, 'big.car')
    await writeFile(big, randomBytes(16 * 1024 * 1024))
    let read = 0
    const server = createServer((req, res) => {
      req.socket.on('error', () => {})
      req.once('data', (c: Buffer) => {
        read += c.length
        req.pause()
        res.writeHead(200, { Trailer: 'X-Stream-Error' })
        res.write('{}\n')
        res.addTrailers({ 'X-Stream-Error': 'not enough peers to allocate CID' })
        res.end(() => { req.socket.end() })
      })
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const answer = await uploadFile(new URL(`${url}/add`), { label: 'test', path: big, retries: 0 })
    expect(read).toBeLessThan(16 * 1024 * 1024)
    expect(answer.status).toBe(200)
    expect(answer.trailers['x-stream-error']).toBe('not enough peers to allocate CID')
  })

  test('5xx is retried, 4xx is not', async () => {
    const flaky = await serve((_, index, res) => {
      if (index === 0) res.writeHead(503, { 'Retry-After': '0' }).end('busy')
      else res.writeHead(200).end('ok')
    })
    servers.push(flaky.server)
    expect((await uploadFile(new URL(flaky.url), { label: 'flaky', path: file, retryDelayMs: 10 })).text).toBe('ok')
    expect(flaky.seen).toHaveLength(2)

    const refusing = await serve((_, __, res) => res.writeHead(403).end('{"message":"forbidden"}'))
    servers.push(refusing.server)
    const err = await uploadFile(new URL(refusing.url), { label: 'refusing', path: file, retryDelayMs: 10 }).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(ServiceError)
    expect((err as ServiceError).status).toBe(403)
    expect((err as Error).message).toBe('refusing: HTTP 403: {"message":"forbidden"}')
    expect(refusing.seen).toHaveLength(1)
  })
})
