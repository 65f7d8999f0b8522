import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { InputError } from '../../src/core/errors.js'
import { ServiceError } from '../../src/core/service.js'
import type { Logger } from '../../src/core/logger.js'
import { PowerDnsProvider, type PowerDnsConfig } from '../../src/core/dns/powerdns.js'
import { unquoteTxt } from '../../src/core/dns/txt.js'
import { DnsLinkConflictError } from '../../src/core/dns/upsert.js'
import { failure as failureOf } from '../helpers/failure.js'
import { startPowerDns, startRecordingProxy, type PowerDnsServer, type RecordingProxy } from '../helpers/powerdns.js'

// Against Debian's PowerDNS Authoritative Server (sqlite3 backend) on loopback, through a proxy that notes each request.
const NAME = '_dnslink.reg.example.test'
const OTHERS = ['v=other value', 'part onepart two', 'with "quote" and \\ backslash']
const CID_A = 'dnslink=/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'
const CID_B = 'dnslink=/ipfs/bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4'
const IPNS = 'dnslink=/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8'
const TWO = ['dnslink=/ipfs/bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4', 'dnslink=/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8']

let pdns: PowerDnsServer
let proxy: RecordingProxy
/** Every message the provider printed or threw, to check that no key is in any. */
const messages: string[] = []
const logger: Logger = {
  debug: (m) => { messages.push(m) },
  info: (m) => { messages.push(m) },
  warn: (m) => { messages.push(m) },
  group: async (_name, fn) => await fn()
}

function provider (config: Partial<PowerDnsConfig> = {}): PowerDnsProvider {
  return new PowerDnsProvider({ apiUrl: proxy.url, apiKey: pdns.apiKey, retries: 0, ...config }, logger)
}

/** The error, its message noted (for the check that no secret shows). */
async function failure (promise: Promise<unknown>): Promise<Error> {
  const err = await failureOf(promise)
  messages.push(err.message)
  return err
}

/** The TXT values dig sees at `name`, each record's strings joined. */
async function digValues (name: string): Promise<string[]> {
  return (await pdns.digTxt(name)).map(unquoteTxt).sort()
}

function patches (): string[] {
  return proxy.requests.filter((r) => r.startsWith('PATCH '))
}

beforeAll(async () => {
  pdns = await startPowerDns([
    {
      name: 'example.test',
      records: [
        '_dnslink.reg 60 IN TXT "v=other value"',
        '_dnslink.reg 60 IN TXT "part one" "part two"',
        '_dnslink.reg 60 IN TXT "with \\"quote\\" and \\\\ backslash"',
        `_dnslink.two 60 IN TXT "${TWO[0] as string}"`,
        `_dnslink.two 60 IN TXT "${TWO[1] as string}"`,
        '_dnslink.two 60 IN TXT "keep me"',
        '_dnslink.alias 60 IN CNAME target.example.test.'
      ]
    },
    // A zone below the first: names in it belong to it, not to example.test.
    { name: 'sub.example.test', records: ['www 60 IN A 127.0.0.1'] }
  ])
  proxy = await startRecordingProxy(pdns.apiUrl)
})

afterAll(async () => {
  await proxy?.close()
  await pdns?.stop()
})

