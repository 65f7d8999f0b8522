import { describe, expect, it } from '@jest/globals'
import { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import { InputError } from '../../src/core/errors.js'
import { parseReference, parseTagList, validateName, validateTag } from '../../src/core/registry/reference.js'
import { emptyCatalog, encodeCatalog, parseCatalog, updateCatalog } from '../../src/core/registry/catalog.js'

describe('names and tags', () => {
  it('accepts OCI names, nested ones included', () => {
    expect(validateName('team/app')).toBe('team/app')
    expect(validateName('a.b_c__d--e/f0')).toBe('a.b_c__d--e/f0')
  })

  it.each(['Team/app', 'app/', '/app', 'a..b', 'app/tags', 'catalog.json', ''])('rejects name %p naming the input', (name) => {
    expect(() => validateName(name, 'name')).toThrow(InputError)
    expect(() => validateName(name, 'name')).toThrow(/Input 'name'/)
  })

  it('checks tags', () => {
    expect(validateTag('v1.2.3_rc-1')).toBe('v1.2.3_rc-1')
    expect(() => validateTag('-x')).toThrow(/Input 'tags': tag '-x' starts with '-'/)
    expect(() => validateTag('a'.repeat(129))).toThrow(InputError)
  })
})

describe('references', () => {
  it('splits domain, path, tag and digest as Docker does', () => {
    expect(parseReference('ghcr.io/owner/app:1.0', 'image')).toEqual({ domain: 'ghcr.io', path: 'owner/app', tag: '1.0', digest: undefined })
    expect(parseReference('localhost:5000/app', 'image')).toEqual({ domain: 'localhost:5000', path: 'app', tag: undefined, digest: undefined })
    expect(parseReference('owner/app', 'image').domain).toBeUndefined()
    const d = `sha256:${'a'.repeat(64)}`
    expect(parseReference(`app:1@${d}`, 'image')).toEqual({ domain: undefined, path: 'app', tag: '1', digest: d })
    expect(() => parseReference('App:1', 'image')).toThrow(/Input 'image'/)
  })

  it('reads docker/metadata-action tags output', () => {
    const out = parseTagList('ghcr.io/o/app:1.2.3\nghcr.io/o/app:1.2\nghcr.io/o/app:latest\n')
    expect(out).toEqual({ tags: ['1.2.3', '1.2', 'latest'], path: 'o/app' })
    expect(parseTagList('v1, latest,v1')).toEqual({ tags: ['v1', 'latest'], path: undefined })
    expect(() => parseTagList('ghcr.io/o/a:1\nghcr.io/o/b:1')).toThrow(/different repositories/)
    expect(() => parseTagList('ghcr.io/o/a')).toThrow(/has no tag/)
  })
})

describe('catalog', () => {
  it('adds and replaces tags, sorted and stable', () => {
    const cid = (n: string): string => CID.createV1(0x55, identity.digest(new TextEncoder().encode(n))).toString()
    const at = (n: number): string => new Date(Date.UTC(2026, 0, n)).toISOString()
    const tag = (t: string, c: string) => ({ tag: t, digest: `sha256:${'a'.repeat(64)}`, platforms: ['linux/amd64'], size: 1, cid: cid(c), published: at(1) })
    let c = updateCatalog(emptyCatalog(), { name: 'b', tags: [tag('2', 'c2')], updated: at(1) })
    c = updateCatalog(c, { name: 'a', description: 'A', tags: [tag('1', 'c1')], updated: at(2) })
    c = updateCatalog(c, { name: 'b', tags: [tag('2', 'c3'), tag('1', 'c4')], updated: at(3) })
    expect(c.images.map((i) => i.name)).toEqual(['a', 'b'])
    expect(c.images[1]?.tags.map((t) => [t.tag, t.cid])).toEqual([['1', cid('c4')], ['2', cid('c3')]])
    expect(parseCatalog(encodeCatalog(c))).toEqual(c)
    expect(() => parseCatalog(new TextEncoder().encode('{"images":3}'))).toThrow(/^catalog.json of the previous root: the catalog has no 'schemaVersion'$/)
  })
})

describe('errors in the user\'s words', () => {
  it('a tag longer than 128 characters says so, as a tag and in the tags list', () => {
    const long = 'v'.repeat(129)
    expect(() => validateTag(long)).toThrow(/is 129 characters long, longer than 128 characters/)
    expect(() => parseTagList(long)).toThrow(/longer than 128 characters/)
    expect(() => parseTagList(long)).not.toThrow(/has no tag/)
    expect(() => parseTagList(`ghcr.io/o/app:${long}`)).toThrow(/longer than 128 characters/)
  })

  it('names the character a tag may not have', () => {
    expect(() => parseTagList('v1.0.0+build')).toThrow(/Input 'tags': tag 'v1.0.0\+build' has '\+', which is not allowed in a tag .*semver build metadata/)
    expect(() => validateTag('a b')).toThrow(/has U\+0020, which is not allowed/)
    expect(() => parseTagList('ghcr.io/o/app:1.0+x')).toThrow(/has '\+'/)
    expect(() => validateTag('.x')).toThrow(/starts with '\.'/)
  })

  it('metadata-action configuration passed as tags points to its output', () => {
    for (const value of ['type=semver,pattern={{version}}', 'type=ref,event=branch\ntype=sha', 'type=raw,value=latest,enable={{is_default_branch}}']) {
      expect(() => parseTagList(value)).toThrow(/docker\/metadata-action's configuration.*steps\.meta\.outputs\.tags/)
    }
  })

  it('an uppercase name says to lowercase it', () => {
    expect(() => validateName('Owner/App')).toThrow(/has uppercase letters; repository names are lowercase: use 'owner\/app'/)
  })
})
