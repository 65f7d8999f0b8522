import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'
import { Rfc2136Provider } from '../../src/core/dns/rfc2136.js'
import { DnsLinkConflictError } from '../../src/core/dns/upsert.js'
import { InputError } from '../../src/core/errors.js'
import { redact } from '../../src/core/redact.js'
import { startBind, type BindServer } from '../helpers/bind.js'
import { failure } from '../helpers/failure.js'
import { runProcess } from '../helpers/process.js'

const NAME = '_dnslink.reg.example.test'
const OTHERS = ['"v=spf1 -all"', '"google-site-verification=abc123"']

let bind: BindServer
beforeAll(async () => {
  bind = await startBind([
    ...OTHERS.map((v) => `_dnslink.reg IN TXT ${v}`),
    '_dnslink.two IN TXT "dnslink=/ipfs/bafyone"',
    '_dnslink.two IN TXT "dnslink=/ipfs/bafytwo"',
    '_dnslink.two IN TXT "other"'
  ])
})
afterAll(async () => { await bind?.stop() })

function secretOf (tsig: string): string {
  return tsig.split(':')[2] as string
}

describe('RFC 2136 configuration', () => {
  test.each([
    ['hmac-sha256:key', 'expected algorithm:keyname:base64secret'],
    ['hmac-foo:key:c2VjcmV0c2VjcmV0', 'unknown TSIG algorithm'],
    ['hmac-sha256:key:not base64!!', 'not base64'],
    ['hmac-sha256:bad name:c2VjcmV0c2VjcmV0', 'not a DNS name']
  ])('%s is refused offline without echoing the secret', (tsig, reason) => {
    let error: unknown
    try { new Rfc2136Provider({ server: '127.0.0.1', tsig }) } catch (err) { error = err }
    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).input).toBe('rfc2136-tsig')
    expect((error as Error).message).toContain(reason)
    const secret = tsig.split(':')[2]
    if (secret != null) expect((error as Error).message).not.toContain(secret)
  })

  test('the secret is registered for redaction', () => {
    const secret = Buffer.from('an ipcr test secret, 32 bytes..!').toString('base64')
    new Rfc2136Provider({ server: '127.0.0.1', tsig: `hmac-sha256:k:${secret}` })
    // redact() may leave base64 padding behind (it matches the URL-encoded form, '=' as %3D, first).
    expect(redact(`x ${secret} y`)).toMatch(/^x \*\*\*=* y$/)
  })

  test('a name that is not a DNS name is refused before any query', async () => {
    const p = new Rfc2136Provider({ server: '127.0.0.1:1', tsig: 'hmac-sha256:k:c2VjcmV0c2VjcmV0' })
    await expect(p.readTxt('bad name.example.test', {})).rejects.toThrow(/dnslink-domain/)
    await expect(p.upsertDnsLink({ name: `${'a'.repeat(64)}.example.test`, value: 'dnslink=/ipfs/x', ttl: 60 }, {})).rejects.toThrow(/dnslink-domain/)
  })

  test('a bad server is refused offline', () => {
    expect(() => new Rfc2136Provider({ server: '127.0.0.1:99999', tsig: 'hmac-sha256:k:c2VjcmV0c2VjcmV0' })).toThrow(/rfc2136-server/)
    expect(() => new Rfc2136Provider({ server: 'a b', tsig: 'hmac-sha256:k:c2VjcmV0c2VjcmV0' })).toThrow(/rfc2136-server/)
  })

  test('the label names the server, and finds the zone, without the secret', async () => {
    const p = new Rfc2136Provider({ server: bind.server, tsig: bind.tsig })
    expect(p.label).toBe(`RFC 2136 server ${bind.server}`)
    await p.preflight(NAME, {})
    expect(p.label).toBe(`RFC 2136 server ${bind.server} (zone example.test.)`)
  })
})

