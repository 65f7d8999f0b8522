import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { cliLogger } from '../../src/cli/logger.js'
import { buildOciLayout, makeTempDir, skopeoCopy } from '../helpers/images.js'
import { run } from '../helpers/tools.js'
import { INJECTED, hostile, rewriteLayout } from '../action/hostile-layout.js'
import { runCli, type Finished } from '../helpers/process.js'

let dir: string
let base: string
let copies = 0

beforeAll(async () => {
  dir = await makeTempDir('ipcr-cli-hostile-')
  base = join(dir, 'base')
  await buildOciLayout(base, { tag: 'v1', layers: [{ files: { 'a.txt': 'terminal\n' } }] })
})

afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

async function copyLayout (): Promise<string> {
  const copy = join(dir, `layout-${copies++}`)
  await run('cp', ['-r', base, copy])
  return copy
}

async function ipcr (...args: string[]): Promise<Finished> {
  return await runCli(args, dir)
}

/** Control characters a terminal acts on (ESC, BEL, CSI, CR, …); a newline only ends a line. */
const TERMINAL_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/

describe('untrusted text on the terminal', () => {
  test('the CLI logger shows control characters escaped', () => {
    const written: string[] = []
    const write = process.stderr.write
    process.stderr.write = ((chunk: string) => { written.push(chunk); return true }) as typeof process.stderr.write
    try {
      const logger = cliLogger(false, true)
      logger.info(hostile.terminal)
      logger.debug(`a\rb\u001b[2Kc`)
      logger.warn('x\n::add-mask::y')
    } finally {
      process.stderr.write = write
    }
    expect(written).toEqual([
      'arm64\\x1b[2J\\x1b]0;INJ3CT\\x07\\x9b31m\n',
      'a\\rb\\x1b[2Kc\n',
      'warning: x\\n::add-mask::y\n'
    ])
  })

  test('a config with terminal sequences in its platform is refused, naming the input, with nothing raw on stderr', async () => {
    const layout = await copyLayout()
    await rewriteLayout(layout, 'v1', { config: (config) => { config.os = hostile.terminal } })
    const r = await ipcr('push', '--file', layout, '--name', 'team/app', '--car', 'out.car')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/ipcr: --file: .* platform os 'arm64\\x1b\[2J\\x1b\]0;INJ3CT\\x07\\x9b31m' is not a platform name/)
    expect(r.stderr).not.toMatch(TERMINAL_CONTROL)
    expect(existsSync(join(dir, 'out.car'))).toBe(false)
  })

  test('a docker-archive whose config has a hostile architecture is refused the same way', async () => {
    const layout = await copyLayout()
    await rewriteLayout(layout, 'v1', { config: (config) => { config.architecture = hostile.terminal } })
    const archive = join(dir, `archive-${copies++}.tar`)
    await skopeoCopy(`oci:${layout}:v1`, `docker-archive:${archive}:team/app:v1`)
    const r = await ipcr('push', '--file', archive, '--car', 'out.car')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/ipcr: --file: config .* platform architecture 'arm64\\x1b\[2J.*' is not a platform name/)
    expect(r.stderr).not.toMatch(TERMINAL_CONTROL)
    expect(existsSync(join(dir, 'out.car'))).toBe(false)
  })

  test('a repository name from the archive with terminal sequences is refused with nothing raw on stderr', async () => {
    const layout = await copyLayout()
    await rewriteLayout(layout, 'v1', { annotations: { 'io.containerd.image.name': `example.com/${hostile.terminal}\r${INJECTED}:1` } })
    const r = await ipcr('push', '--file', layout, '--car', 'out.car')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/ipcr: --file: 'example.com\/arm64\\x1b\[2J.*\\r.*' is not a valid image reference/)
    expect(r.stderr).not.toMatch(TERMINAL_CONTROL)
  })
})

describe('reserved repository names on the command line', () => {
  test.each([
    [['--name', 'index.html/x'], /^ipcr: --name: repository name 'index.html\/x' starts with 'index.html'/],
    [['--tag', 'ghcr.io/catalog.json/x:1'], /^ipcr: --tag: repository name 'catalog.json\/x' starts with 'catalog.json'/]
  ])('%j is refused, naming the input, and writes no CAR', async (args, message) => {
    const r = await ipcr('push', '--file', base, ...args, '--car', 'reserved.car')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(message)
    expect(existsSync(join(dir, 'reserved.car'))).toBe(false)
  })
})
