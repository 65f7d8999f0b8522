import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { cliPath, runCli, type Finished } from '../helpers/process.js'

let dir: string
let kubo: KuboNode

beforeAll(async () => {
  dir = await makeTempDir('ipcr-key-')
  kubo = await startKubo()
})
afterAll(async () => {
  await kubo.stop()
  await rm(dir, { recursive: true, force: true })
})

async function ipcr (args: string[]): Promise<Finished> {
  return await runCli(args, dir)
}

/** Runs the CLI with `input` on stdin. */
async function ipcrWithStdin (args: string[], input: Uint8Array): Promise<Finished> {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c) => { stdout += String(c) })
  child.stderr.on('data', (c) => { stderr += String(c) })
  child.stdin.end(input)
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
  return { code, stdout, stderr }
}

/** The names Kubo lists for its keys, by key name. */
async function kuboNames (): Promise<Map<string, string>> {
  const lines = (await kubo.ipfs('key', 'list', '-l', '--ipns-base', 'base36')).trim().split('\n')
  return new Map(lines.map((l) => { const [name, key] = l.trim().split(/\s+/); return [key as string, name as string] }))
}

describe('ipcr key generate', () => {
  test.each(['ed25519', 'rsa'])('-o FILE (%s): a new 0600 file Kubo imports under the name printed on stdout; nothing else printed', async (type) => {
    const file = join(dir, `${type}.key`)
    const r = await ipcr(['key', 'generate', '--type', type, '-o', file])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const name = r.stdout.trim()
    expect(name).toMatch(type === 'ed25519' ? /^k51[a-z0-9]+$/ : /^k[a-z0-9]+$/)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    await kubo.ipfs('key', 'import', `gen-${type}`, file)
    expect((await kuboNames()).get(`gen-${type}`)).toBe(name)
    // The key's bytes and their base64 are nowhere in what was printed.
    const bytes = await readFile(file)
    expect(r.stdout).not.toContain(bytes.toString('base64'))
  })

  test('never overwrites a file', async () => {
    const file = join(dir, 'existing.key')
    await writeFile(file, 'keep me')
    const r = await ipcr(['key', 'generate', '-o', file])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^ipcr: --output: '.*existing\.key' exists: a key file is never overwritten/)
    expect(await readFile(file, 'utf8')).toBe('keep me')
  })

  test('without -o: base64 of the key on stdout (for a secret), its name on stderr; Kubo imports it under that name', async () => {
    const r = await ipcr(['key', 'generate'])
    expect(r.code).toBe(0)
    const name = r.stderr.trim()
    expect(name).toMatch(/^k51[a-z0-9]+$/)
    const file = join(dir, 'from-stdout.key')
    await writeFile(file, Buffer.from(r.stdout.trim(), 'base64'))
    await kubo.ipfs('key', 'import', 'from-stdout', file)
    expect((await kuboNames()).get('from-stdout')).toBe(name)
    // '-o -' is the same.
    const dash = await ipcr(['key', 'generate', '-o', '-'])
    expect(dash.code).toBe(0)
    expect(dash.stderr.trim()).toMatch(/^k51/)
    expect(dash.stdout.trim()).toMatch(/^[A-Za-z0-9+/=]+$/)
  })

  test('an unknown type names --type', async () => {
    const r = await ipcr(['key', 'generate', '--type', 'secp256k1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^ipcr: --type: 'secp256k1' is not a key type \(expected ed25519 or rsa\)/)
  })
})

describe('ipcr key name', () => {
  test.each(['ed25519', 'rsa'])('prints the name Kubo shows for a %s key it exported, in both formats, from a file, base64 and stdin', async (type) => {
    const id = (await kubo.ipfs('key', 'gen', '--type', type, '--ipns-base', 'base36', `kubo-${type}`)).trim()
    const protobuf = join(dir, `kubo-${type}.key`)
    const pem = join(dir, `kubo-${type}.pem`)
    await kubo.ipfs('key', 'export', `kubo-${type}`, '-o', protobuf)
    await kubo.ipfs('key', 'export', `kubo-${type}`, '-f', 'pem-pkcs8-cleartext', '-o', pem)
    const base64 = join(dir, `kubo-${type}.b64`)
    await writeFile(base64, (await readFile(protobuf)).toString('base64'))
    for (const file of [protobuf, pem, base64]) {
      const r = await ipcr(['key', 'name', file])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(r.stdout.trim()).toBe(id)
    }
    const piped = await ipcrWithStdin(['key', 'name', '-'], await readFile(protobuf))
    expect(piped.code).toBe(0)
    expect(piped.stdout.trim()).toBe(id)
  })

  test('not a key: an error naming FILE that does not echo the text', async () => {
    const file = join(dir, 'not-a-key.txt')
    await writeFile(file, 'hunter2 is not a key\n')
    const r = await ipcr(['key', 'name', file])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^ipcr: FILE: expected a PEM PKCS#8 private key or base64 of a libp2p protobuf private key/)
    expect(r.stderr).not.toContain('hunter2')
    const missing = await ipcr(['key', 'name', join(dir, 'missing.key')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^ipcr: FILE: cannot read '.*missing\.key': ENOENT/)
  })
})