describe('RFC 2136 against BIND 9', () => {
  test('create, replace, then an identical run changes nothing', async () => {
    const p = new Rfc2136Provider({ server: bind.server, tsig: bind.tsig })
    await p.preflight(NAME, {})
    expect((await p.readTxt(NAME, {})).sort()).toEqual(OTHERS.map((v) => v.slice(1, -1)).sort())
    const serial0 = await bind.serial()

    expect(await p.upsertDnsLink({ name: NAME, value: 'dnslink=/ipns/k51first', ttl: 60 }, {})).toEqual({ change: 'created' })
    expect((await bind.dig(NAME)).sort()).toEqual([...OTHERS, '"dnslink=/ipns/k51first"'].sort())
    expect(await bind.serial()).toBeGreaterThan(serial0)
    const answer = await runProcess('dig', ['@127.0.0.1', '-p', String(bind.port), '+tcp', '+noall', '+answer', 'TXT', NAME])
    expect(answer.stdout).toMatch(/\s60\s+IN\s+TXT\s+"dnslink=\/ipns\/k51first"/)

    expect(await p.upsertDnsLink({ name: NAME, value: 'dnslink=/ipfs/bafysecond', ttl: 60 }, {}))
      .toEqual({ change: 'replaced', previous: 'dnslink=/ipns/k51first' })
    expect((await bind.dig(NAME)).sort()).toEqual([...OTHERS, '"dnslink=/ipfs/bafysecond"'].sort())
    expect((await p.readTxt(NAME, {})).sort()).toEqual([...OTHERS.map((v) => v.slice(1, -1)), 'dnslink=/ipfs/bafysecond'].sort())

    const serial1 = await bind.serial()
    expect(await p.upsertDnsLink({ name: NAME, value: 'dnslink=/ipfs/bafysecond', ttl: 60 }, {}))
      .toEqual({ change: 'unchanged', previous: 'dnslink=/ipfs/bafysecond' })
    expect(await bind.serial()).toBe(serial1)
    expect((await bind.dig(NAME)).sort()).toEqual([...OTHERS, '"dnslink=/ipfs/bafysecond"'].sort())
  })

  test('a value longer than 255 bytes is stored in several strings and read back whole', async () => {
    const p = new Rfc2136Provider({ server: bind.server, tsig: bind.tsig })
    const name = '_dnslink.long.example.test'
    const value = 'dnslink=/ipfs/' + 'b'.repeat(300)
    expect(await p.upsertDnsLink({ name, value, ttl: 60 }, {})).toEqual({ change: 'created' })
    expect(await p.readTxt(name, {})).toEqual([value])
    expect(await p.upsertDnsLink({ name, value, ttl: 60 }, {})).toEqual({ change: 'unchanged', previous: value })
  })

  test('hmac-sha512, hmac-sha1, hmac-sha384 and hmac-sha224 keys are accepted too', async () => {
    for (const tsig of bind.moreTsig) {
      const algorithm = tsig.split(':')[0] as string
      const name = `_dnslink.${algorithm}.example.test`
      const p = new Rfc2136Provider({ server: bind.server, tsig })
      await p.preflight(name, {})
      expect(await p.upsertDnsLink({ name, value: `dnslink=/ipfs/${algorithm}`, ttl: 60 }, {})).toEqual({ change: 'created' })
      expect(await bind.dig(name)).toEqual([`"dnslink=/ipfs/${algorithm}"`])
    }
  })

  test('a wrong TSIG secret or an unknown key name: a clear error, nothing changed', async () => {
    const name = '_dnslink.wrong.example.test'
    const wrongSecret = 'hmac-sha256:ipcr-key:' + Buffer.from('x'.repeat(32)).toString('base64')
    const unknownKey = 'hmac-sha256:nobody-key:' + secretOf(bind.tsig)
    for (const [tsig, tsigError] of [[wrongSecret, 'BADSIG'], [unknownKey, 'BADKEY']] as const) {
      const serial = await bind.serial()
      const p = new Rfc2136Provider({ server: bind.server, tsig, zone: 'example.test' })
      const err = await failure(p.upsertDnsLink({ name, value: 'dnslink=/ipfs/bafyx', ttl: 60 }, {}))
      expect(err.message).toContain(`RFC 2136 server ${bind.server}`)
      expect(err.message).toContain('did not accept the TSIG key')
      expect(err.message).toContain(tsigError)
      expect(err.message).not.toContain(secretOf(tsig))
      expect(redact(err.message)).toBe(err.message)
      await expect(p.preflight(name, {})).rejects.toThrow(/did not accept the TSIG key/)
      expect(await bind.dig(name)).toEqual([])
      expect(await bind.serial()).toBe(serial)
    }
  })

  test('a key the update policy does not allow: REFUSED, nothing changed', async () => {
    const name = '_dnslink.policy.example.test'
    const p = new Rfc2136Provider({ server: bind.server, tsig: bind.otherTsig })
    const err = await failure(p.upsertDnsLink({ name, value: 'dnslink=/ipfs/bafyx', ttl: 60 }, {}))
    expect(err.message).toMatch(/refused the update of _dnslink\.policy\.example\.test in zone example\.test \(REFUSED\)/)
    expect(err.message).not.toContain(secretOf(bind.otherTsig))
    expect(await bind.dig(name)).toEqual([])
  })

  test('a zone the server does not serve: a clear error', async () => {
    const p = new Rfc2136Provider({ server: bind.server, tsig: bind.tsig })
    await expect(p.preflight('_dnslink.reg.elsewhere.test', {})).rejects.toThrow(/serves no zone that contains '?_dnslink\.reg\.elsewhere\.test/)
    await expect(p.upsertDnsLink({ name: '_dnslink.reg.elsewhere.test', value: 'dnslink=/ipfs/x', ttl: 60 }, {}))
      .rejects.toThrow(/serves no zone/)
    const configured = new Rfc2136Provider({ server: bind.server, tsig: bind.tsig, zone: 'elsewhere.test' })
    await expect(configured.preflight('_dnslink.reg.elsewhere.test', {})).rejects.toThrow(/does not serve zone elsewhere\.test/)
    const err = await failure(configured.upsertDnsLink({ name: '_dnslink.reg.elsewhere.test', value: 'dnslink=/ipfs/x', ttl: 60 }, {}))
    expect(err.message).toBe(`RFC 2136 server ${bind.server} (zone elsewhere.test.): does not serve zone elsewhere.test (SOA query: REFUSED)`)
  })

  test('two dnslink values at the name: an error, nothing changed', async () => {
    const p = new Rfc2136Provider({ server: bind.server, tsig: bind.tsig })
    const name = '_dnslink.two.example.test'
    const before = (await bind.dig(name)).sort()
    const serial = await bind.serial()
    await expect(p.upsertDnsLink({ name, value: 'dnslink=/ipfs/bafythree', ttl: 60 }, {})).rejects.toThrow(/has 2 dnslink= TXT values/)
    await expect(p.upsertDnsLink({ name, value: 'dnslink=/ipfs/bafythree', ttl: 60 }, {})).rejects.toBeInstanceOf(DnsLinkConflictError)
    expect((await bind.dig(name)).sort()).toEqual(before)
    expect(await bind.serial()).toBe(serial)
  })

  test('a change made by someone else after the read is detected, not overwritten', async () => {
    const name = '_dnslink.race.example.test'
    const p = new Rfc2136Provider({ server: bind.server, tsig: bind.tsig })
    await p.upsertDnsLink({ name, value: 'dnslink=/ipfs/bafyold', ttl: 60 }, {})
    // Someone else replaces the value between this run's read and its update.
    const provider = p as unknown as { readRecords: (n: string, o: object) => Promise<Buffer[][]> }
    const read = provider.readRecords.bind(p)
    const other = new Rfc2136Provider({ server: bind.server, tsig: bind.tsig })
    provider.readRecords = async (n, o) => {
      const records = await read(n, o)
      await other.upsertDnsLink({ name, value: 'dnslink=/ipfs/bafyother', ttl: 60 }, {})
      return records
    }
    await expect(p.upsertDnsLink({ name, value: 'dnslink=/ipfs/bafymine', ttl: 60 }, {}))
      .rejects.toThrow(/changed since they were read \((YXRRSET|NXRRSET)\); nothing was changed/)
    expect(await bind.dig(name)).toEqual(['"dnslink=/ipfs/bafyother"'])
  })
})

describe('RFC 2136 transport', () => {
  /** A UDP-only relay to BIND (nothing listens on its TCP port), changing answers with `alter`. */
  async function udpRelay (alter: (msg: Buffer) => Buffer = (m) => m): Promise<{ port: number, relayed: () => number, close: () => void }> {
    const relay = createSocket('udp4')
    const upstream = createSocket('udp4')
    let client: { port: number, address: string } | undefined
    let relayed = 0
    relay.on('message', (msg, rinfo) => { client = rinfo; relayed++; upstream.send(msg, bind.port, '127.0.0.1') })
    upstream.on('message', (msg) => { if (client != null) relay.send(alter(msg), client.port, client.address) })
    await new Promise<void>((resolve) => relay.bind(0, '127.0.0.1', resolve))
    return { port: relay.address().port, relayed: () => relayed, close: () => { relay.close(); upstream.close() } }
  }

  test('an answer changed on the way fails its TSIG check', async () => {
    const relay = await udpRelay((msg) => Buffer.from(msg.toString('latin1').replace('v=spf1', 'v=spf2'), 'latin1'))
    try {
      const p = new Rfc2136Provider({ server: `127.0.0.1:${relay.port}`, tsig: bind.tsig, zone: 'example.test' })
      await expect(p.readTxt(NAME, {})).rejects.toThrow(`RFC 2136 server 127.0.0.1:${relay.port} (zone example.test.): sent a response whose TSIG signature is not valid: response MAC does not match`)
    } finally {
      relay.close()
    }
  })

  test('UDP when the server refuses TCP connections', async () => {
    const r = await udpRelay()
    const relay = { address: () => ({ port: r.port }), close: () => r.close() }
    const upstream = { close: () => {} }
    const relayed = r.relayed
    try {
      const p = new Rfc2136Provider({ server: `127.0.0.1:${relay.address().port}`, tsig: bind.tsig })
      const name = '_dnslink.udp.example.test'
      await p.preflight(name, {})
      expect(await p.upsertDnsLink({ name, value: 'dnslink=/ipfs/bafyudp', ttl: 60 }, {})).toEqual({ change: 'created' })
      expect(await p.readTxt(name, {})).toEqual(['dnslink=/ipfs/bafyudp'])
      expect(await bind.dig(name)).toEqual(['"dnslink=/ipfs/bafyudp"'])
      expect(relayed()).toBeGreaterThan(0)
    } finally {
      relay.close()
      upstream.close()
    }
  })

  test('a server that never answers: a timeout naming it', async () => {
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    try {
      const p = new Rfc2136Provider({ server: `127.0.0.1:${port}`, tsig: bind.tsig, timeoutMs: 300 })
      await expect(p.readTxt('_dnslink.reg.example.test', {})).rejects.toThrow(`RFC 2136 server 127.0.0.1:${port}: no answer within 0.3 s`)
    } finally {
      silent.close()
    }
  })
})
