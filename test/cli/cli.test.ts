import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { dockerImageId, dockerLoad, dockerRemove, makeTempDir } from '../helpers/images.js'
import { runCli, type Finished } from '../helpers/process.js'

const cli = resolve('dist/cli.js')
let dir: string

beforeAll(async () => { dir = await makeTempDir('ipcr-cli-') })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

async function ipcr (...args: string[]): Promise<Finished> {
  return await runCli(args, dir)
}

describe('ipcr CLI', () => {
  test('--help lists the commands and each command its options', async () => {
    const main = await ipcr('--help')
    expect(main.code).toBe(0)
    for (const command of ['push', 'get', 'demo']) expect(main.stdout).toContain(`  ${command} `)
    const push = await ipcr('push', '--help')
    for (const flag of ['--file', '--name', '--tag', '--description', '--previous-root', '--gateway', '--previous-car', '--car', '--car-scope', '--store', '--json']) {
      expect(push.stdout).toContain(flag)
    }
    expect((await ipcr('help', 'get')).stdout).toContain('Usage: ipcr get')
  })

  test('demo publishes into the embedded store with no Docker and no daemon; get + docker load restores it', async () => {
    const first = await ipcr('demo', '--store', 'store', '--json')
    expect(first.code).toBe(0)
    const result = JSON.parse(first.stdout)
    expect(result.rootCid).toMatch(/^bafy/)
    expect((await readFile(join(dir, 'store', 'root'), 'utf8')).trim()).toBe(result.rootCid)
    // The second run updates the store's root, and the tag folder is the same.
    const second = JSON.parse((await ipcr('demo', '--store', 'store', '--json')).stdout)
    expect(second.previousRoot).toBe(result.rootCid)
    expect(second.imageCid).toBe(result.imageCid)
    const get = await ipcr('get', '--store', 'store', 'ipcr-demo/tags/latest', '-o', 'out')
    expect(get.code).toBe(0)
    await dockerRemove('localhost/ipcr-demo:latest')
    await dockerLoad(join(dir, 'out'))
    const manifest = JSON.parse(await readFile(join(dir, 'out', 'manifest.json'), 'utf8'))
    expect(await dockerImageId('localhost/ipcr-demo:latest')).toBe(`sha256:${manifest[0].Config.split('/').pop()}`)
    await dockerRemove('localhost/ipcr-demo:latest')
    // `-o -` streams the tag folder as a tar on stdout, which `docker load` reads; progress goes to stderr.
    const child = spawn(process.execPath, [cli, 'get', '--store', 'store', 'ipcr-demo/tags/latest', '-o', '-'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c) => { stderr += String(c) })
    const load = spawn('docker', ['load'], { stdio: ['pipe', 'pipe', 'pipe'] })
    child.stdout.pipe(load.stdin)
    let loaded = ''
    load.stdout.on('data', (c) => { loaded += String(c) })
    const [getCode, loadCode] = await Promise.all([
      new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1))),
      new Promise<number>((resolve) => load.on('close', (c) => resolve(c ?? 1)))
    ])
    expect(getCode).toBe(0)
    expect(loadCode).toBe(0)
    expect(loaded).toContain('localhost/ipcr-demo:latest')
    expect(stderr).toContain('as a tar to standard output')
    expect(await dockerImageId('localhost/ipcr-demo:latest')).toBe(`sha256:${manifest[0].Config.split('/').pop()}`)
    await dockerRemove('localhost/ipcr-demo:latest')
    // The demo CAR alone holds the whole registry.
    const fromCar = await ipcr('get', '--car', join('store', 'demo.car'), `/ipfs/${second.rootCid}/catalog.json`, '-o', 'cat')
    expect(fromCar.code).toBe(0)
    const catalog = JSON.parse(await readFile(join(dir, 'cat'), 'utf8'))
    expect(catalog.images[0].name).toBe('ipcr-demo')
  })

  test('a push into a store keeps no CAR and says so', async () => {
    expect((await ipcr('demo', '--store', 'demo-store')).code).toBe(0)
    expect((await ipcr('get', '--store', 'demo-store', 'ipcr-demo/tags/latest', '-o', 'layout')).code).toBe(0)
    const r = await ipcr('push', '--file', 'layout', '--name', 'team/kept', '--store', 'kept-store')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^ {2}CAR {12}none kept \(the blocks this publish added, \d+ blocks\)$/m)
    expect(r.stdout).not.toContain('undefined')
    expect(existsSync(join(dir, 'registry.car'))).toBe(false)
  })

  test('bad input: a clear message naming the input, exit 1, no CAR', async () => {
    const r = await ipcr('push', '--file', 'missing.tar', '--name', 'x', '--car', 'x.car')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^ipcr: --file: cannot read '.*missing\.tar': ENOENT/)
    expect(existsSync(join(dir, 'x.car'))).toBe(false)
    const scope = await ipcr('push', '--file', 'missing.tar', '--car-scope', 'all')
    expect(scope.stderr).toContain("ipcr: --car-scope: 'all' is not a CAR scope")
    const unknown = await ipcr('push', '--nope')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("unknown option '--nope'")
    expect((await ipcr('frobnicate')).code).toBe(2)
  })
})
