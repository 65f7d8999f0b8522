import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { PrivateKey } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { IpnsRecordError } from '../../src/core/errors.js'
import { DelegatedRouterStore } from '../../src/core/ipns/delegated-router.js'
import { GatewayRecordStore } from '../../src/core/ipns/gateway-records.js'
import { generateKey, signingKey } from '../../src/core/ipns/keys.js'
import { lookupName, putEverywhere } from '../../src/core/ipns/lookup.js'
import { parseIpnsName, type IpnsName } from '../../src/core/ipns/name.js'
import { MAX_RECORD_BYTES, signRecord } from '../../src/core/ipns/record.js'
import type { Logger } from '../../src/core/logger.js'

const hour = 3_600_000
const rootA = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
const rootB = CID.parse('bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354')

/** What the stand-in answers for a name: a record (200, IPNS type) or a response of its own. */
type Entry = Uint8Array | { status: number, type?: string, body?: string | Uint8Array, length?: number, endless?: boolean }

/**
 * A local stand-in Delegated Routing V1 server (GET/PUT /routing/v1/ipns/{name})
 * backed by a Map the test controls; it counts requests and the bytes it wrote.
 */
interface StandIn {
  url: string
  records: Map<string, Entry>
  requests: Array<{ method: string, path: string, headers: IncomingMessage['headers'] }>
  written: number
  close: () => Promise<void>
}

const servers: StandIn[] = []

async function standIn (): Promise<StandIn> {
  const state: StandIn = { url: '', records: new Map(), requests: [], written: 0, close: async () => {} }
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers })
    const match = /^\/routing\/v1\/ipns\/([A-Za-z0-9]+)$/.exec(req.url ?? '')
    if (match == null) { res.writeHead(400).end('bad path'); return }
    const name = match[1] as string
    if (req.method === 'PUT') {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const entry = state.records.get(`put:${name}`)
        if (entry != null && !(entry instanceof Uint8Array)) { res.writeHead(entry.status).end(entry.body ?? ''); return }
        state.records.set(name, Buffer.concat(chunks))
        res.writeHead(200).end()
      })
      return
    }
    const entry = state.records.get(name)
    if (entry == null) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'); return }
    if (entry instanceof Uint8Array) {
      res.writeHead(200, { 'content-type': 'application/vnd.ipfs.ipns-record' }).end(entry)
      return
    }
    res.writeHead(entry.status, { 'content-type': entry.type ?? 'text/plain', ...(entry.length != null ? { 'content-length': String(entry.length) } : {}) })
    if (entry.endless === true) {
      // 256 MiB in 64 KiB chunks, as fast as the client reads; stops when it hangs up.
      const chunk = Buffer.alloc(64 * 1024, 7)
      let left = 4096
      const pump = (): void => {
        while (left > 0 && !res.destroyed) {
          left--
          state.written += chunk.length
          if (!res.write(chunk)) { res.once('drain', pump); return }
        }
        if (!res.destroyed) res.end()
      }
      res.on('close', () => { left = 0 })
      pump()
      return
    }
    res.end(entry.body ?? '')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  state.close = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  servers.push(state)
  return state
}

function recordingLogger (): Logger & { warnings: string[] } {
  const warnings: string[] = []
  return { warnings, debug () {}, info () {}, warn (m) { warnings.push(m) }, group: async (_n, fn) => await fn() }
}

let mine: { key: PrivateKey, name: IpnsName }
let other: { key: PrivateKey, name: IpnsName }
let rsa: { key: PrivateKey, name: IpnsName }

async function keyAndName (type: 'ed25519' | 'rsa' = 'ed25519'): Promise<{ key: PrivateKey, name: IpnsName }> {
  const { key, name } = await generateKey(type)
  return { key: await signingKey(key), name: parseIpnsName(name) }
}

const fast = { retries: 2, retryDelayMs: 1, timeoutMs: 10_000 }

beforeAll(async () => {
  ;[mine, other, rsa] = await Promise.all([keyAndName(), keyAndName(), keyAndName('rsa')])
}, 60_000)

afterAll(async () => {
  await Promise.all(servers.map(async (s) => await s.close()))
})

/** (a) forged: signed by another key; (b) expired, of the right key; (c) a valid record of a different name. */
async function badRecords (): Promise<{ forged: Uint8Array, expired: Uint8Array, otherName: Uint8Array }> {
  const forged = await signRecord(other.key, other.name, rootB, { sequence: 50n, lifetimeMs: hour, ttlMs: 1000 })
  const expired = await signRecord(mine.key, mine.name, rootB, { sequence: 10n, lifetimeMs: hour, ttlMs: 1000, now: Date.now() - 3 * hour })
  const otherName = await signRecord(rsa.key, rsa.name, rootB, { sequence: 60n, lifetimeMs: hour, ttlMs: 1000 })
  return { forged: forged.bytes, expired: expired.bytes, otherName: otherName.bytes }
}

