import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { startPowerDns, type PowerDnsServer } from '../helpers/powerdns.js'
import { runCli } from '../helpers/process.js'
import { expectRefusedInBothShells, type RuleCase } from '../helpers/rules.js'

// The DNSLink options in both shells' names, and `ipcr dnslink set|get` against a real PowerDNS.
let dir: string
let layout: string
let pdns: PowerDnsServer
const ROOT = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'

beforeAll(async () => {
  dir = await makeTempDir('ipcr-dnslink-cli-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'dnslink rules\n' } }] })
  pdns = await startPowerDns([{ name: 'example.test', records: ['_dnslink.reg IN TXT "owner=ops"'] }])
})
afterAll(async () => {
  await pdns?.stop()
  await rm(dir, { recursive: true, force: true })
})

/** Each a push of the layout with these options (the action: image-file the layout). */
const cases: RuleCase[] = [
  {
    what: 'a provider without a domain',
    cli: ['--dns-provider', 'rfc2136'],
    action: { 'dns-provider': 'rfc2136' },
    cliSays: /^ipcr: --dns-provider: set --dnslink-domain too/m,
    actionSays: /::error::Input 'dns-provider': set 'dnslink-domain' too/
  },
  {
    what: 'an unknown provider',
    cli: ['--dnslink-domain', 'reg.example.test', '--dns-provider', 'godaddy'],
    action: { 'dnslink-domain': 'reg.example.test', 'dns-provider': 'godaddy' },
    cliSays: /^ipcr: --dns-provider: 'godaddy' is not a DNS provider \(expected one of cloudflare, route53, dnsimple, powerdns, rfc2136\)/m,
    actionSays: /::error::Input 'dns-provider': 'godaddy' is not a DNS provider/
  },
  {
    what: 'another provider\'s option',
    cli: ['--dnslink-domain', 'reg.example.test', '--dns-provider', 'powerdns', '--rfc2136-server', '127.0.0.1'],
    action: { 'dnslink-domain': 'reg.example.test', 'dns-provider': 'powerdns', 'rfc2136-server': '127.0.0.1' },
    cliSays: /^ipcr: --rfc2136-server: --rfc2136-server is not an option of the powerdns provider \(--dns-provider\); it belongs to rfc2136/m,
    actionSays: /::error::Input 'rfc2136-server': 'rfc2136-server' is not an option of the powerdns provider/
  },
  {
    what: 'a value that changes DNS without a provider',
    cli: ['--dnslink-domain', 'reg.example.test', '--dnslink-ttl', '300'],
    action: { 'dnslink-domain': 'reg.example.test', 'dnslink-ttl': '300' },
    cliSays: /^ipcr: --dnslink-ttl: changing DNS needs --dns-provider \(without one, --dnslink-domain is only read\)/m,
    actionSays: /::error::Input 'dnslink-ttl': changing DNS needs 'dns-provider'/
  },
  {
    what: 'a TTL that is not whole seconds',
    cli: ['--dnslink-domain', 'reg.example.test', '--dns-provider', 'rfc2136', '--dnslink-ttl', '1m'],
    action: { 'dnslink-domain': 'reg.example.test', 'dns-provider': 'rfc2136', 'dnslink-ttl': '1m' },
    cliSays: /^ipcr: --dnslink-ttl: '1m' is not a whole number of seconds/m,
    actionSays: /::error::Input 'dnslink-ttl': '1m' is not a whole number of seconds/
  },
  {
    what: "'ipns' with no IPNS name",
    cli: ['--dnslink-domain', 'reg.example.test', '--dns-provider', 'rfc2136', '--rfc2136-server', '127.0.0.1:9', '--dnslink-value', 'ipns'],
    cliEnv: { IPCR_RFC2136_TSIG: 'hmac-sha256:k:c2VjcmV0c2VjcmV0c2VjcmV0' },
    action: { 'dnslink-domain': 'reg.example.test', 'dns-provider': 'rfc2136', 'rfc2136-server': '127.0.0.1:9', 'rfc2136-tsig': 'hmac-sha256:k:c2VjcmV0c2VjcmV0c2VjcmV0', 'dnslink-value': 'ipns' },
    cliSays: /^ipcr: --dnslink-value: 'ipns' needs an IPNS name: publish one in the same run \(--ipns-private-key-file or --ipns-key\) or give --ipns-name/m,
    actionSays: /::error::Input 'dnslink-value': 'ipns' needs an IPNS name/
  },
  {
    what: 'a provider whose secret is missing',
    cli: ['--dnslink-domain', 'reg.example.test', '--dns-provider', 'powerdns', '--powerdns-api-url', 'http://127.0.0.1:9'],
    action: { 'dnslink-domain': 'reg.example.test', 'dns-provider': 'powerdns', 'powerdns-api-url': 'http://127.0.0.1:9' },
    cliSays: /^ipcr: \$IPCR_POWERDNS_API_KEY: the PowerDNS API key .* is required/m,
    actionSays: /::error::Input 'powerdns-api-key': the PowerDNS API key .* is required/
  }
]

describe('DNSLink option rules, in each shell\'s names, before anything is published', () => {
  test.each(cases)('$what', async (c) => {
    await expectRefusedInBothShells({ ...c, cli: ['push', '--file', layout, ...c.cli], action: { 'image-file': layout, ...c.action } }, dir)
  })
})

describe('ipcr dnslink set and get against PowerDNS', () => {
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, IPCR_POWERDNS_API_KEY: pdns.apiKey, GITHUB_EVENT_NAME: '' })
  const set = (value: string): string[] => ['dnslink', 'set', 'reg.example.test', value, '--dns-provider', 'powerdns', '--powerdns-api-url', pdns.apiUrl]

  test('set creates, then leaves alone, then replaces; other TXT values stay; get reads it back through the server', async () => {
    const created = await runCli(set(ROOT), dir, env())
    expect(created.stderr).not.toContain(pdns.apiKey)
    expect(created.code).toBe(0)
    expect(created.stdout).toMatch(new RegExp(`^Set: dnslink=/ipfs/${ROOT}\\n  TXT _dnslink\\.reg\\.example\\.test: created`))
    expect((await pdns.digTxt('_dnslink.reg.example.test')).sort()).toEqual([`"dnslink=/ipfs/${ROOT}"`, '"owner=ops"'])
    const same = await runCli(set(`/ipfs/${ROOT}`), dir, env())
    expect(same.stdout).toMatch(/^Unchanged: .*\n {2}TXT _dnslink\.reg\.example\.test: unchanged/)
    const other = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8'
    const replaced = await runCli([...set(`dnslink=/ipns/${other}`), '--json'], dir, env())
    expect(JSON.parse(replaced.stdout)).toMatchObject({ kind: 'dnslink', value: `dnslink=/ipns/${other}`, changed: true, targets: [{ detail: 'replaced' }] })

    const got = await runCli(['dnslink', 'get', 'reg.example.test', '--dns-resolver', `127.0.0.1:${pdns.dnsPort}`], dir)
    // Following /ipns/ needs somewhere to read records: none given, so it says so after naming the value.
    expect(got.code).toBe(1)
    expect(got.stderr).toMatch(/^ipcr: _dnslink\.reg\.example\.test links to \/ipns\/k51\S+: reading its record needs a Kubo node, a router or a gateway/m)
    await runCli(set(ROOT), dir, env())
    const root = await runCli(['dnslink', 'get', 'reg.example.test', '--dns-resolver', `127.0.0.1:${pdns.dnsPort}`], dir)
    expect(root.code).toBe(0)
    expect(root.stdout).toBe(`_dnslink.reg.example.test: dnslink=/ipfs/${ROOT}\n  followed  /ipfs/${ROOT}\n  root      ${ROOT}\n`)
  })

  test('bad input: a value that is no link, a domain with none, a missing provider', async () => {
    const bad = await runCli(set('https://example.org'), dir, env())
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^ipcr: VALUE: "https:\/\/example\.org" is not \/ipfs\/<cid>, \/ipns\/<name>, a CID or an IPNS name/m)
    const none = await runCli(['dnslink', 'get', 'none.example.test', '--dns-resolver', `127.0.0.1:${pdns.dnsPort}`], dir)
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/^ipcr: no DNSLink for 'none\.example\.test'/m)
    const noProvider = await runCli(['dnslink', 'set', 'reg.example.test', ROOT], dir, env())
    expect(noProvider.code).toBe(1)
    expect(noProvider.stderr).toMatch(/^ipcr: --dns-provider: set --dns-provider: the provider whose API writes the record/m)
  })

  test('--help says which providers and where their secrets come from', async () => {
    const help = await runCli(['dnslink', '--help'], dir)
    expect(help.code).toBe(0)
    for (const word of ['rfc2136', 'powerdns', 'cloudflare', 'route53', 'dnsimple', 'IPCR_RFC2136_TSIG', 'IPCR_POWERDNS_API_KEY', 'IPCR_CLOUDFLARE_API_TOKEN', 'IPCR_DNSIMPLE_TOKEN']) expect(help.stdout).toContain(word)
  })
})
