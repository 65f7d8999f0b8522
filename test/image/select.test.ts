import { describe, expect, it } from '@jest/globals'
import { refMatches } from '../../src/core/image/select.js'

describe('a reference names an image of an archive', () => {
  it.each([
    ['team/app', 'docker.io/team/app:latest'],
    ['app', 'docker.io/library/app:latest'],
    ['app:1', 'localhost/app:1'],
    ['docker.io/library/app:1', 'app:1'],
    ['team/app:1.0', '1.0'],
    ['tool', 'tool']
  ])('%p names %p', (ref, name) => { expect(refMatches(ref, name)).toBe(true) })

  it.each([
    ['ghcr.io/x/app:1', 'x/app:1'],
    ['team/app:1.0', 'team/app:1.1'],
    ['team/app', 'team/app:1.0'],
    ['tool', '1.0']
  ])('%p does not name %p', (ref, name) => { expect(refMatches(ref, name)).toBe(false) })
})
