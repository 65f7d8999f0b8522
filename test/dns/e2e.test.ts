import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKey } from '../../src/core/ipns/keys.js'
import { runAction } from '../helpers/action.js'
import { startBind, type BindServer } from '../helpers/bind.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { runCli } from '../helpers/process.js'

// The whole job with real servers on loopback: an image into Kubo, an IPNS record signed here
// (routing put to Kubo), and the DNSLink through RFC 2136 at BIND 9; then back from the domain:
// domain → IPNS name → root → tag folder.
let dir: string
let layout: string
let layout2: string
let keyFile: string
let name: string
let bind: BindServer
let kubo: KuboNode

beforeAll(async () => {
  dir = await makeTempDir('ipcr-dnslink-e2e-')
  layout = join(dir, 'layout')
  layout2 = join(dir, 'layout2')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'dnslink e2e one\n' } }] })
  await buildOciLayout(layout2, { tag: 'v2', layers: [{ files: { 'a.txt': 'dnslink e2e two\n' } }] })
  const key = await generateKey('ed25519')
  name = key.name
  keyFile = join(dir, 'registry.key')
  await writeFile(keyFile, key.key.bytes)
  ;[bind, kubo] = await Promise.all([
    startBind(['_dnslink.registry IN TXT "owner=ops"', '_dnslink.two IN TXT "dnslink=/ipfs/bafyone"', '_dnslink.two IN TXT "dnslink=/ipfs/bafytwo"']),
    startKubo({ offline: false })
  ])
})

afterAll(async () => {
  await Promise.all([bind?.stop(), kubo?.stop()])
  await rm(dir, { recursive: true, force: true })
})

function cliEnv (tsig: string): NodeJS.ProcessEnv {
  return { ...process.env, IPCR_RFC2136_TSIG: tsig, GITHUB_EVENT_NAME: '', GITHUB_EVENT_PATH: '' }
}

describe('publish with Kubo, IPNS and DNSLink (BIND), then resolve from the domain', () => {
  const domain = 'registry.example.test'
  const push = (file: string, tag: string): string[] => [
    'push', '--file', file, '--name', 'team/app', '--tag', tag, '--json',
    '--kubo-rpc-url', kubo.apiUrl, '--ipns-private-key-file', keyFile,
    '--dnslink-domain', domain, '--dns-provider', 'rfc2136', '--rfc2136-server', bind.server
  ]

  test('the domain names the IPNS name, which names the root, which holds the tag folder; a second publish leaves DNS alone', async () => {
    const first = await runCli(push(layout, 'v1'), dir, cliEnv(bind.tsig))
    expect(first.stderr).not.toContain(bind.tsig.split(':')[2] as string)
    expect(first.code).toBe(0)
    const one = JSON.parse(first.stdout)
    const dnslink = one.names.find((n: { kind: string }) => n.kind === 'dnslink')
    expect(dnslink).toMatchObject({ name: domain, value: `dnslink=/ipns/${name}`, changed: true })
    expect(one.names.map((n: { kind: string }) => n.kind)).toEqual(['ipns', 'dnslink'])
    // The other TXT value at the name is kept.
    expect((await bind.dig(`_dnslink.${domain}`)).sort()).toEqual([`"dnslink=/ipns/${name}"`, '"owner=ops"'])

    // From the domain: the resolver gives /ipns/<name>, Kubo's routing its record (checked), the record the root.
    const got = await runCli(['dnslink', 'get', domain, '--dns-resolver', bind.server, '--kubo-rpc-url', kubo.apiUrl, '--json'], dir)
    expect(got.code).toBe(0)
    const resolved = JSON.parse(got.stdout)
    expect(resolved).toMatchObject({ record: `_dnslink.${domain}`, value: `dnslink=/ipns/${name}`, ipnsName: name, root: one.rootCid })
    expect(resolved.path).toEqual([`/ipns/${name}`, `/ipfs/${one.rootCid}`])
    // The root holds the tag folder the recipe pulls: its index names the published manifest.
    const index = JSON.parse(await kubo.ipfs('cat', `/ipfs/${resolved.root as string}/team/app/tags/v1/index.json`))
    expect(index.manifests[0].digest).toBe(one.digest)

    // A second publish reads the previous root from the name; the DNSLink already holds the name: no DNS change.
    const serial = await bind.serial()
    const second = await runCli(push(layout2, 'v2'), dir, cliEnv(bind.tsig))
    expect(second.code).toBe(0)
    const two = JSON.parse(second.stdout)
    expect(two.previousRoot).toBe(one.rootCid)
    expect(two.names.find((n: { kind: string }) => n.kind === 'dnslink')).toMatchObject({ changed: false, targets: [{ detail: 'unchanged' }] })
    expect(await bind.serial()).toBe(serial)
    const again = JSON.parse((await runCli(['dnslink', 'get', domain, '--dns-resolver', bind.server, '--kubo-rpc-url', kubo.apiUrl, '--json'], dir)).stdout)
    expect(again.root).toBe(two.rootCid)
    for (const tag of ['v1', 'v2']) expect(await kubo.ipfs('cat', `/ipfs/${again.root as string}/team/app/tags/${tag}/manifest.json`)).toContain('"Config"')
  })

  test('a wrong TSIG secret, a key without rights, or a name with two dnslink values fails before anything is published', async () => {
    // Kubo lists pins in no fixed order.
    const pins = async (): Promise<string[]> => (await kubo.ipfs('pin', 'ls', '--type=recursive', '-q')).split('\n').filter((l) => l !== '').sort()
    const before = await pins()
    const serial = await bind.serial()
    const forged = `hmac-sha256:ipcr-key:${Buffer.alloc(32, 7).toString('base64')}`
    const wrongSecret = await runCli(push(layout, 'bad'), dir, cliEnv(forged))
    expect(wrongSecret.code).toBe(1)
    expect(wrongSecret.stderr).toMatch(/^ipcr: RFC 2136 server 127\.0\.0\.1:\d+.*(NOTAUTH|BADSIG|TSIG)/m)
    expect(wrongSecret.stderr).not.toContain(forged.split(':')[2] as string)
    // other-key is known to the server but may change nothing: refused at the check, though this publish would change no record.
    const noRights = await runCli(push(layout, 'bad'), dir, cliEnv(bind.otherTsig))
    expect(noRights.code).toBe(1)
    expect(noRights.stderr).toMatch(/^ipcr: RFC 2136 server .*REFUSED/m)
    expect(noRights.stderr).not.toContain(bind.otherTsig.split(':')[2] as string)
    const two = await runCli([...push(layout, 'bad'), '--dnslink-domain', 'two.example.test'], dir, cliEnv(bind.tsig))
    expect(two.code).toBe(1)
    expect(two.stderr).toMatch(/_dnslink\.two\.example\.test has 2 dnslink= TXT values .*Nothing was changed/)
    // Nothing stored, no name moved, the zone as it was.
    expect(await pins()).toEqual(before)
    expect(await bind.serial()).toBe(serial)
    expect((await bind.dig('_dnslink.two.example.test')).sort()).toEqual(['"dnslink=/ipfs/bafyone"', '"dnslink=/ipfs/bafytwo"'])
  })
})

