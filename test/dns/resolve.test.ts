import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { lookupDnsLink } from '../../src/core/dns/lookup.js'
import { resolveDnsLink } from '../../src/core/dns/resolve.js'
import { registryResolver } from '../../src/core/registry/resolve.js'
import { InputError } from '../../src/core/errors.js'
import { startBind, type BindServer } from '../helpers/bind.js'

// Five 200-byte TXT strings: more than a 512-byte UDP answer holds, so only TCP gets them all.
const FILLER = Array.from({ length: 5 }, (_, i) => `filler${i}=${'x'.repeat(192)}`)

const ROOT = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'

let bind: BindServer
beforeAll(async () => {
  bind = await startBind([
    '_dnslink.reg IN TXT "dnslink=/ipns/k51underscore"',
    '_dnslink.reg IN TXT "other=1"',
    'reg IN TXT "dnslink=/ipfs/bafybare-ignored"',
    'bare IN TXT "dnslink=/ipfs/bafybare"',
    'bare IN TXT "v=spf1 -all"',
    'none IN TXT "v=spf1 -all"',
    ...FILLER.map((f) => `_dnslink.big IN TXT "${f}"`),
    '_dnslink.big IN TXT "dnslink=/ipfs/bafybig"',
    '_dnslink.alias IN CNAME _dnslink.reg.example.test.',
    '_dnslink.two IN TXT "dnslink=/ipfs/bafyone"',
    '_dnslink.two IN TXT "dnslink=/ipfs/bafytwo"',
    `_dnslink.ttl 300 IN TXT "dnslink=/ipfs/${ROOT}"`,
    '_dnslink.ttl 300 IN TXT "other=1"',
    '_dnslink.ttlalias 90 IN CNAME _dnslink.ttl.example.test.',
    `bare-ttl 45 IN TXT "dnslink=/ipfs/${ROOT}"`
  ])
})
afterAll(async () => { await bind?.stop() })

test('_dnslink.<domain> comes first', async () => {
  expect(await resolveDnsLink('reg.example.test', { resolver: bind.server }))
    .toEqual({ name: '_dnslink.reg.example.test', values: ['dnslink=/ipns/k51underscore'] })
})

test('the bare domain when _dnslink.<domain> has none', async () => {
  expect(await resolveDnsLink('bare.example.test.', { resolver: bind.server }))
    .toEqual({ name: 'bare.example.test', values: ['dnslink=/ipfs/bafybare'] })
})

test('a truncated UDP answer is asked again over TCP', async () => {
  // dig without EDNS over UDP sees the truncation this relies on.
  const udp = await (await import('../helpers/process.js')).runProcess('dig', ['@127.0.0.1', '-p', String(bind.port), '+noedns', '+ignore', 'TXT', '_dnslink.big.example.test'])
  expect(udp.stdout).toMatch(/flags: qr aa tc/)
  expect(await resolveDnsLink('big.example.test', { resolver: bind.server }))
    .toEqual({ name: '_dnslink.big.example.test', values: ['dnslink=/ipfs/bafybig'] })
})

test('a CNAME at _dnslink.<domain> is followed', async () => {
  expect(await resolveDnsLink('alias.example.test', { resolver: bind.server }))
    .toEqual({ name: '_dnslink.alias.example.test', values: ['dnslink=/ipns/k51underscore'] })
})

test('every dnslink= value is returned', async () => {
  expect((await resolveDnsLink('two.example.test', { resolver: bind.server })).values.sort())
    .toEqual(['dnslink=/ipfs/bafyone', 'dnslink=/ipfs/bafytwo'])
})

test('none at either name, or no such name: a clear error', async () => {
  await expect(resolveDnsLink('none.example.test', { resolver: bind.server }))
    .rejects.toThrow(`no DNSLink for 'none.example.test': no dnslink= TXT value at _dnslink.none.example.test or none.example.test (resolver ${bind.server})`)
  await expect(resolveDnsLink('missing.example.test', { resolver: bind.server })).rejects.toThrow(/no DNSLink for 'missing\.example\.test'/)
})

test('a resolver that refuses: the error names it and the answer', async () => {
  await expect(resolveDnsLink('reg.elsewhere.test', { resolver: bind.server }))
    .rejects.toThrow(`DNS resolver ${bind.server} answered TXT '_dnslink.reg.elsewhere.test' with REFUSED`)
})

test('a bad resolver address is refused before any query', async () => {
  await expect(resolveDnsLink('reg.example.test', { resolver: 'not a host' })).rejects.toBeInstanceOf(InputError)
})

test('a resolver that is not there: the error names it', async () => {
  const socket = (await import('node:dgram')).createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const port = socket.address().port
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  await expect(resolveDnsLink('reg.example.test', { resolver: `127.0.0.1:${port}`, timeoutMs: 2000 }))
    .rejects.toThrow(`DNS resolver 127.0.0.1:${port}: TXT '_dnslink.reg.example.test': `)
})

test('how long an answer holds: the least TTL of the TXT records (and CNAMEs) that held the link', async () => {
  // The TXT records at _dnslink.ttl (one RRset, so one TTL); a CNAME to them with a shorter one.
  expect((await lookupDnsLink('ttl.example.test', { resolver: bind.server })).ttlMs).toBe(300_000)
  expect((await lookupDnsLink('ttlalias.example.test', { resolver: bind.server })).ttlMs).toBe(90_000)
  // Found at the bare domain: its record's TTL, not that of the empty _dnslink name.
  expect((await lookupDnsLink('bare-ttl.example.test', { resolver: bind.server })).ttlMs).toBe(45_000)
  // What ipcr serve keeps a root for.
  const resolve = registryResolver({ resolver: bind.server })
  const found = await resolve({ kind: 'dnslink', domain: 'ttlalias.example.test' })
  expect([found.root.toString(), found.ttlMs]).toEqual([ROOT, 90_000])
})
