import { describe, expect, test } from '@jest/globals'
import { generateKeyPairSync } from 'node:crypto'
import { InputError } from '../../src/core/errors.js'
import { parseDuration as parseLifetime } from '../../src/core/ipns/duration.js'
import { parsePrivateKey } from '../../src/core/ipns/keys.js'
import { multiaddrToUrl, parseServiceUrl } from '../../src/core/url.js'

// Inputs of the Kubo destination checked before any work (issue 8); the runs
// against a real Kubo are in converge.test.ts.
describe('IPNS lifetime', () => {
  test('Go duration syntax is accepted, anything else refused naming the input', () => {
    expect(parseLifetime('48h')).toBe(48 * 3_600_000)
    expect(parseLifetime('1h30m')).toBe(90 * 60_000)
    expect(parseLifetime('90s')).toBe(90_000)
    expect(parseLifetime('1.5h')).toBe(90 * 60_000)
    expect(parseLifetime('2h45m30.5s')).toBe(((2 * 60 + 45) * 60 + 30.5) * 1000)
    for (const bad of ['2 days', '2d', '48', 'h', '-1h', '0s', '', '1y']) {
      expect(() => parseLifetime(bad)).toThrow(InputError)
    }
    expect(() => parseLifetime('2 days')).toThrow("Input 'ipns-lifetime': '2 days' is not a duration (expected a Go duration such as '48h'")
  })
})

describe('Kubo RPC URL', () => {
  test('multiaddrs are read as the RPC URL', () => {
    expect(multiaddrToUrl('/ip4/127.0.0.1/tcp/5001')).toBe('http://127.0.0.1:5001')
    expect(multiaddrToUrl('/ip6/::1/tcp/5001')).toBe('http://[::1]:5001')
    expect(multiaddrToUrl('/dns4/kubo.example/tcp/443/https')).toBe('https://kubo.example:443')
    expect(multiaddrToUrl('/dns/kubo.example/tcp/8443/tls/http')).toBe('https://kubo.example:8443')
    expect(parseServiceUrl('/dns4/kubo.example/tcp/443/https', 'kubo-rpc-url').label).toBe('https://kubo.example')
    expect(parseServiceUrl('/ip6/::1/tcp/5001/http', 'kubo-rpc-url').label).toBe('http://[::1]:5001')
    for (const bad of ['/ip4/127.0.0.1/udp/5001', '/ip4/127.0.0.1/tcp/5001/ws', '/unix/tmp/api.sock', '/dnsaddr/kubo.example', '/ip4/127.0.0.1/tcp/99999']) {
      expect(() => parseServiceUrl(bad, 'kubo-rpc-url')).toThrow("Input 'kubo-rpc-url': ")
    }
  })
})

describe('IPNS private key', () => {
  test('a PEM block that is not PKCS#8 says what it is and how to convert it', () => {
    const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
    expect(() => parsePrivateKey(pkcs1)).toThrow("Input 'ipns-private-key': a PEM 'RSA PRIVATE KEY' block is not a PKCS#8 private key ('BEGIN PRIVATE KEY', unencrypted); convert it with 'openssl pkcs8 -topk8 -nocrypt -in KEY.pem'")
  })
})
