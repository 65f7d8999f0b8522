import { describe, expect, test } from '@jest/globals'
import { CID } from 'multiformats/cid'
import { InputError } from '../../src/core/errors.js'
import { RegistryError } from '../../src/core/serve/errors.js'
import { parseRange } from '../../src/core/serve/range.js'
import { RootCache } from '../../src/core/serve/roots.js'
import { parseRegistry } from '../../src/core/registry/location.js'
import { parseRoute } from '../../src/core/serve/route.js'
import { parseListen } from '../../src/core/serve/server.js'

const CID_TEXT = 'bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354'

describe('parseRoute', () => {
  test('the registry forms docker references can name', () => {
    expect(parseRoute(`/v2/ipfs/${CID_TEXT}/team/app/manifests/1.0`)).toEqual({ endpoint: 'manifest', registry: { kind: 'ipfs', root: CID.parse(CID_TEXT) }, name: 'team/app', reference: '1.0' })
    expect(parseRoute('/v2/ipns/k51qzi5uqu5dabc/app/blobs/sha256:00')).toMatchObject({ endpoint: 'blob', registry: { kind: 'ipns', name: 'k51qzi5uqu5dabc' }, name: 'app' })
    expect(parseRoute('/v2/registry.example.org/team/app/tags/list')).toEqual({ endpoint: 'tags', registry: { kind: 'dnslink', domain: 'registry.example.org' }, name: 'team/app' })
    expect(parseRoute('/v2/team/app/referrers/sha256:00')).toEqual({ endpoint: 'referrers', registry: { kind: 'default' }, name: 'team/app', reference: 'sha256:00' })
    // A name whose last component is an endpoint word still parses at the last endpoint.
    expect(parseRoute('/v2/team/manifests/manifests/1.0')).toMatchObject({ endpoint: 'manifest', name: 'team/manifests', reference: '1.0' })
    expect(parseRoute('/v2/_catalog')).toEqual({ endpoint: 'catalog', registry: { kind: 'default' } })
    expect(parseRoute(`/v2/ipfs/${CID_TEXT}/_catalog`)).toMatchObject({ endpoint: 'catalog', registry: { kind: 'ipfs' } })
    expect(parseRoute('/v2/')).toEqual({ endpoint: 'base' })
    expect(parseRoute('/v2/team/app/blobs/uploads/')).toEqual({ endpoint: 'upload' })
    expect(parseRoute('/v3/x')).toBeUndefined()
    expect(parseRoute('/v2/team/app/other/x')).toBeUndefined()
  })

  test.each([
    ['/v2/ipfs/nocid/app/manifests/1'], ['/v2/ipns/K51UPPER/app/manifests/1'], ['/v2/Team/manifests/1'],
    ['/v2/bad_domain.example/app/manifests/1'], ['/v2/ipfs/' + CID_TEXT + '/manifests/1'], ['/v2/team/tags/manifests/1']
  ])('%s is NAME_INVALID', (path) => {
    let error: unknown
    try { parseRoute(path) } catch (err) { error = err }
    expect(error).toBeInstanceOf(RegistryError)
    expect((error as RegistryError).code).toBe('NAME_INVALID')
  })
})

test('parseRegistry', () => {
  expect(parseRegistry(`/ipfs/${CID_TEXT}`)).toEqual({ kind: 'ipfs', root: CID.parse(CID_TEXT) })
  expect(parseRegistry('ipns/k51qzi5uqu5dabc')).toEqual({ kind: 'ipns', name: 'k51qzi5uqu5dabc' })
  expect(parseRegistry('registry.example.org')).toEqual({ kind: 'dnslink', domain: 'registry.example.org' })
  for (const bad of ['team', 'ipfs/nocid', `ipfs/${CID_TEXT}/team`, 'https://example.org']) expect(() => parseRegistry(bad, 'serve-registry')).toThrow(InputError)
})

test('parseRange', () => {
  expect(parseRange(undefined, 10)).toBeUndefined()
  expect(parseRange('bytes=2-', 10)).toEqual({ start: 2, end: 10 })
  expect(parseRange('bytes=2-4', 10)).toEqual({ start: 2, end: 5 })
  expect(parseRange('bytes=2-400', 10)).toEqual({ start: 2, end: 10 })
  expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 10 })
  expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable')
  expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable')
  expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable')
  expect(parseRange('bytes=4-2', 10)).toBeUndefined()
  expect(parseRange('bytes=0-1,3-4', 10)).toBeUndefined()
  expect(parseRange('items=0-1', 10)).toBeUndefined()
})

test('parseListen', () => {
  expect(parseListen('127.0.0.1:5000')).toEqual({ host: '127.0.0.1', port: 5000 })
  expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 })
  expect(parseListen('localhost:8080')).toEqual({ host: 'localhost', port: 8080 })
  for (const bad of ['5000', '127.0.0.1', '127.0.0.1:70000', '::1:5000']) expect(() => parseListen(bad, 'listen')).toThrow(InputError)
})

test('RootCache: one lookup per TTL, shared by concurrent requests; a failed lookup is not kept', async () => {
  let clock = 1000
  let calls = 0
  let fail = false
  const root = CID.parse(CID_TEXT)
  const cache = new RootCache(async () => {
    calls++
    if (fail) throw new Error('resolver down')
    return { root, ttlMs: 30_000 }
  }, () => clock)
  const name = { kind: 'dnslink', domain: 'registry.example.org' } as const
  await Promise.all([cache.get(name), cache.get(name), cache.get(name)])
  expect(calls).toBe(1)
  clock += 29_999
  await cache.get(name)
  expect(calls).toBe(1)
  clock += 2
  fail = true
  await expect(cache.get(name)).rejects.toThrow('resolver down')
  expect(calls).toBe(2)
  fail = false
  expect((await cache.get(name)).equals(root)).toBe(true)
  expect(calls).toBe(3)
  await expect(new RootCache(undefined).get(name)).rejects.toMatchObject({ code: 'NAME_UNKNOWN' })
})
