import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { CID } from 'multiformats/cid'
import { followDnsLink, parseLinkValue } from '../../src/core/dns/link.js'
import { lookupDnsLink } from '../../src/core/dns/lookup.js'
import { resolverReader } from '../../src/core/dns/resolve.js'
import { generateKey, signingKey } from '../../src/core/ipns/keys.js'
import { parseIpnsName } from '../../src/core/ipns/name.js'
import { signRecord } from '../../src/core/ipns/record.js'
import type { RecordStore } from '../../src/core/ipns/types.js'
import { startBind, type BindServer } from '../helpers/bind.js'
import { failure } from '../helpers/failure.js'

// Following DNSLinks through a real resolver (BIND 9 on loopback) to a root.
const ROOT = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
const hour = 3_600_000

/** A record store holding what the test put there (records are signed for real and checked by the lookup). */
function storeOf (records: Map<string, Uint8Array>): RecordStore {
  return { label: 'test store', get: async (name) => records.get(name.text) ?? null }
}

let bind: BindServer
let name: string
let other: string
const records = new Map<string, Uint8Array>()

beforeAll(async () => {
  const key = await generateKey('ed25519')
  const stranger = await generateKey('ed25519')
  name = key.name
  other = (await generateKey('ed25519')).name
  const signed = await signRecord(await signingKey(key.key), parseIpnsName(name), ROOT, { sequence: 3n, lifetimeMs: hour, ttlMs: 60_000 })
  records.set(name, signed.bytes)
  // Under `other`, a record signed with a stranger's key: a forgery the lookup must refuse.
  const forged = await signRecord(await signingKey(stranger.key), parseIpnsName(stranger.name), ROOT, { sequence: 9n, lifetimeMs: hour, ttlMs: 60_000 })
  records.set(other, forged.bytes)
  bind = await startBind([
    `_dnslink.root IN TXT "dnslink=/ipfs/${ROOT.toString()}"`,
    `_dnslink.named IN TXT "dnslink=/ipns/${name}"`,
    '_dnslink.chain IN TXT "dnslink=/ipns/named.example.test"',
    '_dnslink.loop-a IN TXT "dnslink=/ipns/loop-b.example.test"',
    '_dnslink.loop-b IN TXT "dnslink=/ipns/loop-a.example.test"',
    `_dnslink.deep IN TXT "dnslink=/ipfs/${ROOT.toString()}/team/app"`,
    '_dnslink.dangling IN TXT "dnslink=/ipns/nowhere.example.test"',
    `_dnslink.forged IN TXT "dnslink=/ipns/${other}"`,
    '_dnslink.two IN TXT "dnslink=/ipfs/bafyone"',
    '_dnslink.two IN TXT "dnslink=/ipfs/bafytwo"',
    `_dnslink.short 30 IN TXT "dnslink=/ipns/${name}"`,
    `_dnslink.long 3600 IN TXT "dnslink=/ipns/${name}"`
  ])
})
afterAll(async () => { await bind?.stop() })

describe('followDnsLink', () => {
  const read = () => resolverReader({ resolver: bind.server })
  const stores = () => [storeOf(records)]

  test('/ipfs/<cid> is the root; /ipns/<name> is its checked record; /ipns/<domain> is that domain\'s link', async () => {
    expect(await followDnsLink('root.example.test', read())).toEqual({ domain: 'root.example.test', record: '_dnslink.root.example.test', value: `dnslink=/ipfs/${ROOT.toString()}`, path: [`/ipfs/${ROOT.toString()}`], root: ROOT })
    const named = await followDnsLink('named.example.test', read(), { stores: stores() })
    expect(named?.root?.toString()).toBe(ROOT.toString())
    expect(named?.path).toEqual([`/ipns/${name}`, `/ipfs/${ROOT.toString()}`])
    expect(named?.recordTtlMs).toBe(60_000)
    const chain = await followDnsLink('chain.example.test', read(), { stores: stores() })
    expect(chain).toMatchObject({ record: '_dnslink.chain.example.test', value: 'dnslink=/ipns/named.example.test', ipnsName: name })
    expect(chain?.path).toEqual(['/ipns/named.example.test', `/ipns/${name}`, `/ipfs/${ROOT.toString()}`])
  })

  test('no DNSLink is null; an IPNS name with no record yet is a link with no root', async () => {
    expect(await followDnsLink('nothing.example.test', read())).toBeNull()
    const empty = await followDnsLink('named.example.test', read(), { stores: [storeOf(new Map())] })
    expect(empty).toMatchObject({ ipnsName: name, root: null })
  })

  test('what cannot be followed is an error naming where it was found', async () => {
    expect((await failure(followDnsLink('loop-a.example.test', read()))).message).toMatch(/more than 8 DNSLinks followed \(a loop\?\)/)
    expect((await failure(followDnsLink('deep.example.test', read()))).message).toMatch(/^_dnslink\.deep\.example\.test holds .*: a path inside a root, not a registry root$/)
    expect((await failure(followDnsLink('dangling.example.test', read()))).message).toMatch(/links to 'nowhere\.example\.test', which has no DNSLink/)
    expect((await failure(followDnsLink('two.example.test', read()))).message).toMatch(/^_dnslink\.two\.example\.test has 2 dnslink= values/)
    expect((await failure(followDnsLink('named.example.test', read()))).message).toMatch(/links to \/ipns\/k51\S+: reading its record needs a Kubo node, a router or a gateway/)
    // The forged record is refused (its key is not the name's), so the name has no valid record: an error, never "no root".
    expect((await failure(followDnsLink('forged.example.test', read(), { stores: stores() }))).message).toMatch(/test store/)
  })

  test('lookupDnsLink: the answer holds for the least TTL of the TXT record and the IPNS record it links to', async () => {
    expect((await lookupDnsLink('short.example.test', { resolver: bind.server, stores: stores() })).ttlMs).toBe(30_000)
    expect((await lookupDnsLink('long.example.test', { resolver: bind.server, stores: stores() })).ttlMs).toBe(60_000)
  })

  test('lookupDnsLink: no DNSLink is an error that names the resolver', async () => {
    expect((await failure(lookupDnsLink('nothing.example.test', { resolver: bind.server }))).message).toBe(`no DNSLink for 'nothing.example.test': no dnslink= TXT value at _dnslink.nothing.example.test or nothing.example.test (resolver ${bind.server})`)
  })
})

test('parseLinkValue', () => {
  expect(parseLinkValue(`dnslink=/ipns/${'reg.example.org'}`, 'x')).toEqual({ kind: 'dnslink', domain: 'reg.example.org' })
  expect(() => parseLinkValue('dnslink=/ipfs/not-a-cid', 'x')).toThrow("x holds 'dnslink=/ipfs/not-a-cid': 'not-a-cid' is not a CID")
  expect(() => parseLinkValue('dnslink=https://example.org', 'x')).toThrow(/expected dnslink=\/ipfs\/<cid> or dnslink=\/ipns\/<name>/)
})
