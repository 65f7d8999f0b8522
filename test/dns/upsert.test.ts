import { describe, expect, it } from '@jest/globals'
import { InputError } from '../../src/core/errors.js'
import { checkDnsLinkUpsert, DnsLinkConflictError, planDnsLink, planResult } from '../../src/core/dns/upsert.js'

const A = 'dnslink=/ipfs/bafya'
const B = 'dnslink=/ipns/k51b'

describe('planDnsLink', () => {
  it('creates when there is no dnslink= value, other values aside', () => {
    const plan = planDnsLink('Test', '_dnslink.x.org', ['v=spf1 -all'], A)
    expect(plan).toEqual({ action: 'create' })
    expect(planResult(plan)).toEqual({ change: 'created' })
  })

  it('replaces a different value and points at it', () => {
    const plan = planDnsLink('Test', '_dnslink.x.org', ['other', A, 'more'], B)
    expect(plan).toEqual({ action: 'replace', previous: A, index: 1 })
    expect(planResult(plan)).toEqual({ change: 'replaced', previous: A })
  })

  it('leaves an equal value alone', () => {
    const plan = planDnsLink('Test', '_dnslink.x.org', [B, 'other'], B)
    expect(plan).toEqual({ action: 'unchanged', previous: B, index: 0 })
    expect(planResult(plan)).toEqual({ change: 'unchanged', previous: B })
  })

  it('refuses two dnslink= values, even when one is the value asked for', () => {
    const err = (() => { try { planDnsLink('Provider X', '_dnslink.x.org', [A, 'other', B], B) } catch (e) { return e } })()
    expect(err).toBeInstanceOf(DnsLinkConflictError)
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).input).toBe('dnslink-domain')
    expect((err as Error).message).toContain('Provider X: _dnslink.x.org has 2 dnslink= TXT values')
    expect((err as Error).message).toContain('Nothing was changed')
  })

  it('does not take a value that merely contains dnslink= for one', () => {
    expect(planDnsLink('Test', 'n.org', ['x dnslink=/ipfs/a'], A)).toEqual({ action: 'create' })
  })
})

describe('checkDnsLinkUpsert', () => {
  it('canonicalises the name and keeps value and TTL', () => {
    expect(checkDnsLinkUpsert({ name: '_dnslink.Reg.Example.org.', value: A, ttl: 60 })).toEqual({ name: '_dnslink.reg.example.org', value: A, ttl: 60 })
  })

  it('names the option at fault', () => {
    const input = (f: () => unknown): string | undefined => { try { f() } catch (e) { return (e as InputError).input } return undefined }
    expect(input(() => checkDnsLinkUpsert({ name: 'bad name', value: A, ttl: 60 }))).toBe('dnslink-domain')
    expect(input(() => checkDnsLinkUpsert({ name: 'x.org', value: '/ipfs/bafya', ttl: 60 }))).toBe('dnslink-value')
    expect(input(() => checkDnsLinkUpsert({ name: 'x.org', value: `${A}\n`, ttl: 60 }))).toBe('dnslink-value')
    expect(input(() => checkDnsLinkUpsert({ name: 'x.org', value: `dnslink=/ipfs/${'b'.repeat(2100)}`, ttl: 60 }))).toBe('dnslink-value')
    expect(input(() => checkDnsLinkUpsert({ name: 'x.org', value: A, ttl: 0 }))).toBe('dnslink-ttl')
    expect(input(() => checkDnsLinkUpsert({ name: 'x.org', value: A, ttl: 1.5 }))).toBe('dnslink-ttl')
    expect(input(() => checkDnsLinkUpsert({ name: 'x.org', value: A, ttl: 2 ** 31 }))).toBe('dnslink-ttl')
  })
})
