import { describe, expect, it } from '@jest/globals'
import { silentLogger } from '../../src/core/logger.js'
import { InputError } from '../../src/core/errors.js'
import { createDnsProvider, dnsProviderNames } from '../../src/core/dns/registry.js'

function inputOf (f: () => unknown): string | undefined {
  try { f() } catch (err) { return err instanceof InputError ? err.input : `not an InputError: ${String(err)}` }
  return undefined
}

describe('DNS provider registry', () => {
  it('knows the five providers by name', () => {
    expect(dnsProviderNames().sort()).toEqual(['cloudflare', 'dnsimple', 'powerdns', 'rfc2136', 'route53'])
  })

  it('refuses an unknown name, listing the known ones', () => {
    expect(() => createDnsProvider('godaddy', {}, silentLogger)).toThrow(/unknown DNS provider 'godaddy' \(known: cloudflare, route53, dnsimple, powerdns, rfc2136\)/)
    expect(inputOf(() => createDnsProvider('godaddy', {}, silentLogger))).toBe('dns-provider')
    expect(inputOf(() => createDnsProvider('rfc2136', undefined, silentLogger))).toBe('dns-provider')
  })

  it('builds each provider, which checks its configuration offline and names the option at fault', () => {
    expect(inputOf(() => createDnsProvider('cloudflare', { apiToken: '' }, silentLogger))).toBe('cloudflare-api-token')
    expect(inputOf(() => createDnsProvider('route53', { hostedZoneId: '', env: {} }, silentLogger))).toBe('route53-hosted-zone-id')
    expect(inputOf(() => createDnsProvider('dnsimple', { token: 'abc', accountId: 'x' }, silentLogger))).toBe('dnsimple-account-id')
    expect(inputOf(() => createDnsProvider('powerdns', { apiUrl: 'http://127.0.0.1:8081', apiKey: '' }, silentLogger))).toBe('powerdns-api-key')
    expect(inputOf(() => createDnsProvider('rfc2136', { server: '127.0.0.1:53', tsig: 'nonsense' }, silentLogger))).toBe('rfc2136-tsig')
    const kinds = [
      createDnsProvider('cloudflare', { apiToken: 'cf-token-0123456789' }, silentLogger),
      createDnsProvider('route53', { hostedZoneId: 'Z0123456789ABC', env: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret-example' } }, silentLogger),
      createDnsProvider('dnsimple', { token: 'dnsimple-token-0123', accountId: 1010 }, silentLogger),
      createDnsProvider('powerdns', { apiUrl: 'http://127.0.0.1:8081', apiKey: 'key-0123' }, silentLogger),
      createDnsProvider('rfc2136', { server: '127.0.0.1:5353', tsig: 'hmac-sha256:k:c2VjcmV0c2VjcmV0' }, silentLogger)
    ].map((p) => p.kind)
    expect(kinds).toEqual(['cloudflare', 'route53', 'dnsimple', 'powerdns', 'rfc2136'])
  })
})
