import { describe, expect, it } from '@jest/globals'
import { InputError } from '../../src/core/errors.js'
import { absoluteName, enclosingNames, inZone, parseDomainName, plainName, relativeName } from '../../src/core/dns/name.js'

describe('DNS names', () => {
  it('parses and canonicalises domain names, naming the option', () => {
    expect(parseDomainName(' _DNSLink.Reg.Example.org. ', 'dnslink-domain')).toBe('_dnslink.reg.example.org')
    for (const bad of ['', '.', 'a..b', 'bad name.org', `${'a'.repeat(64)}.org`, '-a.org', 'a-.org', `${'a.'.repeat(127)}org`]) {
      expect(() => parseDomainName(bad, 'dnslink-domain')).toThrow(InputError)
      expect(() => parseDomainName(bad, 'rfc2136-zone')).toThrow(/rfc2136-zone/)
    }
  })

  it('compares names in one form', () => {
    expect(plainName('A.B.')).toBe('a.b')
    expect(absoluteName('A.b')).toBe('a.b.')
    expect(inZone('_dnslink.reg.Example.org.', 'example.ORG')).toBe(true)
    expect(inZone('example.org', 'example.org.')).toBe(true)
    expect(inZone('badexample.org', 'example.org')).toBe(false)
    expect(inZone('anything.test', '')).toBe(true)
    expect(relativeName('_dnslink.reg.example.org', 'example.org.')).toBe('_dnslink.reg')
    expect(relativeName('Example.org.', 'example.org')).toBe('')
  })

  it('lists enclosing names, longest first', () => {
    expect(enclosingNames('a.b.c')).toEqual(['a.b.c', 'b.c', 'c'])
    expect(enclosingNames('_dnslink.reg.example.org', 2)).toEqual(['_dnslink.reg.example.org', 'reg.example.org', 'example.org'])
    expect(enclosingNames('org', 2)).toEqual([])
  })
})
