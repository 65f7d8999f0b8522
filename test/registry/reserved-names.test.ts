import { describe, expect, it } from '@jest/globals'
import { InputError } from '../../src/core/errors.js'
import { REPOSITORY_ENTRIES, TOP_LEVEL_FILES, registryPaths, reservedNameProblem } from '../../src/core/registry/layout.js'
import { parseTagList, validateName } from '../../src/core/registry/reference.js'

describe('names the registry tree reserves', () => {
  it.each([
    'catalog.json', 'catalog.json/x', 'catalog.json/a/b', 'index.html', 'index.html/x',
    'tags', 'team/tags', 'team/tags/x', 'readme-short.txt', 'team/readme-short.txt/x'
  ])('refuses %p, naming the input', (name) => {
    expect(() => validateName(name, 'name')).toThrow(InputError)
    expect(() => validateName(name, 'name')).toThrow(/^Input 'name': repository name '.*' (starts with|has the component)/)
  })

  it('names the input the name came from', () => {
    expect(() => validateName('catalog.json/x', 'image')).toThrow(/^Input 'image': repository name 'catalog.json\/x' starts with 'catalog.json'/)
  })

  it('accepts the same words deeper in a name or inside a component', () => {
    for (const name of ['team/catalog.json', 'team/index.html', 'catalogs/x', 'index.htm/x', 'tagsx/app', 'team/readme']) {
      expect(validateName(name)).toBe(name)
    }
  })

  it('no valid name can place a folder where the tree writes a file or the tags of another name', () => {
    // Every path a publish writes, for a set of names and tags; no two may be a prefix of one another.
    const names = ['a', 'a/b', 'a/b/c', 'tags1/x', 'a/tags.x', 'catalog/x', 'index/x']
    const paths = [registryPaths.catalog(), [TOP_LEVEL_FILES.webPage]]
    for (const name of names) {
      expect(reservedNameProblem(name)).toBeUndefined()
      paths.push(registryPaths.readme(name), registryPaths.tag(name, 'v1'), registryPaths.tag(name, 'latest'))
    }
    const keys = paths.map((p) => p.join('/'))
    for (const a of keys) {
      for (const b of keys) {
        if (a !== b) expect(b.startsWith(`${a}/`)).toBe(false)
      }
    }
    expect(Object.values(REPOSITORY_ENTRIES)).toEqual(['tags', 'README-short.txt'])
  })

  it('tags references do not check the repository: the shells check it only when it names the repository', () => {
    expect(parseTagList('ghcr.io/o/tags:1').path).toBe('o/tags')
  })
})
