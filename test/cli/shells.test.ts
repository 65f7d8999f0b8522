import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { mkdir, rm, symlink } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { buildOciLayout, dockerBuild, dockerRemove, makeTempDir, uniqueName } from '../helpers/images.js'
import { runAction } from '../helpers/action.js'
import { startKubo } from '../helpers/kubo.js'
import { runCli, type Finished } from '../helpers/process.js'

let dir: string
let layout: string

beforeAll(async () => {
  dir = await makeTempDir('ipcr-shells-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'shells\n' } }] })
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

async function ipcr (args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Finished> {
  return await runCli(args, dir, env)
}

/** Where a program is on PATH. */
function which (command: string): string {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) if (folder !== '' && existsSync(join(folder, command))) return join(folder, command)
  throw new Error(`${command} is not on PATH`)
}

describe('usage mistakes', () => {
  test('an unknown flag or command: the closest one, a pointer to --help, exit 2', async () => {
    const flag = await ipcr(['push', '--fil', 'x.tar'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain("unknown option '--fil'")
    expect(flag.stderr).toContain('Did you mean --file?')
    expect(flag.stderr).toContain("Run 'ipcr push --help'")
    const command = await ipcr(['pussh'])
    expect(command.code).toBe(2)
    expect(command.stderr).toContain('Did you mean push?')
  })

  test('no arguments: the usage on stderr, exit 2', async () => {
    const r = await ipcr([])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Usage: ipcr')
    expect(r.stderr).toContain('push')
    expect(r.stdout).toBe('')
  })

  test('--help says where secrets come from and shows examples', async () => {
    const r = await ipcr(['push', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('IPCR_KUBO_RPC_HEADERS')
    expect(r.stdout).toContain('Examples:')
    expect(r.stdout).toContain('--container-cli')
  })
})

describe('each shell names its own flags and inputs', () => {
  const cases: Array<{ what: string, cli: string[], action: Record<string, string>, cliSays: RegExp, actionSays: RegExp }> = [
    { what: 'a missing image file', cli: ['--file', 'missing.tar'], action: { 'image-file': 'missing.tar' }, cliSays: /^ipcr: --file: cannot read/m, actionSays: /::error::Input 'image-file': cannot read/ },
    { what: 'a bad tag', cli: ['--file', 'L', '--tag', '-bad'], action: { 'image-file': 'L', tags: '-bad' }, cliSays: /^ipcr: --tag: tag '-bad' starts with '-'/m, actionSays: /::error::Input 'tags': tag '-bad' starts with '-'/ },
    { what: 'a bad gateway', cli: ['--file', 'L', '--gateway', 'ftp://x'], action: { 'image-file': 'L', gateways: 'ftp://x' }, cliSays: /^ipcr: --gateway: /m, actionSays: /::error::Input 'gateways': / },
    { what: 'a bad size', cli: ['--file', 'L', '--max-decompressed-size', 'lots'], action: { 'image-file': 'L', 'max-decompressed-size': 'lots' }, cliSays: /^ipcr: --max-decompressed-size: 'lots' is not a size/m, actionSays: /::error::Input 'max-decompressed-size': 'lots' is not a size/ },
    { what: 'a key signed here with nowhere to put the record', cli: ['--file', 'L', '--ipns-private-key-file', 'k.key'], action: { 'image-file': 'L', 'ipns-private-key': 'abc' }, cliSays: /^ipcr: --ipns-private-key-file: records signed here need somewhere to go: set --kubo-rpc-url \(routing put\) or --ipns-router/m, actionSays: /::error::Input 'ipns-private-key': records signed here need somewhere to go: set 'kubo-rpc-url' \(routing put\) or 'ipns-routers'/ },
    { what: 'neither image nor file', cli: [], action: {}, cliSays: /^ipcr: IMAGE: set IMAGE .* or --file/m, actionSays: /::error::Input 'image': set 'image' .* or 'image-file'/ },
    { what: 'headers without a Kubo URL', cli: ['--file', 'L', '--kubo-rpc-header', 'Authorization: Bearer x'], action: { 'image-file': 'L', 'kubo-rpc-headers': 'Authorization: Bearer x' }, cliSays: /^ipcr: --kubo-rpc-header: set --kubo-rpc-url too/m, actionSays: /::error::Input 'kubo-rpc-headers': set 'kubo-rpc-url' too/ }
  ]
  test.each(cases)('$what', async ({ cli: args, action, cliSays, actionSays }) => {
    const fill = (v: string): string => v === 'L' ? layout : v
    const c = await ipcr(['push', ...args.map(fill), '--car', 'never.car'])
    expect(c.code).toBe(1)
    expect(c.stderr).toMatch(cliSays)
    expect(c.stderr).not.toContain("Input '")
    expect(existsSync(join(dir, 'never.car'))).toBe(false)
    const a = await runAction(Object.fromEntries(Object.entries(action).map(([k, v]) => [k, fill(v)])))
    expect(a.code).toBe(1)
    expect(a.stdout).toMatch(actionSays)
  })
})

test('get names its own --car, not push\'s --previous-car', async () => {
  const r = await ipcr(['get', '--car', 'missing.car', '/ipfs/bafkqaaa', '-o', 'never'])
  expect(r.code).toBe(1)
  expect(r.stderr).toMatch(/^ipcr: --car: cannot read '.*missing\.car' as a CAR file/)
  expect(existsSync(join(dir, 'never'))).toBe(false)
})

describe('booleans as @actions/core reads them', () => {
  test('True and TRUE are true, FALSE is false; anything else names the input', async () => {
    const upper = await runAction({ 'image-file': layout, name: 'team/app', summary: 'TRUE' })
    expect(upper.code).toBe(0)
    expect(upper.summary).toContain('Published')
    const capital = await runAction({ 'image-file': layout, name: 'team/app', summary: 'True' })
    expect(capital.code).toBe(0)
    expect(capital.summary).toContain('Published')
    const off = await runAction({ 'image-file': layout, name: 'team/app', summary: 'FALSE' })
    expect(off.code).toBe(0)
    expect(off.summary).toBe('')
    const bad = await runAction({ 'image-file': layout, summary: 'yes' })
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(/::error::Input 'summary': 'yes' is not a boolean \(expected true or false/)
  })
})

describe('container-cli', () => {
  test('with no docker on PATH, image is exported with podman (CLI and action)', async () => {
    const ref = `localhost/${uniqueName('ipcr-podman')}:1`
    await dockerBuild(ref, { 'p.txt': 'podman\n' })
    const bin = join(dir, 'bin-podman-only')
    await mkdir(bin, { recursive: true })
    await symlink(which('podman'), join(bin, 'podman'))
    const env = { HOME: process.env.HOME, PATH: bin }
    try {
      const c = await ipcr(['push', ref, '--car', 'podman.car', '--json'], env)
      expect(c.stderr).not.toContain('docker: command not found')
      expect(c.code).toBe(0)
      expect(JSON.parse(c.stdout).name).toBe(ref.slice('localhost/'.length, -2))
      const a = await runAction({ image: ref }, { PATH: bin, DOCKER_HOST: undefined })
      expect(a.stdout).toContain('[command]podman save')
      expect(a.code).toBe(0)
      // Asked for by name, a missing command says which.
      const named = await ipcr(['push', ref, '--container-cli', 'nerdctl', '--car', 'n.car'], env)
      expect(named.code).toBe(1)
      expect(named.stderr).toContain('Cannot run the nerdctl CLI')
    } finally {
      await dockerRemove(ref)
    }
  })
})

describe('--ipns-private-key-file', () => {
  test('takes the binary file ipfs key export writes, as written; the result reads as words', async () => {
    const source = await startKubo()
    const target = await startKubo()
    try {
      const id = (await source.ipfs('key', 'gen', '--ipns-base', 'base36', 'registry')).trim()
      const keyFile = join(dir, 'registry.key')
      await source.ipfs('key', 'export', 'registry', '-o', keyFile)
      const r = await ipcr(['push', '--file', layout, '--name', 'team/app', '--car', 'ipns.car', '--json',
        '--kubo-rpc-url', target.apiUrl, '--ipns-key', 'registry', '--ipns-private-key-file', keyFile])
      expect(r.stderr).not.toMatch(/^ipcr: /m)
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout).names[0].name).toBe(id)
      expect(await target.ipfs('key', 'list', '-l', '--ipns-base', 'base36')).toContain(id)
      // Human output, written for people (the same words as the job summary): no JavaScript keys.
      const human = await ipcr(['push', '--file', layout, '--name', 'team/app', '--tag', '2', '--car', 'human.car', '--kubo-rpc-url', target.apiUrl])
      expect(human.code).toBe(0)
      expect(human.stdout).toContain('pin name “ipcr registry”')
      expect(human.stdout).toMatch(/\d+ blocks imported/)
      expect(human.stdout).not.toMatch(/\b[a-z]+[A-Z][A-Za-z]*:/)
    } finally {
      await source.stop()
      await target.stop()
    }
  })
})