describe('the action with DNSLink to the root (no IPNS)', () => {
  const domain = 'plain.example.test'
  const inputs = (file: string, tag: string): Record<string, string> => ({
    'image-file': file,
    name: 'team/app',
    tags: tag,
    'kubo-rpc-url': kubo.apiUrl,
    'dnslink-domain': domain,
    'dns-provider': 'rfc2136',
    'rfc2136-server': bind.server,
    'rfc2136-tsig': bind.tsig
  })
  const secret = (): string => bind.tsig.split(':')[2] as string

  test('writes dnslink=/ipfs/<root>, sets the outputs, masks the key; the next run reads its previous root from the record', async () => {
    const first = await runAction(inputs(layout, 'v1'), { GITHUB_EVENT_NAME: 'push' })
    expect(first.code).toBe(0)
    const root = first.outputs['root-cid'] as string
    expect(first.outputs['dnslink-record']).toBe(`dnslink=/ipfs/${root}`)
    expect(first.outputs['dnslink-changed']).toBe('true')
    expect(await bind.dig(`_dnslink.${domain}`)).toEqual([`"dnslink=/ipfs/${root}"`])
    expect(first.stdout).toContain(`::add-mask::${secret()}`)
    // The key is read (and masked) once.
    expect(first.stdout.split('\n').filter((l) => l === `::add-mask::${bind.tsig}`)).toHaveLength(1)
    expect(first.stdout.split('\n').filter((l) => l.includes(secret())).every((l) => l.startsWith('::add-mask::'))).toBe(true)
    expect(JSON.stringify(first.outputs) + first.summary).not.toContain(secret())
    expect(first.summary).toContain(`<td>DNSLink ${domain} (RFC 2136 server ${bind.server} (zone example.test.)) → TXT &#95;dnslink.${domain}</td><td>ok: created</td>`)

    const second = await runAction(inputs(layout2, 'v2'), { GITHUB_EVENT_NAME: 'push' })
    expect(second.code).toBe(0)
    expect(JSON.parse(second.outputs.metadata as string).previousRoot).toBe(root)
    expect(second.outputs['dnslink-record']).toBe(`dnslink=/ipfs/${second.outputs['root-cid'] as string}`)
    expect(second.outputs['dnslink-changed']).toBe('true')
    expect(await kubo.ipfs('cat', `/ipfs/${second.outputs['root-cid'] as string}/team/app/tags/v1/index.json`)).toContain('manifests')
  })

  test('an untrusted trigger is refused before anything is published, unless allowed', async () => {
    const event = join(dir, 'event.json')
    await writeFile(event, JSON.stringify({ pull_request: { head: { repo: { full_name: 'fork/app' } }, base: { repo: { full_name: 'team/app' } } } }))
    const before = await bind.dig(`_dnslink.${domain}`)
    const refused = await runAction(inputs(layout, 'pr'), { GITHUB_EVENT_NAME: 'pull_request_target', GITHUB_EVENT_PATH: event })
    expect(refused.code).toBe(1)
    expect(refused.stdout).toMatch(/::error::Input 'dnslink-allow-untrusted': .*pull_request_target/)
    expect(refused.outputs['root-cid']).toBeUndefined()
    expect(await bind.dig(`_dnslink.${domain}`)).toEqual(before)
    const allowed = await runAction({ ...inputs(layout, 'pr'), 'dnslink-allow-untrusted': 'true' }, { GITHUB_EVENT_NAME: 'pull_request_target', GITHUB_EVENT_PATH: event })
    expect(allowed.code).toBe(0)
    expect(allowed.stdout).toMatch(/::warning::.*changing DNS although/)
    expect(await bind.dig(`_dnslink.${domain}`)).toEqual([`"dnslink=/ipfs/${allowed.outputs['root-cid'] as string}"`])
    expect(await readFile(event, 'utf8')).toContain('fork/app')
  })
})
