import { describe, expect, test } from '@jest/globals'
import { addHeaderSecret, addSecret, addUserinfoSecret, MIN_SECRET_PREFIX, redact, remoteMessage } from '../../src/core/redact.js'

const token = 'tok3n-Zq8xW2vR7pL9sK4m'
addHeaderSecret(`Bearer ${token}`)

/** Every prefix of `value` of MIN_SECRET_PREFIX or more characters. */
function prefixes (value: string): string[] {
  return Array.from({ length: value.length - MIN_SECRET_PREFIX + 1 }, (_, i) => value.slice(0, MIN_SECRET_PREFIX + i))
}

describe('redact', () => {
  test('removes a secret in every encoding it may be echoed in', () => {
    const forms = [
      token,
      Buffer.from(token).toString('base64'),
      Buffer.from(token).toString('base64url'),
      Buffer.from(token).toString('hex'),
      Buffer.from(token).toString('hex').toUpperCase(),
      Buffer.from(`Bearer ${token}`).toString('base64')
    ]
    for (const form of forms) {
      const out = redact(`before ${form} after`)
      expect(out).toBe('before *** after')
    }
  })

  test('removes URL-encoded and JSON-escaped forms of a secret with special characters', () => {
    const secret = 'p@ss/"word"+\\ünïcode'
    addSecret(secret)
    for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
      expect(redact(`x=${form};`)).toBe('x=***;')
    }
  })

  test('removes each prefix of 8 or more characters, as a message cut short leaves it', () => {
    for (const prefix of prefixes(token)) expect(redact(`header: ${prefix}`)).toBe('header: ***')
    // Shorter pieces are ordinary text.
    expect(redact(`header: ${token.slice(0, MIN_SECRET_PREFIX - 1)}`)).toBe(`header: ${token.slice(0, MIN_SECRET_PREFIX - 1)}`)
  })

  test('Basic credentials and URL userinfo: the token, user:password and the password', () => {
    addHeaderSecret(`Basic ${Buffer.from('ci:b4sic-pa55w0rd').toString('base64')}`)
    addUserinfoSecret('robot', 'url%2Fpa55w0rd')
    for (const text of ['ci:b4sic-pa55w0rd', 'b4sic-pa55w0rd', 'url/pa55w0rd', 'robot:url/pa55w0rd']) {
      expect(redact(text)).not.toContain('pa55')
    }
  })

  test('a remote message is redacted before it is cut: no token minus its last character survives', () => {
    for (let pad = 250; pad < 300; pad++) {
      const body = `${'.'.repeat(pad)}Authorization: Bearer ${token}\n${Buffer.from(token).toString('base64')}`
      const line = remoteMessage(body)
      expect(line.length).toBeLessThanOrEqual(300)
      for (const prefix of prefixes(token)) expect(line).not.toContain(prefix)
    }
  })

  test('a remote message is one line without control characters', () => {
    const line = remoteMessage('first\r\n::error::second\u001b[31m\u0000third\u2028fourth')
    expect(line).toBe('first ::error::second [31m third fourth')
    expect(remoteMessage('x'.repeat(1000), 50)).toBe(`${'x'.repeat(49)}…`)
  })
})
