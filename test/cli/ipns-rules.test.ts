import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKey } from '../../src/core/ipns/keys.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { runAction } from '../helpers/action.js'
import { runCli } from '../helpers/process.js'
import { expectRefusedInBothShells, type RuleCase } from '../helpers/rules.js'

// The rules between the IPNS options (src/options/rules.ts), each in both shells' names:
// the CLI's flags (push, republish) and the action's inputs (mode: publish, republish).
let dir: string
let layout: string
let keyFile: string
let keyBase64: string
let name: string
const router = 'http://127.0.0.1:9'

beforeAll(async () => {
  dir = await makeTempDir('ipcr-ipns-rules-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'rules\n' } }] })
  const generated = await generateKey('ed25519')
  name = generated.name
  keyFile = join(dir, 'k.key')
  await writeFile(keyFile, generated.key.bytes)
  keyBase64 = Buffer.from(generated.key.bytes).toString('base64')
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

/** In `cli` and `action`: L = the layout, K = the key file, B = the key in base64, N = the name. */
const cases: RuleCase[] = [
  {
    what: 'republish without a name',
    cli: ['republish', '--ipns-router', router],
    action: { mode: 'republish', 'ipns-routers': router },
    cliSays: /^ipcr: --ipns-name: republish needs a name: set --ipns-name, --ipns-private-key-file \(its name\) or --ipns-key/m,
    actionSays: /::error::Input 'ipns-name': republish needs a name: set 'ipns-name', 'ipns-private-key' \(its name\) or 'ipns-key'/
  },
  {
    what: 'republish with nowhere to put records (gateways are read-only)',
    cli: ['republish', '--ipns-name', 'N', '--gateway', router],
    action: { mode: 'republish', 'ipns-name': 'N', gateways: router },
    cliSays: /^ipcr: --ipns-router: republish needs somewhere to read and put records: set --kubo-rpc-url or --ipns-router \(gateways are read-only\)/m,
    actionSays: /::error::Input 'ipns-routers': republish needs somewhere to read and put records: set 'kubo-rpc-url' or 'ipns-routers'/
  },
  {
    what: 'a key signed here with nowhere to put the record',
    cli: ['push', '--file', 'L', '--ipns-private-key-file', 'K'],
    action: { 'image-file': 'L', 'ipns-private-key': 'B' },
    cliSays: /^ipcr: --ipns-private-key-file: records signed here need somewhere to go: set --kubo-rpc-url \(routing put\) or --ipns-router/m,
    actionSays: /::error::Input 'ipns-private-key': records signed here need somewhere to go: set 'kubo-rpc-url' \(routing put\) or 'ipns-routers'/
  },
  {
    what: 'the key from $IPCR_IPNS_PRIVATE_KEY counts as given',
    cli: ['push', '--file', 'L'],
    cliEnv: { IPCR_IPNS_PRIVATE_KEY: 'B' },
    action: { 'image-file': 'L', 'ipns-private-key': 'B' },
    cliSays: /^ipcr: --ipns-private-key-file: records signed here need somewhere to go/m,
    actionSays: /::error::Input 'ipns-private-key': records signed here need somewhere to go/
  },
  {
    what: 'a keystore key without Kubo',
    cli: ['push', '--file', 'L', '--ipns-key', 'registry', '--ipns-router', router],
    action: { 'image-file': 'L', 'ipns-key': 'registry', 'ipns-routers': router },
    cliSays: /^ipcr: --ipns-key: a key in Kubo's keystore needs --kubo-rpc-url \(to sign records without a daemon, give --ipns-private-key-file alone\)/m,
    actionSays: /::error::Input 'ipns-key': a key in Kubo's keystore needs 'kubo-rpc-url'/
  },
  {
    what: 'ipns-ttl without a key',
    cli: ['push', '--file', 'L', '--ipns-name', 'N', '--ipns-router', router, '--ipns-ttl', '1m'],
    action: { 'image-file': 'L', 'ipns-name': 'N', 'ipns-routers': router, 'ipns-ttl': '1m' },
    cliSays: /^ipcr: --ipns-ttl: --ipns-ttl applies to records signed with a key: set --ipns-private-key-file or --ipns-key too/m,
    actionSays: /::error::Input 'ipns-ttl': 'ipns-ttl' applies to records signed with a key: set 'ipns-private-key' or 'ipns-key' too/
  },
  {
    what: 'ipns-refresh-within longer than the lifetime given',
    cli: ['republish', '--ipns-private-key-file', 'K', '--ipns-router', router, '--ipns-lifetime', '12h', '--ipns-refresh-within', '24h'],
    action: { mode: 'republish', 'ipns-private-key': 'B', 'ipns-routers': router, 'ipns-lifetime': '12h', 'ipns-refresh-within': '24h' },
    cliSays: /^ipcr: --ipns-refresh-within: '24h' is longer than --ipns-lifetime \(12h\)/m,
    actionSays: /::error::Input 'ipns-refresh-within': '24h' is longer than 'ipns-lifetime' \(12h\)/
  },
  {
    what: 'ipns-refresh-within longer than the default lifetime',
    cli: ['republish', '--ipns-private-key-file', 'K', '--ipns-router', router, '--ipns-refresh-within', '72h'],
    action: { mode: 'republish', 'ipns-private-key': 'B', 'ipns-routers': router, 'ipns-refresh-within': '72h' },
    cliSays: /^ipcr: --ipns-refresh-within: '72h' is longer than --ipns-lifetime \(48h\)/m,
    actionSays: /::error::Input 'ipns-refresh-within': '72h' is longer than 'ipns-lifetime' \(48h\)/
  },
  {
    what: 'a duration that is not one',
    cli: ['push', '--file', 'L', '--ipns-private-key-file', 'K', '--ipns-router', router, '--ipns-ttl', '2 days'],
    action: { 'image-file': 'L', 'ipns-private-key': 'B', 'ipns-routers': router, 'ipns-ttl': '2 days' },
    cliSays: /^ipcr: --ipns-ttl: '2 days' is not a duration/m,
    actionSays: /::error::Input 'ipns-ttl': '2 days' is not a duration/
  },
  {
    what: 'a name that is not one',
    cli: ['republish', '--ipns-name', 'example.com', '--ipns-router', router],
    action: { mode: 'republish', 'ipns-name': 'example.com', 'ipns-routers': router },
    cliSays: /^ipcr: --ipns-name: 'example\.com' is not an IPNS name/m,
    actionSays: /::error::Input 'ipns-name': 'example\.com' is not an IPNS name/
  },
  {
    what: 'a router that is not a URL',
    cli: ['republish', '--ipns-name', 'N', '--ipns-router', 'ftp://router.example'],
    action: { mode: 'republish', 'ipns-name': 'N', 'ipns-routers': 'ftp://router.example' },
    cliSays: /^ipcr: --ipns-router: 'ftp:\/\/router\.example' must be an http:\/\/ or https:\/\/ URL/m,
    actionSays: /::error::Input 'ipns-routers': 'ftp:\/\/router\.example' must be an http:\/\/ or https:\/\/ URL/
  }
]

describe('IPNS option rules, in each shell\'s names', () => {
  test.each(cases)('$what', async ({ cli, cliEnv, action, ...says }) => {
    const fill = (v: string): string => v === 'L' ? layout : v === 'K' ? keyFile : v === 'B' ? keyBase64 : v === 'N' ? name : v
    const filled = { ...says, cli: cli.map(fill), cliEnv: Object.fromEntries(Object.entries(cliEnv ?? {}).map(([k, v]) => [k, fill(v)])), action: Object.fromEntries(Object.entries(action).map(([k, v]) => [k, fill(v)])) }
    const r = await expectRefusedInBothShells(filled, dir)
    expect(r.cli.stderr).not.toContain(keyBase64)
    expect(r.action.stdout).not.toContain(keyBase64)
    expect(r.action.outputs['ipns-name'] ?? '').toBe('')
  })

  test('the action\'s mode is publish or republish', async () => {
    const a = await runAction({ mode: 'refresh', 'image-file': layout })
    expect(a.code).toBe(1)
    expect(a.stdout).toMatch(/::error::Input 'mode': 'refresh' is not a mode \(expected publish or republish\)/)
  })

  test('ipns-refresh-within without a key is refused on a publish (the CLI\'s push has no such flag) and only warns by it on republish', async () => {
    const a = await runAction({ 'image-file': layout, 'ipns-name': name, 'ipns-routers': router, 'ipns-refresh-within': '1h' })
    expect(a.code).toBe(1)
    expect(a.stdout).toMatch(/::error::Input 'ipns-refresh-within': 'ipns-refresh-within' applies to republish \(mode: republish, ipcr republish\) and to records signed with a key/)
    const r = await runCli(['republish', '--ipns-name', name, '--ipns-router', router, '--ipns-refresh-within', '1h'], dir)
    expect(r.stderr).not.toContain('--ipns-refresh-within')
    expect(r.stderr).toContain(`No valid IPNS record for /ipns/${name}`)
  })

  test('the CLI takes the key once: a file or $IPCR_IPNS_PRIVATE_KEY, not both', async () => {
    const c = await runCli(['republish', '--ipns-private-key-file', keyFile, '--ipns-router', router], dir, { ...process.env, IPCR_IPNS_PRIVATE_KEY: keyBase64 })
    expect(c.code).toBe(1)
    expect(c.stderr).toMatch(/^ipcr: --ipns-private-key-file: give the key once: in the file or in \$IPCR_IPNS_PRIVATE_KEY, not both/m)
    expect(c.stderr).not.toContain(keyBase64)
  })

  test('republish needs no image: with a name and a router the rules pass (the action reads no image input)', async () => {
    // What republish then does is core's (src/core/ipns/republish.ts); here only that no image rule fires.
    // Port 9 refuses connections: republish itself fails, after the rules.
    const c = await runCli(['republish', '--ipns-name', name, '--ipns-router', router], dir)
    expect(c.code).toBe(1)
    expect(c.stderr).toMatch(/^ipcr: /m)
    expect(c.stderr).not.toMatch(/IMAGE|--file|unknown command/)
    const a = await runAction({ mode: 'republish', 'ipns-name': name, 'ipns-routers': router })
    expect(a.code).toBe(1)
    expect(a.stdout).toMatch(/::error::/)
    expect(a.stdout).not.toMatch(/Input 'image'/)
  })
})

describe('--help answers the IPNS questions', () => {
  test('push, republish and key: which key formats, how to get a name, what republish does without the key', async () => {
    const push = await runCli(['push', '--help'], dir)
    const republish = await runCli(['republish', '--help'], dir)
    const key = await runCli(['key', '--help'], dir)
    for (const r of [push, republish, key]) {
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/Ed25519.*RSA|Ed25519 \(default\) or RSA/s)
      expect(r.stdout).toContain('pem-pkcs8-cleartext')
      expect(r.stdout).toContain("'ipfs key export'")
    }
    for (const r of [push, republish]) {
      expect(r.stdout).toContain("'ipcr key name KEYFILE' prints it")
      expect(r.stdout).toContain('IPCR_IPNS_PRIVATE_KEY')
    }
    expect(republish.stdout).toMatch(/Without the key: the existing record is put again unchanged/)
    expect(push.stdout).toContain('no public router is a default')
    const generate = await runCli(['key', 'generate', '--help'], dir)
    expect(generate.stdout).toContain('mode 0600')
  })
})
