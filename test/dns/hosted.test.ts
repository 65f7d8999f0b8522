import { afterEach, describe, expect, it } from '@jest/globals'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RedirectError, ResponseTooLargeError } from '../../src/core/errors.js'
import { CloudflareProvider } from '../../src/core/dns/cloudflare.js'
import { DnsimpleProvider } from '../../src/core/dns/dnsimple.js'
import { Route53Provider } from '../../src/core/dns/route53.js'
import type { DnsProvider } from '../../src/core/dns/types.js'
import { DnsLinkConflictError } from '../../src/core/dns/upsert.js'
import { cloudflareMock, dnsimpleMock, route53Mock, type MockApi } from './hosted-mocks.js'

/**
 * The hosted providers against local stand-ins of their APIs (hosted-mocks.ts),
 * which check every request against the documented API. Nothing here talks
 * to Cloudflare, AWS or DNSimple.
 */

const NAME = '_dnslink.registry.example.org'
const IPNS = 'dnslink=/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8'
const IPFS = 'dnslink=/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'
const fast = { retries: 0, timeoutMs: 10_000 }

const mocks: MockApi[] = []
afterEach(async () => {
  for (const m of mocks.splice(0)) {
    expect(m.violations).toEqual([])
    await m.close()
  }
})

const writes = (m: MockApi): string[] => m.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`)

/** The provider-independent cases, given a provider and how to seed and read its mock's state. */
interface Harness {
  provider: DnsProvider
  badProvider: DnsProvider
  mock: MockApi
  token: string
  seed: (values: string[]) => void
  /** Every TXT value at NAME in the mock's state, with its record id where the provider has one per value. */
  state: () => Array<{ id?: string, value: string }>
}

function commonCases (label: string, make: () => Promise<Harness>): void {
  it(`${label}: creates the dnslink record`, async () => {
    const h = await make()
    await h.provider.preflight(NAME, {})
    expect(await h.provider.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {})).toEqual({ change: 'created' })
    expect(h.state().map((s) => s.value)).toEqual([IPNS])
    expect(await h.provider.readTxt(NAME, {})).toEqual([IPNS])
  })

  it(`${label}: replaces a different dnslink value, then leaves an equal one alone without writing`, async () => {
    const h = await make()
    h.seed([IPFS])
    expect(await h.provider.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {})).toEqual({ change: 'replaced', previous: IPFS })
    expect(h.state().map((s) => s.value)).toEqual([IPNS])
    const before = writes(h.mock).length
    expect(before).toBe(1)
    expect(await h.provider.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {})).toEqual({ change: 'unchanged', previous: IPNS })
    expect(writes(h.mock)).toHaveLength(before)
  })

  it(`${label}: other TXT values at the name are kept as they were`, async () => {
    const h = await make()
    const others = ['v=spf1 -all', 'google-site-verification=abc', 'has "quotes" and \\ backslash']
    h.seed([others[0] ?? '', IPFS, others[1] ?? '', others[2] ?? ''])
    const before = h.state().filter((s) => s.value !== IPFS)
    await h.provider.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {})
    const after = h.state()
    expect(after.filter((s) => s.value !== IPNS)).toEqual(before)
    expect(after.map((s) => s.value).sort()).toEqual([...others, IPNS].sort())
    expect((await h.provider.readTxt(NAME, {})).sort()).toEqual([...others, IPNS].sort())
  })

  it(`${label}: two dnslink values are an error and nothing is written`, async () => {
    const h = await make()
    h.seed([IPFS, IPNS, 'v=spf1 -all'])
    await expect(h.provider.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {})).rejects.toThrow(/2 dnslink= TXT values/)
    await expect(h.provider.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {})).rejects.toThrow(h.provider.label)
    await expect(h.provider.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {})).rejects.toBeInstanceOf(DnsLinkConflictError)
    expect(writes(h.mock)).toEqual([])
    expect(h.state().map((s) => s.value).sort()).toEqual([IPFS, IPNS, 'v=spf1 -all'].sort())
  })

  it(`${label}: a refused credential is a clear error naming the provider, without the secret`, async () => {
    const h = await make()
    const err = await h.badProvider.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {}).then(() => undefined, (e: Error) => e)
    expect(err).toBeInstanceOf(Error)
    expect(err?.message).toContain(h.badProvider.label)
    expect(err?.message).toMatch(/HTTP 40[13]/)
    expect(err?.message).not.toContain(h.token)
    expect(writes(h.mock)).toEqual([])
  })
}

describe('Cloudflare', () => {
  const token = 'cf-token-0123456789abcdefghijklmnopqrstuv'
  const zone = { id: '023e105f4ecef8ad9ca31a8372d0c353', name: 'example.org' }
  const make = async (): Promise<Harness & { cf: Awaited<ReturnType<typeof cloudflareMock>> }> => {
    const cf = await cloudflareMock(token, zone)
    mocks.push(cf)
    let n = 0
    return {
      cf,
      mock: cf,
      token,
      provider: new CloudflareProvider({ apiToken: token, baseUrl: `${cf.url}/client/v4`, ...fast }),
      badProvider: new CloudflareProvider({ apiToken: 'cf-wrong-token-zyxwvutsrqponmlkjihgfedcba', zoneId: zone.id, baseUrl: `${cf.url}/client/v4`, ...fast }),
      seed: (values) => { for (const v of values) cf.records.push({ id: `seed${n++}`.padEnd(32, 'f'), type: 'TXT', name: NAME, content: `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`, ttl: 300 }) },
      state: () => cf.records.filter((r) => r.name === NAME).map((r) => ({ id: r.id, value: JSON.parse(r.content) as string }))
    }
  }
  commonCases('Cloudflare', make)

  it('finds the zone by walking up the name, and uses a given zone ID after checking it', async () => {
    const h = await make()
    await h.provider.preflight(NAME, {})
    const lookups = h.cf.requests.filter((r) => r.url.startsWith('/client/v4/zones?')).map((r) => new URL(r.url, 'http://x').searchParams.get('name'))
    expect(lookups).toEqual(['_dnslink.registry.example.org', 'registry.example.org', 'example.org'])
    const withId = new CloudflareProvider({ apiToken: token, zoneId: zone.id, baseUrl: `${h.cf.url}/client/v4`, ...fast })
    await withId.preflight(NAME, {})
    expect(h.cf.requests.some((r) => r.url === `/client/v4/zones/${zone.id}`)).toBe(true)
    await expect(withId.preflight('_dnslink.other.net', {})).rejects.toThrow(/cloudflare-zone-id/)
  })

  it('reads every page: the dnslink record on page 2 is replaced, not duplicated', async () => {
    const h = await make()
    h.seed(Array.from({ length: 120 }, (_, i) => `other-${i}`))
    h.seed([IPFS])
    expect(await h.provider.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {})).toEqual({ change: 'replaced', previous: IPFS })
    const pages = h.cf.requests.filter((r) => r.url.includes('/dns_records?')).map((r) => new URL(r.url, 'http://x').searchParams.get('page') ?? '1')
    expect(pages).toContain('2')
    expect(h.state()).toHaveLength(121)
    expect(h.state().filter((s) => s.value.startsWith('dnslink='))).toEqual([{ id: expect.any(String), value: IPNS }])
    const put = h.cf.requests.find((r) => r.method === 'PUT')
    expect(put?.url).toMatch(/\/dns_records\/seed120/)
    expect(JSON.parse(put?.body ?? '{}')).toEqual({ type: 'TXT', name: NAME, content: `"${IPNS}"`, ttl: 60 })
  })

  it('checks its configuration before any request', () => {
    expect(() => new CloudflareProvider({ apiToken: '' })).toThrow(/cloudflare-api-token/)
    expect(() => new CloudflareProvider({ apiToken: 'x y' })).toThrow(/cloudflare-api-token/)
    expect(() => new CloudflareProvider({ apiToken: 'abc', zoneId: 'example.org' })).toThrow(/cloudflare-zone-id/)
  })
})

describe('DNSimple', () => {
  const token = 'dnsimple_a_0123456789abcdefghijklmnopqrstuv'
  const accountId = 1010
  const make = async (): Promise<Harness & { ds: Awaited<ReturnType<typeof dnsimpleMock>> }> => {
    const ds = await dnsimpleMock(token, accountId, 'example.org')
    mocks.push(ds)
    let n = 1
    return {
      ds,
      mock: ds,
      token,
      provider: new DnsimpleProvider({ token, accountId: String(accountId), baseUrl: ds.url, ...fast }),
      badProvider: new DnsimpleProvider({ token: 'dnsimple_a_wrongwrongwrongwrongwrong', accountId, zone: 'example.org', baseUrl: ds.url, ...fast }),
      seed: (values) => { for (const v of values) ds.records.push({ id: n++, zone_id: 'example.org', name: '_dnslink.registry', type: 'TXT', content: v, ttl: 3600 }) },
      state: () => ds.records.filter((r) => r.name === '_dnslink.registry' && r.type === 'TXT').map((r) => ({ id: String(r.id), value: r.content }))
    }
  }
  commonCases('DNSimple', make)

  it('finds the zone by walking up the name (404 for names that are not zones)', async () => {
    const h = await make()
    await h.provider.preflight(NAME, {})
    const lookups = h.ds.requests.filter((r) => /^\/v2\/1010\/zones\/[^/]+$/.test(r.url)).map((r) => r.url)
    expect(lookups).toEqual(['/v2/1010/zones/_dnslink.registry.example.org', '/v2/1010/zones/registry.example.org', '/v2/1010/zones/example.org'])
    const list = h.ds.requests.find((r) => r.url.includes('/records?'))
    const query = new URL(list?.url ?? '/', 'http://x').searchParams
    expect(query.get('name')).toBe('_dnslink.registry')
    expect(query.get('type')).toBe('TXT')
  })

  it('reads every page: the dnslink record on page 2 is updated with PATCH', async () => {
    const h = await make()
    h.seed(Array.from({ length: 120 }, (_, i) => `other-${i}`))
    h.seed([IPFS])
    expect(await h.provider.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {})).toEqual({ change: 'replaced', previous: IPFS })
    const pages = h.ds.requests.filter((r) => r.url.includes('/records?')).map((r) => new URL(r.url, 'http://x').searchParams.get('page'))
    expect(pages).toEqual(['1', '2'])
    const patch = h.ds.requests.find((r) => r.method === 'PATCH')
    expect(patch?.url).toBe('/v2/1010/zones/example.org/records/121')
    expect(JSON.parse(patch?.body ?? '{}')).toEqual({ content: IPNS, ttl: 60 })
    expect(h.state()).toHaveLength(121)
  })

  it('checks its configuration before any request', () => {
    expect(() => new DnsimpleProvider({ token: '', accountId: 1 })).toThrow(/dnsimple-token/)
    expect(() => new DnsimpleProvider({ token: 'abc', accountId: 'acme' })).toThrow(/dnsimple-account-id/)
  })
})

describe('Route 53', () => {
  const keyId = 'AKIAIOSFODNN7EXAMPLE'
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
  const session = 'FwoGZXIvYXdzEXAMPLEsessiontoken0123456789'
  const region = 'eu-west-1'
  const zone = { id: 'Z0123456789ABCDEFGHIJ', name: 'example.org.' }
  const env = { AWS_ACCESS_KEY_ID: keyId, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: session, AWS_REGION: region }
  const make = async (): Promise<Harness & { r53: Awaited<ReturnType<typeof route53Mock>> }> => {
    const r53 = await route53Mock(keyId, region, zone, session)
    mocks.push(r53)
    const set = (): { values: string[] } | undefined => r53.sets.find((s) => s.name === `${NAME}.` && s.type === 'TXT' && s.setIdentifier == null)
    return {
      r53,
      mock: r53,
      token: secret,
      provider: new Route53Provider({ hostedZoneId: `/hostedzone/${zone.id}`, endpoint: r53.url, env, ...fast }),
      badProvider: new Route53Provider({ hostedZoneId: zone.id, endpoint: r53.url, env: { ...env, AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG0' }, ...fast }),
      seed: (values) => { r53.sets.push({ name: `${NAME}.`, type: 'TXT', ttl: 300, values: values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`) }) },
      // One set per name: the values' presentation form is what must stay as it was.
      state: () => (set()?.values ?? []).map((v) => ({ value: (v.match(/"(?:[^"\\]|\\.)*"/g) ?? []).map((s) => s.slice(1, -1).replace(/\\(.)/g, '$1')).join('') }))
    }
  }
  commonCases('Route 53', make)

  it('writes the whole set back with UPSERT, others verbatim, keeping its TTL; long values split into 255-byte strings', async () => {
    const h = await make()
    h.r53.sets.push({ name: `${NAME}.`, type: 'TXT', ttl: 300, values: ['"v=spf1 -all"', `"${IPFS}"`] })
    h.r53.sets.push({ name: 'www.example.org.', type: 'TXT', ttl: 60, values: ['"dnslink=/ipfs/elsewhere"'] })
    const long = `dnslink=/ipns/${'k'.repeat(300)}`
    expect(await h.provider.upsertDnsLink({ name: NAME, value: long, ttl: 60 }, {})).toEqual({ change: 'replaced', previous: IPFS })
    const set = h.r53.sets.find((s) => s.name === `${NAME}.`)
    expect(set?.ttl).toBe(300)
    expect(set?.values[0]).toBe('"v=spf1 -all"')
    expect(set?.values[1]).toBe(`"${long.slice(0, 255)}" "${long.slice(255)}"`)
    expect(await h.provider.readTxt(NAME, {})).toEqual(['v=spf1 -all', long])
    expect(h.r53.sets.find((s) => s.name === 'www.example.org.')?.values).toEqual(['"dnslink=/ipfs/elsewhere"'])
    const list = h.r53.requests.find((r) => r.url.includes('/rrset?'))
    const query = new URL(list?.url ?? '/', 'http://x').searchParams
    expect(query.get('name')).toBe(`${NAME}.`)
    expect(query.get('type')).toBe('TXT')
  })

  it('a set at the next name is not taken for the one asked for', async () => {
    const h = await make()
    h.r53.sets.push({ name: `x.${NAME}.`, type: 'TXT', ttl: 300, values: [`"${IPFS}"`] })
    expect(await h.provider.readTxt(NAME, {})).toEqual([])
    expect(await h.provider.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {})).toEqual({ change: 'created' })
    expect(h.r53.sets.find((s) => s.name === `x.${NAME}.`)?.values).toEqual([`"${IPFS}"`])
  })

  it('follows NextRecordName/Type/Identifier: routing-policy sets over two pages are an error, nothing written', async () => {
    const h = await make()
    for (let i = 0; i < 120; i++) h.r53.sets.push({ name: `${NAME}.`, type: 'TXT', ttl: 60, values: [`"w${i}"`], setIdentifier: `w${String(i).padStart(3, '0')}`, weight: 1 })
    await expect(h.provider.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {})).rejects.toThrow(/120 TXT record sets with a routing policy/)
    const lists = h.r53.requests.filter((r) => r.url.includes('/rrset?')).map((r) => new URL(r.url, 'http://x').searchParams)
    expect(lists).toHaveLength(2)
    expect(lists[1]?.get('identifier')).toBe('w100')
    expect(writes(h.mock)).toEqual([])
  })

  it('waits for INSYNC when asked, polling GetChange a bounded number of times', async () => {
    const h = await make()
    h.r53.pendingPolls = 2
    const waiting = new Route53Provider({ hostedZoneId: zone.id, endpoint: h.r53.url, env, waitForSync: true, syncPollMs: 1, syncPolls: 5, ...fast })
    expect(await waiting.upsertDnsLink({ name: NAME, value: IPNS, ttl: 60 }, {})).toEqual({ change: 'created' })
    expect(h.r53.requests.filter((r) => r.url.startsWith('/2013-04-01/change/'))).toHaveLength(3)
    h.r53.pendingPolls = 10
    const impatient = new Route53Provider({ hostedZoneId: zone.id, endpoint: h.r53.url, env, waitForSync: true, syncPollMs: 1, syncPolls: 3, ...fast })
    await expect(impatient.upsertDnsLink({ name: NAME, value: IPFS, ttl: 60 }, {})).rejects.toThrow(/still PENDING after 3 checks/)
  })

  it('preflight checks the hosted zone holds the name', async () => {
    const h = await make()
    await h.provider.preflight(NAME, {})
    await expect(h.provider.preflight('_dnslink.other.net', {})).rejects.toThrow(/route53-hosted-zone-id/)
  })

  it('checks its configuration before any request', () => {
    expect(() => new Route53Provider({ hostedZoneId: '', env })).toThrow(/route53-hosted-zone-id/)
    expect(() => new Route53Provider({ hostedZoneId: 'example.org', env })).toThrow(/route53-hosted-zone-id/)
    expect(() => new Route53Provider({ hostedZoneId: zone.id, env: {} })).toThrow(/AWS_ACCESS_KEY_ID/)
  })
})