describe('PowerDnsProvider configuration (offline)', () => {
  const base = { apiUrl: 'http://127.0.0.1:1', apiKey: 'a-key-for-offline-checks' }
  it.each([
    [{ ...base, apiKey: '' }, 'powerdns-api-key'],
    [{ ...base, apiKey: 'two words' }, 'powerdns-api-key'],
    [{ ...base, apiUrl: 'ftp://127.0.0.1' }, 'powerdns-api-url'],
    [{ ...base, apiUrl: 'not a url' }, 'powerdns-api-url'],
    [{ ...base, apiUrl: 'http://user:pass@127.0.0.1:8081' }, 'powerdns-api-url'],
    [{ ...base, serverId: 'local host' }, 'powerdns-server-id'],
    [{ ...base, zone: 'bad..zone' }, 'powerdns-zone']
  ])('refuses %j naming %s', (config, input) => {
    let err: unknown
    try {
      new PowerDnsProvider(config)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).input).toBe(input)
    expect((err as Error).message).not.toContain('a-key-for-offline-checks')
  })

  it('names itself without the key; accepts a URL ending in /api/v1', () => {
    const p = new PowerDnsProvider({ ...base, apiUrl: 'http://127.0.0.1:8081/api/v1/', zone: 'Example.ORG.' })
    expect(p.kind).toBe('powerdns')
    expect(p.label).toBe("PowerDNS http://127.0.0.1:8081 (server 'localhost', zone example.org.)")
  })

  it('checks the name, value and TTL before any request', async () => {
    const p = new PowerDnsProvider(base)
    await expect(p.upsertDnsLink({ name: 'bad name', value: CID_A, ttl: 60 }, {})).rejects.toMatchObject({ input: 'dnslink-domain' })
    await expect(p.upsertDnsLink({ name: NAME, value: 'not-dnslink', ttl: 60 }, {})).rejects.toMatchObject({ input: 'dnslink-value' })
    await expect(p.upsertDnsLink({ name: NAME, value: CID_A, ttl: 0 }, {})).rejects.toMatchObject({ input: 'dnslink-ttl' })
  })
})

