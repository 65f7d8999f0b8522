import { describe, expect, test } from '@jest/globals'
import { createProviders } from '../../src/core/destinations/settings.js'
import { InputError } from '../../src/core/errors.js'
import { parsePinningServices, PinningServiceDestination } from '../../src/core/pinning/psa.js'
import { redact } from '../../src/core/redact.js'

function refused (fn: () => unknown): InputError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    return err as InputError
  }
  throw new Error('expected an InputError')
}

describe('pinning-services', () => {
  test('reads a YAML list of services, its tokens become secrets', () => {
    const services = parsePinningServices([
      '# two services',
      '- name: pinata',
      '  endpoint: https://api.pinata.cloud/psa',
      "  token: 'aaaa1111-yaml-token'",
      '- name: "own node"',
      '  endpoint: http://127.0.0.1:5001/api  # comment',
      '  token: bbbb2222-yaml-token',
      '  required: false'
    ].join('\n'))
    expect(services).toEqual([
      { name: 'pinata', endpoint: 'https://api.pinata.cloud/psa', token: 'aaaa1111-yaml-token', input: 'pinning-services' },
      { name: 'own node', endpoint: 'http://127.0.0.1:5001/api', token: 'bbbb2222-yaml-token', required: false, input: 'pinning-services' }
    ])
    expect(redact('a aaaa1111-yaml-token b bbbb2222-yaml-token')).toBe('a *** b ***')
  })

  test('reads the same as JSON', () => {
    expect(parsePinningServices('[{"name":"a","endpoint":"https://a.example/psa","token":"json-token-cccc3333","required":true}]'))
      .toEqual([{ name: 'a', endpoint: 'https://a.example/psa', token: 'json-token-cccc3333', required: true, input: 'pinning-services' }])
    expect(redact('json-token-cccc3333')).toBe('***')
  })

  test('refuses what it does not read, naming the entry, never echoing a value', () => {
    const secret = 'leaky-token-dddd4444'
    const cases: Array<[string, RegExp]> = [
      [`- name: a\n  endpoint: https://a.example\n  token: ${secret}\n- name: a\n  endpoint: https://b.example\n  token: x-token-1234`, /entry 2: the name 'a' is given twice/],
      [`- name: a\n  endpoint: https://a.example\n  token: ${secret}\n  colour: blue`, /entry 1 \(line 4\): unknown key 'colour'/],
      [`- name: a\n  endpoint: https://a.example\n  tokens:\n    - ${secret}`, /entry 1 \(line 3\): unknown key 'tokens'/],
      [`- name: a\n  token: ${secret}`, /entry 1 has no 'endpoint'/],
      [`- name: a\n  endpoint: https://a.example\n  token: ${secret}\n  required: maybe`, /entry 1 \(line 4\): 'required' must be true or false/],
      [`- name: a\n  endpoint: [https://a.example]\n  token: ${secret}`, /only plain or quoted one-line values/],
      [`name: a\nendpoint: https://a.example\ntoken: ${secret}`, /line 1: expected a list of services/],
      [`- name: a\n   endpoint: https://a.example\n  token: ${secret}`, /line 2: expected a list of services/],
      [`[{"name":"a","endpoint":"https://a.example","token":"${secret}","required":"yes"}]`, /entry 1: 'required' must be true or false/],
      [`[{"name":"a","endpoint":"https://a.example","token":"${secret}"`, /not valid JSON/],
      [`${'- name: a\n'.repeat(30)}`, /more than 20 services/]
    ]
    for (const [text, expected] of cases) {
      const err = refused(() => parsePinningServices(text))
      expect(err.message).toMatch(expected)
      expect(err.input).toBe('pinning-services')
      expect(err.message).not.toContain('leaky-token')
    }
    expect(refused(() => parsePinningServices('x'.repeat(70 * 1024))).message).toMatch(/longer than 64 KiB/)
  })

  test('the destination checks its configuration without the network', () => {
    const ok = new PinningServiceDestination({ name: 'svc', endpoint: 'https://pins.example/psa/', token: 'cfg-token-eeee5555' })
    expect(ok.label).toBe("pinning service 'svc' https://pins.example/psa")
    expect(ok.required).toBe(true)
    expect(ok.needsNetwork).toBe(true)
    expect(redact('Authorization: Bearer cfg-token-eeee5555')).not.toContain('cfg-token')
    expect(refused(() => new PinningServiceDestination({ name: '', endpoint: 'https://a.example', token: 'cfg-token-1' })).message).toMatch(/needs a name/)
    expect(refused(() => new PinningServiceDestination({ name: 'a', endpoint: 'https://a.example', token: ' ' })).message).toMatch(/'a' needs a token/)
    expect(refused(() => new PinningServiceDestination({ name: 'a', endpoint: 'ftp://a.example', token: 'cfg-token-2' })).message).toMatch(/http:\/\/ or https:\/\//)
    expect(refused(() => new PinningServiceDestination({ name: 'a', endpoint: 'https://u:cfg-pass-ffff@a.example', token: 'cfg-token-3' })).message).toMatch(/not as user:password/)
    expect(refused(() => new PinningServiceDestination({ name: 'a', endpoint: 'https://a.example', token: 'cfg-token-4', pinName: ' ' })).message).toMatch(/pin name/)
  })

  test('createProviders makes one destination per service', () => {
    const { destinations } = createProviders({ pinningServices: parsePinningServices('- name: one\n  endpoint: https://one.example\n  token: p-token-1111\n- name: two\n  endpoint: https://two.example\n  token: p-token-2222\n  required: false') }, undefined as any)
    expect(destinations.map((d) => [d.kind, d.label, d.required])).toEqual([
      ['psa', "pinning service 'one' https://one.example", true],
      ['psa', "pinning service 'two' https://two.example", false]
    ])
  })
})
