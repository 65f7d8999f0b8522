import { describe, expect, it } from '@jest/globals'
import { MAX_TXT_STRING, joinTxt, parseTxtStrings, quoteTxt, splitTxt, unquoteTxt } from '../../src/core/dns/txt.js'

describe('TXT presentation form', () => {
  it('reads quoted, bare, escaped and multi-string data', () => {
    expect(unquoteTxt('"dnslink=/ipfs/bafy"')).toBe('dnslink=/ipfs/bafy')
    expect(unquoteTxt('"part one" "part two"')).toBe('part onepart two')
    expect(unquoteTxt('"with \\"quote\\" and \\\\ backslash"')).toBe('with "quote" and \\ backslash')
    expect(unquoteTxt('bare words')).toBe('bare words')
    expect(unquoteTxt('"caf\\195\\169"')).toBe('café')
    expect(parseTxtStrings('"a" "" "b"').map((b) => b.toString())).toEqual(['a', '', 'b'])
    expect(unquoteTxt('"unclosed')).toBe('unclosed')
  })

  it('joins the bytes of strings before reading UTF-8 (a character split across strings)', () => {
    expect(unquoteTxt('"caf\\195" "\\169"')).toBe('café')
  })

  it('writes quoted strings of at most 255 bytes that read back the same', () => {
    expect(quoteTxt('dnslink=/ipns/k51')).toBe('"dnslink=/ipns/k51"')
    expect(quoteTxt('a"b\\c')).toBe('"a\\"b\\\\c"')
    expect(quoteTxt('é\n')).toBe('"\\195\\169\\010"')
    expect(quoteTxt('')).toBe('""')
    const long = `dnslink=/ipfs/${'b'.repeat(600)}`
    const quoted = quoteTxt(long)
    const strings = parseTxtStrings(quoted)
    expect(strings.map((s) => s.length)).toEqual([MAX_TXT_STRING, MAX_TXT_STRING, long.length - 2 * MAX_TXT_STRING])
    expect(unquoteTxt(quoted)).toBe(long)
    for (const value of ['a"b\\c', 'é\n', 'x'.repeat(255), 'ü'.repeat(200)]) expect(unquoteTxt(quoteTxt(value))).toBe(value)
  })

  it('splits values into strings of at most 255 bytes, never inside a character, and joins them back', () => {
    expect(splitTxt('')).toEqual([Buffer.alloc(0)])
    expect(splitTxt('a'.repeat(510)).map((s) => s.length)).toEqual([255, 255])
    // 'é' is 2 bytes: a cut at byte 255 would fall inside the 128th.
    const mixed = 'é'.repeat(200)
    const parts = splitTxt(mixed)
    expect(parts.map((s) => s.length)).toEqual([254, 146])
    expect(parts.map((s) => s.toString('utf8')).join('')).toBe(mixed)
    expect(joinTxt(parts)).toBe(mixed)
    expect(joinTxt([Buffer.from('caf\xc3', 'latin1'), Buffer.from([0xa9])])).toBe('café')
  })

  it('takes unquoted data as it is (hosted APIs keep it as one string)', () => {
    expect(unquoteTxt('v=spf1 include:x -all')).toBe('v=spf1 include:x -all')
  })
})