describe('the SDKs send through service.ts', () => {
  /** A server that redirects every request to another origin (which is never contacted) or answers a body over the limit. */
  async function hostile (mode: 'redirect' | 'huge'): Promise<{ url: string, hits: () => number, close: () => Promise<void> }> {
    let hits = 0
    const other = createServer((_req, res) => { hits++; res.end('{}') })
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
    const server = createServer((_req, res) => {
      if (mode === 'redirect') res.writeHead(307, { location: `http://localhost:${(other.address() as AddressInfo).port}/stolen` }).end()
      else res.writeHead(200, { 'content-type': 'application/json' }).end(`{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      hits: () => hits,
      close: async () => {
        for (const s of [server, other]) { s.closeAllConnections(); await new Promise<void>((resolve) => s.close(() => resolve())) }
      }
    }
  }
  const env = { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
  const providers = (url: string): DnsProvider[] => [
    new CloudflareProvider({ apiToken: 'cf-token-0123456789abcdefghijklmnopqrstuv', zoneId: '023e105f4ecef8ad9ca31a8372d0c353', baseUrl: `${url}/client/v4`, ...fast }),
    new DnsimpleProvider({ token: 'dnsimple_a_0123456789abcdefghijklmnopqrstuv', accountId: 1010, zone: 'example.org', baseUrl: url, ...fast }),
    new Route53Provider({ hostedZoneId: 'Z0123456789ABCDEFGHIJ', endpoint: url, env, ...fast })
  ]

  it('a redirect to another origin is refused (RedirectError), the other origin never contacted', async () => {
    const h = await hostile('redirect')
    try {
      for (const p of providers(h.url)) {
        await expect(p.readTxt(NAME, {})).rejects.toBeInstanceOf(RedirectError)
      }
      expect(h.hits()).toBe(0)
    } finally { await h.close() }
  })

  it('an answer over the size limit is refused (ResponseTooLargeError)', async () => {
    const h = await hostile('huge')
    try {
      for (const p of providers(h.url)) {
        await expect(p.readTxt(NAME, {})).rejects.toBeInstanceOf(ResponseTooLargeError)
      }
    } finally { await h.close() }
  })
})
