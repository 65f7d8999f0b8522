import { describe, expect, test } from '@jest/globals'
import { CID } from 'multiformats/cid'
import { IpnsRecordError } from '../../src/core/errors.js'
import { generateKey, signingKey } from '../../src/core/ipns/keys.js'
import { parseIpnsName } from '../../src/core/ipns/name.js'
import { inspectRecord, newer, signRecord } from '../../src/core/ipns/record.js'

const root = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
const hour = 3_600_000

async function keyAndName (type: 'ed25519' | 'rsa' = 'ed25519') {
  const { key, name } = await generateKey(type)
  return { key: await signingKey(key), name: parseIpnsName(name) }
}

describe('IPNS records signed here', () => {
  test('a signed record inspects back to its value, sequence, validity and TTL', async () => {
    const { key, name } = await keyAndName()
    const now = Date.parse('2026-11-29T12:00:00Z')
    const record = await signRecord(key, name, root, { sequence: 7n, lifetimeMs: 48 * hour, ttlMs: 5 * 60_000, now })
    const seen = await inspectRecord(name, record.bytes, { source: 'test', now })
    expect(seen.value).toBe(`/ipfs/${root.toString()}`)
    expect(seen.root?.equals(root)).toBe(true)
    expect(seen.sequence).toBe(7n)
    expect(seen.validity.toISOString()).toBe('2026-12-01T12:00:00.000Z')
    expect(seen.ttlMs).toBe(300_000)
  })

  test('RSA keys sign records too (their names hash the key, so the record carries it)', async () => {
    const { key, name } = await keyAndName('rsa')
    expect(name.text.startsWith('k2')).toBe(true)
    const record = await signRecord(key, name, root, { sequence: 1n, lifetimeMs: hour, ttlMs: 1000 })
    expect((await inspectRecord(name, record.bytes, { source: 'test' })).sequence).toBe(1n)
  }, 30_000)

  test('a record of another key, an expired one and a corrupted one are refused, naming the source', async () => {
    const mine = await keyAndName()
    const other = await keyAndName()
    const now = Date.now()
    const forged = await signRecord(other.key, other.name, root, { sequence: 9n, lifetimeMs: hour, ttlMs: 1000 })
    await expect(inspectRecord(mine.name, forged.bytes, { source: 'router http://127.0.0.1:1' })).rejects.toThrow(IpnsRecordError)
    // An Ed25519 record carries no key (the name embeds it): the signature fails against mine.
    await expect(inspectRecord(mine.name, forged.bytes, { source: 'router http://127.0.0.1:1' })).rejects.toThrow(`IPNS record for /ipns/${mine.name.text} from router http://127.0.0.1:1: its signature does not verify`)
    // An RSA record carries its key: a key of another name.
    const rsa = await keyAndName('rsa')
    const otherName = await signRecord(rsa.key, rsa.name, root, { sequence: 9n, lifetimeMs: hour, ttlMs: 1000 })
    await expect(inspectRecord(mine.name, otherName.bytes, { source: 'x' })).rejects.toThrow('x: it is signed by the key of another name')
    const old = await signRecord(mine.key, mine.name, root, { sequence: 2n, lifetimeMs: hour, ttlMs: 1000, now: now - 2 * hour })
    await expect(inspectRecord(mine.name, old.bytes, { source: 'a gateway' })).rejects.toThrow(/from a gateway: it expired at /)
    expect((await inspectRecord(mine.name, old.bytes, { source: 'a gateway', allowExpired: true })).sequence).toBe(2n)
    const good = await signRecord(mine.key, mine.name, root, { sequence: 3n, lifetimeMs: hour, ttlMs: 1000 })
    const flipped = Uint8Array.from(good.bytes)
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 1
    await expect(inspectRecord(mine.name, flipped, { source: 'x' })).rejects.toThrow(IpnsRecordError)
    await expect(inspectRecord(mine.name, new Uint8Array(11 * 1024), { source: 'x' })).rejects.toThrow(/more than the 10240/)
    await expect(inspectRecord(mine.name, new TextEncoder().encode('<html>'), { source: 'x' })).rejects.toThrow(/not a valid IPNS record/)
  })

  test('the newer record is the higher sequence, then the later validity', async () => {
    const { key, name } = await keyAndName()
    const a = await signRecord(key, name, root, { sequence: 5n, lifetimeMs: hour, ttlMs: 1000 })
    const b = await signRecord(key, name, root, { sequence: 4n, lifetimeMs: 10 * hour, ttlMs: 1000 })
    const c = await signRecord(key, name, root, { sequence: 5n, lifetimeMs: 2 * hour, ttlMs: 1000 })
    expect(newer(a, b)).toBe(a)
    expect(newer(a, c)).toBe(c)
  })
})

describe('IPNS names', () => {
  test('k51…, /ipns/k51… and the peer ID form name the same key; content CIDs and junk are refused', async () => {
    const { name } = await generateKey()
    const parsed = parseIpnsName(name)
    expect(parseIpnsName(`/ipns/${name}`).text).toBe(name)
    const peerId = (await import('@libp2p/peer-id')).peerIdFromString(name).toString()
    expect(peerId.startsWith('12D3Koo')).toBe(true)
    expect(parseIpnsName(peerId).text).toBe(parsed.text)
    expect(() => parseIpnsName(root.toString())).toThrow("Input 'ipns-name'")
    expect(() => parseIpnsName('not a name!')).toThrow(/is not an IPNS name/)
  })
})