describe('PowerDnsProvider against pdns_server', () => {
  it('preflight: key accepted, zone found', async () => {
    await provider().preflight(NAME, {})
    expect(messages.at(-1)).toContain(`${NAME} is in zone example.test.`)
  })

  it('reads quoted, escaped and multi-string TXT values', async () => {
    expect((await provider().readTxt(NAME, {})).sort()).toEqual([...OTHERS].sort())
    expect(await digValues(NAME)).toEqual([...OTHERS].sort())
  })

  it('creates, leaves alone, replaces; the other TXT values stay', async () => {
    const p = provider()
    expect(await p.upsertDnsLink({ name: NAME, value: CID_A, ttl: 60 }, {})).toEqual({ change: 'created' })
    expect(await pdns.digTxt(NAME)).toContain(`"${CID_A}"`)
    expect(await digValues(NAME)).toEqual([...OTHERS, CID_A].sort())
    expect((await p.readTxt(NAME, {})).sort()).toEqual([...OTHERS, CID_A].sort())

    const writes = patches().length
    expect(writes).toBe(1)
    expect(await provider().upsertDnsLink({ name: NAME, value: CID_A, ttl: 60 }, {})).toEqual({ change: 'unchanged', previous: CID_A })
    expect(patches()).toHaveLength(writes)

    expect(await p.upsertDnsLink({ name: `${NAME}.`, value: IPNS, ttl: 120 }, {})).toEqual({ change: 'replaced', previous: CID_A })
    expect(patches()).toHaveLength(writes + 1)
    expect(await digValues(NAME)).toEqual([...OTHERS, IPNS].sort())
  })

  it('writes in the longest zone that holds the name', async () => {
    const name = '_dnslink.reg.sub.example.test'
    expect(await provider().upsertDnsLink({ name, value: CID_B, ttl: 60 }, {})).toEqual({ change: 'created' })
    expect(await pdns.digTxt(name)).toEqual([`"${CID_B}"`])
    expect(patches().at(-1)).toBe('PATCH /api/v1/servers/localhost/zones/sub.example.test.')
  })

  it('two dnslink= values: an error, nothing changed', async () => {
    const name = '_dnslink.two.example.test'
    const before = await digValues(name)
    const writes = patches().length
    const err = await failure(provider().upsertDnsLink({ name, value: CID_A, ttl: 60 }, {}))
    expect(err).toBeInstanceOf(DnsLinkConflictError)
    expect((err as InputError).input).toBe('dnslink-domain')
    expect(err.message).toContain('PowerDNS')
    expect(err.message).toContain('2 dnslink= TXT values')
    expect(patches()).toHaveLength(writes)
    expect(await digValues(name)).toEqual(before)
    expect(before).toEqual([...TWO, 'keep me'].sort())
  })

  it('a wrong API key: a clear error naming the key option, nothing changed', async () => {
    const before = await digValues(NAME)
    const wrong = provider({ apiKey: 'wrong-key-0123456789' })
    for (const attempt of [wrong.preflight(NAME, {}), wrong.upsertDnsLink({ name: NAME, value: CID_B, ttl: 60 }, {})]) {
      const err = await failure(attempt)
      expect(err).toBeInstanceOf(InputError)
      expect((err as InputError).input).toBe('powerdns-api-key')
      expect(err.message).toContain(`${wrong.label} refused the API key (HTTP 401`)
      expect(err.message).not.toContain('wrong-key-0123456789')
    }
    expect(await digValues(NAME)).toEqual(before)
  })

  it('a zone the server does not have: a clear error, nothing changed', async () => {
    const writes = patches().length
    const given = await failure(provider({ zone: 'nothere.test' }).upsertDnsLink({ name: '_dnslink.nothere.test', value: CID_A, ttl: 60 }, {}))
    expect(given).toBeInstanceOf(InputError)
    expect((given as InputError).input).toBe('powerdns-zone')
    expect(given.message).toContain('has no zone nothere.test.')
    const found = await failure(provider().upsertDnsLink({ name: '_dnslink.reg.nothere.test', value: CID_A, ttl: 60 }, {}))
    expect((found as InputError).input).toBe('dnslink-domain')
    expect(found.message).toContain('has no zone containing _dnslink.reg.nothere.test')
    const outside = await failure(provider({ zone: 'example.test' }).upsertDnsLink({ name: '_dnslink.other.test', value: CID_A, ttl: 60 }, {}))
    expect((outside as InputError).input).toBe('dnslink-domain')
    expect(patches()).toHaveLength(writes)
    expect(await pdns.digTxt('_dnslink.nothere.test')).toEqual([])
  })

  it('a server id the webserver does not have: a clear error', async () => {
    const err = await failure(provider({ serverId: 'elsewhere' }).preflight(NAME, {}))
    expect((err as InputError).input).toBe('powerdns-server-id')
    expect(err.message).toContain("has no server 'elsewhere'")
  })

  it("a change PowerDNS refuses (422): its reason, the provider and the zone named", async () => {
    const writes = patches().length
    const err = await failure(provider().upsertDnsLink({ name: '_dnslink.alias.example.test', value: CID_A, ttl: 60 }, {}))
    expect(err).toBeInstanceOf(ServiceError)
    expect((err as ServiceError).status).toBe(422)
    expect(err.message).toMatch(/^PowerDNS http:\/\/127\.0\.0\.1:\d+ \(server 'localhost'\): changing zone example\.test\.: HTTP 422: RRset _dnslink\.alias\.example\.test\. IN TXT: Conflicts with pre-existing RRset$/)
    expect(patches()).toHaveLength(writes + 1)
    expect(await pdns.digTxt('_dnslink.alias.example.test')).toEqual(['target.example.test.'])
  })

  it('keeps disabled records as they were', async () => {
    const name = '_dnslink.disabled.example.test'
    // A disabled record, written straight through the API.
    const response = await fetch(`${pdns.apiUrl}/api/v1/servers/localhost/zones/example.test.`, {
      method: 'PATCH',
      headers: { 'X-API-Key': pdns.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ rrsets: [{ name: `${name}.`, type: 'TXT', ttl: 60, changetype: 'REPLACE', records: [{ content: '"dnslink=/ipfs/old"', disabled: true }, { content: '"served"', disabled: false }] }] })
    })
    expect(response.status).toBe(204)
    expect(await provider().readTxt(name, {})).toEqual(['served'])
    expect(await provider().upsertDnsLink({ name, value: CID_A, ttl: 60 }, {})).toEqual({ change: 'created' })
    expect(await digValues(name)).toEqual([CID_A, 'served'].sort())
    const zone = await (await fetch(`${pdns.apiUrl}/api/v1/servers/localhost/zones/example.test.`, { headers: { 'X-API-Key': pdns.apiKey } })).json() as { rrsets: Array<{ name: string, type: string, records: Array<{ content: string, disabled: boolean }> }> }
    const records = zone.rrsets.find((r) => r.name === `${name}.` && r.type === 'TXT')?.records ?? []
    expect(records).toContainEqual({ content: '"dnslink=/ipfs/old"', disabled: true })
  })

  it('never prints the API key', () => {
    expect(messages.length).toBeGreaterThan(5)
    for (const message of messages) expect(message).not.toContain(pdns.apiKey)
  })
})
