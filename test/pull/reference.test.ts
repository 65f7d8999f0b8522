import { describe, expect, test } from '@jest/globals'
import { CID } from 'multiformats/cid'
import { InputError } from '../../src/core/errors.js'
import { choosePlatform, parsePlatform } from '../../src/core/pull/platform.js'
import { parsePullReference, referenceText } from '../../src/core/pull/reference.js'

const CID_TEXT = 'bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354'
const DIGEST = `sha256:${'a'.repeat(64)}`

describe('parsePullReference', () => {
  test('the registry forms, by tag and by digest', () => {
    expect(parsePullReference(`ipfs/${CID_TEXT}/team/app:1.0`)).toEqual({ registry: { kind: 'ipfs', root: CID.parse(CID_TEXT) }, name: 'team/app', tag: '1.0' })
    expect(parsePullReference(`/ipfs/${CID_TEXT}/app@${DIGEST}`)).toEqual({ registry: { kind: 'ipfs', root: CID.parse(CID_TEXT) }, name: 'app', digest: DIGEST })
    expect(parsePullReference('ipns/k51qzi5uqu5dabc/team/app:2')).toEqual({ registry: { kind: 'ipns', name: 'k51qzi5uqu5dabc' }, name: 'team/app', tag: '2' })
    expect(parsePullReference('registry.example.org/team/app')).toEqual({ registry: { kind: 'dnslink', domain: 'registry.example.org' }, name: 'team/app', tag: 'latest' })
    expect(referenceText(parsePullReference(`/ipfs/${CID_TEXT}/app@${DIGEST}`))).toBe(`ipfs/${CID_TEXT}/app@${DIGEST}`)
  })

  test.each([
    ['team/app:1.0', /names no registry/],
    [`ipfs/${CID_TEXT}`, /no valid repository name/],
    ['ipfs/notacid/app:1', /not a CID/],
    [`ipfs/${CID_TEXT}/App:1`, /no valid repository name/],
    [`ipfs/${CID_TEXT}/app:-x`, /tag that starts with '-'/],
    [`ipfs/${CID_TEXT}/app@sha256:abc`, /invalid digest/],
    [`ipfs/${CID_TEXT}/app:1@${DIGEST}`, /both a tag and a digest/],
    ['bad_domain.example/app:1', /not a domain/]
  ])('%s is refused', (value, why) => {
    let error: unknown
    try { parsePullReference(value, 'REF') } catch (err) { error = err }
    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).input).toBe('REF')
    expect((error as Error).message).toMatch(why)
  })
})

describe('platforms', () => {
  test('parse and choose (variant when asked for, else the entry without one)', () => {
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' })
    expect(() => parsePlatform('linux', 'PLAT')).toThrow(/Input 'PLAT'/)
    const entries = [
      { mediaType: 'm', digest: 'a', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
      { mediaType: 'm', digest: 'b', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { mediaType: 'm', digest: 'c', size: 1, platform: { os: 'linux', architecture: 'amd64' } }
    ]
    expect(choosePlatform(entries, parsePlatform('linux/arm/v7'))?.digest).toBe('b')
    expect(choosePlatform(entries, parsePlatform('linux/amd64'))?.digest).toBe('c')
    expect(choosePlatform(entries, parsePlatform('linux/arm64'))).toBeUndefined()
  })
})