describe('lookupName against stand-in routers', () => {
  test('a forged, an expired and another name\'s record, each the only source, are refused naming the router', async () => {
    const bad = await badRecords()
    const cases: Array<[Uint8Array, RegExp]> = [
      [bad.forged, /its signature does not verify against the name's key/],
      [bad.expired, /expired at/],
      [bad.otherName, /signed by the key of another name/]
    ]
    for (const [bytes, why] of cases) {
      const router = await standIn()
      router.records.set(mine.name.text, bytes)
      const logger = recordingLogger()
      const lookup = lookupName(mine.name, [new DelegatedRouterStore(router.url, fast)], { logger })
      await expect(lookup).rejects.toThrow(IpnsRecordError)
      await expect(lookupName(mine.name, [new DelegatedRouterStore(router.url, fast)])).rejects.toThrow(`router ${router.url}: refused (`)
      await expect(lookupName(mine.name, [new DelegatedRouterStore(router.url, fast)])).rejects.toThrow(why)
      expect(logger.warnings.join('\n')).toMatch(why)
      expect(logger.warnings.join('\n')).toContain(`router ${router.url}`)
    }
  })

  test('next to a store with a valid record, the valid one is current; the refused ones are warned about; the expired one\'s sequence counts', async () => {
    const bad = await badRecords()
    const routers = await Promise.all([standIn(), standIn(), standIn(), standIn(), standIn()])
    const [forged, expired, otherName, valid, older] = routers as [StandIn, StandIn, StandIn, StandIn, StandIn]
    forged.records.set(mine.name.text, bad.forged)
    expired.records.set(mine.name.text, bad.expired)
    otherName.records.set(mine.name.text, bad.otherName)
    const good = await signRecord(mine.key, mine.name, rootA, { sequence: 4n, lifetimeMs: hour, ttlMs: 1000 })
    valid.records.set(mine.name.text, good.bytes)
    older.records.set(mine.name.text, (await signRecord(mine.key, mine.name, rootB, { sequence: 3n, lifetimeMs: 2 * hour, ttlMs: 1000 })).bytes)
    const logger = recordingLogger()
    const lookup = await lookupName(mine.name, routers.map((r) => new DelegatedRouterStore(r.url, fast)), { logger })
    expect(lookup.current?.sequence).toBe(4n)
    expect(lookup.current?.root?.equals(rootA)).toBe(true)
    expect(Buffer.from(lookup.current?.bytes ?? []).equals(Buffer.from(good.bytes))).toBe(true)
    // The forged (50) and other name's (60) sequences are not the name's: only the expired 10 counts.
    expect(lookup.highestSequence).toBe(10n)
    expect(lookup.sources.map((s) => [s.label, s.outcome])).toEqual([
      [`router ${forged.url}`, 'refused'],
      [`router ${expired.url}`, 'refused'],
      [`router ${otherName.url}`, 'refused'],
      [`router ${valid.url}`, 'found'],
      [`router ${older.url}`, 'found']
    ])
    expect(logger.warnings).toHaveLength(3)
    expect(logger.warnings[0]).toMatch(new RegExp(`router ${forged.url}.*signature does not verify`))
    expect(logger.warnings[1]).toMatch(new RegExp(`router ${expired.url}.*expired at`))
    expect(logger.warnings[2]).toMatch(new RegExp(`router ${otherName.url}.*another name`))
  })

  test('a router answering 500 and one answering 404: the lookup throws (not a new name); the GET was retried', async () => {
    const [failing, empty] = await Promise.all([standIn(), standIn()])
    failing.records.set(mine.name.text, { status: 500, body: 'database on fire' })
    const lookup = lookupName(mine.name, [new DelegatedRouterStore(failing.url, fast), new DelegatedRouterStore(empty.url, fast)])
    await expect(lookup).rejects.toThrow(IpnsRecordError)
    await expect(lookup).rejects.toThrow(`router ${failing.url}: failed (router ${failing.url}: GET /routing/v1/ipns/${mine.name.text} failed: HTTP 500 (database on fire))`)
    await expect(lookup).rejects.toThrow(`router ${empty.url}: none (no record)`)
    expect(failing.requests.filter((r) => r.method === 'GET')).toHaveLength(3)
    expect(empty.requests).toHaveLength(1)
    // An unreachable router is a failure too.
    const gone = await standIn()
    await gone.close()
    await expect(lookupName(mine.name, [new DelegatedRouterStore(gone.url, { ...fast, retries: 0 }), new DelegatedRouterStore(empty.url, fast)])).rejects.toThrow(/failed \(.*unreachable \(ECONNREFUSED\)/)
  })

  test('when every place has no record (404, or 200 text/plain as IPIP-513 answers), the name is new', async () => {
    const [a, b] = await Promise.all([standIn(), standIn()])
    b.records.set(mine.name.text, { status: 200, type: 'text/plain; charset=utf-8', body: 'delegate error: routing: not found' })
    const lookup = await lookupName(mine.name, [new DelegatedRouterStore(a.url, fast), new DelegatedRouterStore(b.url, fast)])
    expect(lookup).toEqual({ current: null, highestSequence: null, sources: [
      { label: `router ${a.url}`, outcome: 'none', detail: 'no record' },
      { label: `router ${b.url}`, outcome: 'none', detail: 'no record' }
    ] })
    expect(a.requests[0]?.headers.accept).toBe('application/vnd.ipfs.ipns-record')
  })

  test('a record larger than 10 KiB is refused without reading more than that', async () => {
    const router = await standIn()
    const store = new DelegatedRouterStore(router.url, fast)
    // Streamed without a length: 256 MiB offered, the client hangs up after 10 KiB + 1.
    router.records.set(mine.name.text, { status: 200, type: 'application/vnd.ipfs.ipns-record', endless: true })
    await expect(store.get(mine.name)).rejects.toThrow(`IPNS record for /ipns/${mine.name.text} from router ${router.url}: more than the ${MAX_RECORD_BYTES} bytes`)
    await expect(lookupName(mine.name, [store])).rejects.toThrow(`router ${router.url}: refused (`)
    expect(router.written).toBeLessThan(64 * 1024 * 1024)
    // Exactly one byte too many, with its length declared.
    router.records.set(mine.name.text, { status: 200, type: 'application/vnd.ipfs.ipns-record', body: new Uint8Array(MAX_RECORD_BYTES + 1) })
    await expect(store.get(mine.name)).rejects.toThrow(/more than the 10240 bytes/)
  })
})

describe('DelegatedRouterStore and putEverywhere', () => {
  test('PUT sends the raw record with its media type; one store failing is its row, PUTs are not retried', async () => {
    const [ok, refusing] = await Promise.all([standIn(), standIn()])
    refusing.records.set(`put:${mine.name.text}`, { status: 503, body: 'read-only today' })
    const record = await signRecord(mine.key, mine.name, rootA, { sequence: 1n, lifetimeMs: hour, ttlMs: 1000 })
    const stores = [new DelegatedRouterStore(`${ok.url}/`, fast), new DelegatedRouterStore(refusing.url, fast), new GatewayRecordStore(ok.url)]
    const results = await putEverywhere(mine.name, record, stores)
    expect(results).toEqual([
      { label: `router ${ok.url}`, ok: true, detail: 'stored sequence 1' },
      { label: `router ${refusing.url}`, ok: false, detail: `router ${refusing.url}: PUT /routing/v1/ipns/${mine.name.text} failed: HTTP 503 (read-only today)` }
    ])
    expect(Buffer.from(ok.records.get(mine.name.text) as Uint8Array).equals(Buffer.from(record.bytes))).toBe(true)
    expect(ok.requests[0]).toMatchObject({ method: 'PUT', path: `/routing/v1/ipns/${mine.name.text}` })
    expect(ok.requests[0]?.headers['content-type']).toBe('application/vnd.ipfs.ipns-record')
    expect(refusing.requests).toHaveLength(1)
    // What was put is what is read back.
    expect((await lookupName(mine.name, [stores[0] as DelegatedRouterStore])).current?.sequence).toBe(1n)
  })

  test('router URLs: http(s) only, no query or fragment, a path prefix kept, credentials sent as a header and never in the label', async () => {
    expect(() => new DelegatedRouterStore('ftp://router.example')).toThrow("Input 'ipns-routers'")
    expect(() => new DelegatedRouterStore('https://router.example/?token=abc')).toThrow(/has a query/)
    expect(() => new DelegatedRouterStore('https://router.example/#x')).toThrow(/has a fragment/)
    expect(() => new DelegatedRouterStore('not a url')).toThrow("Input 'ipns-routers'")
    const router = await standIn()
    const port = new URL(router.url).port
    const store = new DelegatedRouterStore(`http://user:s3cr3t-pass@127.0.0.1:${port}/`, fast)
    expect(store.label).toBe(`router http://127.0.0.1:${port}`)
    expect(await store.get(mine.name)).toBeNull()
    expect(router.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('user:s3cr3t-pass').toString('base64')}`)
    // A base with a path: the API is under it.
    const prefixed = new DelegatedRouterStore(`${router.url}/some/prefix/`, fast)
    expect(prefixed.label).toBe(`router ${router.url}/some/prefix`)
    await expect(prefixed.get(mine.name)).rejects.toThrow(/HTTP 400/)
    expect(router.requests[1]?.path).toBe(`/some/prefix/routing/v1/ipns/${mine.name.text}`)
  })
})
