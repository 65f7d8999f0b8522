import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { escapeControl, htmlText, logLine, plainLine } from '../../src/core/escape.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { run } from '../helpers/tools.js'
import { runAction } from '../helpers/action.js'
import { extractFromCars } from '../publish/helpers.js'
import { INJECTED, hostile, injectedCommands, rewriteLayout } from './hostile-layout.js'

let dir: string
let base: string
let copies = 0

beforeAll(async () => {
  dir = await makeTempDir('ipcr-hostile-')
  base = join(dir, 'base')
  await buildOciLayout(base, { tag: 'v1', layers: [{ files: { 'a.txt': 'hostile strings\n' } }] })
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function copyLayout (): Promise<string> {
  const copy = join(dir, `layout-${copies++}`)
  await run('cp', ['-r', base, copy])
  return copy
}

describe('escaping', () => {
  test('a log line runs no workflow command and holds no control character', () => {
    for (const text of [hostile.commands, hostile.terminal, hostile.oldCommand, `  ::add-mask::${INJECTED}`, `\u2028::warning::${INJECTED}`]) {
      const line = logLine(text)
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/)
      expect(line.trimStart().startsWith('::')).toBe(false)
      expect(line).not.toContain('##[')
      expect(injectedCommands(line)).toEqual([])
    }
    expect(logLine('plain text: sha256:abc [::1]')).toBe('plain text: sha256:abc [::1]')
    expect(escapeControl('a\nb\u001b[1m')).toBe('a\\nb\\x1b[1m')
    // A tab stays (a secret may hold one, and the runner masks raw values), but cannot hide a command.
    expect(logLine('a\tb')).toBe('a\tb')
    expect(logLine(`\t::add-mask::${INJECTED}`)).toBe(`\\\t::add-mask::${INJECTED}`)
  })

  test('summary text is HTML and Markdown with every markup character escaped', () => {
    const cell = htmlText(hostile.html)
    expect(cell).not.toMatch(/[<>"'`*_[\]|]/)
    expect(cell).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(htmlText('a\n\n# b')).toBe('a&#92;n&#92;n&#35; b')
  })

  test('a description is one plain line', () => {
    expect(plainLine(`\r\n  first\u001b[31m line\u2028second\nthird`)).toBe('first [31m line')
    expect(plainLine('\n \n')).toBeUndefined()
    expect([...(plainLine('x'.repeat(2000)) as string)].length).toBe(512)
  })
})

describe('hostile strings through the action', () => {
  test.each([
    ['architecture', hostile.commands],
    ['os', hostile.terminal],
    ['variant', hostile.oldCommand],
    ['architecture', 'a'.repeat(65)],
    ['os', 42]
  ])('a config whose %s is %j is refused, naming the input', async (field, value) => {
    const layout = await copyLayout()
    await rewriteLayout(layout, 'v1', { config: (config) => { config[field] = value } })
    const r = await runAction({ 'image-file': layout, name: 'team/app', tags: 'v1', summary: 'true' })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`::error::Input 'image-file': .* platform ${field} .* is not a platform name`))
    expect(injectedCommands(r.stdout)).toEqual([])
    expect(r.stdout).not.toMatch(/[\u001b\u0007\u009b]/)
    expect(r.outputs).toEqual({})
    expect(r.summary).toBe('')
  })

  test('an index.json entry whose platform is hostile is refused, naming the input', async () => {
    const layout = await copyLayout()
    await rewriteLayout(layout, 'v1', { entry: (entry) => { entry.platform = { os: 'linux', architecture: hostile.commands } } })
    const r = await runAction({ 'image-file': layout, name: 'team/app', tags: 'v1' })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/::error::Input 'image-file': index.json manifests\[0\] platform in .* platform architecture 'amd64\\n::warning title=x::INJ3CT.*' is not a platform name/)
    expect(injectedCommands(r.stdout)).toEqual([])
    expect(r.outputs).toEqual({})
  })

  test('a hostile description label and annotations are escaped in logs and summary, and plain in README-short.txt and catalog.json', async () => {
    const layout = await copyLayout()
    const label = `\r\n  ${hostile.html} ${hostile.terminal}\n::add-mask::${INJECTED}`
    await rewriteLayout(layout, 'v1', {
      config: (config) => { config.config = { ...config.config, Labels: { 'org.opencontainers.image.description': label } } },
      annotations: { 'org.opencontainers.image.description': hostile.commands, 'org.example.note': hostile.terminal }
    })
    const r = await runAction({ 'image-file': layout, name: 'team/app', tags: 'v1', summary: 'true' })
    expect(r.code).toBe(0)
    expect(injectedCommands(r.stdout)).toEqual([])
    expect(r.stdout).not.toMatch(/[\u001b\u0007\u009b]/)

    const description = plainLine(label) as string
    expect(description).toContain('<img src=x')
    expect(description).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
    expect(r.summary).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(r.summary).toContain('&#91;link&#93;')
    expect(r.summary).not.toContain('<img')
    expect(r.summary).not.toContain('<!--')
    expect(r.summary).not.toContain('**bold**')
    expect(r.summary).not.toMatch(/[\u001b\u0007\u009b]/)
    expect(JSON.parse(r.outputs.metadata as string).description).toBe(description)

    const cars = [r.outputs['car-path'] as string]
    const repo = await extractFromCars(cars, r.outputs['root-cid'] as string, ['team', 'app'])
    expect(await readFile(join(repo, 'README-short.txt'), 'utf8')).toBe(`${description}\n`)
    const root = await extractFromCars(cars, r.outputs['root-cid'] as string, [])
    const catalog = JSON.parse(await readFile(join(root, 'catalog.json'), 'utf8'))
    expect(catalog.images[0].description).toBe(description)
  })

  test('a hostile repository name from the archive is refused with no raw control character in the log', async () => {
    const layout = await copyLayout()
    await rewriteLayout(layout, 'v1', { annotations: { 'io.containerd.image.name': `example.com/${hostile.terminal}\n::add-mask::${INJECTED}:1` } })
    const r = await runAction({ 'image-file': layout, tags: 'v1' })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/::error::Input 'image-file': /)
    expect(injectedCommands(r.stdout)).toEqual([])
    expect(r.stdout).not.toMatch(/[\u001b\u0007\u009b]/)
    expect(r.outputs).toEqual({})
  })

  test('what the docker CLI prints on stderr reaches the log escaped, line by line', async () => {
    // A docker CLI whose output nobody checks (DOCKER_HOST may name a remote daemon): it prints commands and fails.
    const bin = join(dir, 'fake-docker')
    await mkdir(bin, { recursive: true })
    // stdout of docker save is not shown (it prints nothing there); stderr is, line by line.
    await writeFile(join(bin, 'docker'), `#!/bin/sh\nprintf '%s\\n' '::add-mask::${INJECTED}' '  ::warning::${INJECTED}'\nprintf '%s\\n' '::add-mask::${INJECTED}' '  ::warning::${INJECTED}' >&2\nprintf '%s\\n\\033[2J\\r::stop-commands::${INJECTED}\\n' 'Error: no such image' >&2\nexit 1\n`)
    await chmod(join(bin, 'docker'), 0o755)
    const path = process.env.PATH
    process.env.PATH = `${bin}:${path ?? ''}`
    try {
      const r = await runAction({ image: 'localhost/app:1' })
      expect(r.code).toBe(1)
      expect(r.stdout).toContain(`\\::add-mask::${INJECTED}`)
      expect(r.stdout).toMatch(/::error::Input 'image': Docker has no image 'localhost\/app:1'/)
      expect(injectedCommands(r.stdout)).toEqual([])
      expect(r.stdout).not.toMatch(/[\u001b\u0007\u009b]/)
    } finally {
      process.env.PATH = path
    }
  })
})
