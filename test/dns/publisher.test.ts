import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { CID } from 'multiformats/cid'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import type { NameReport } from '../../src/core/destinations/types.js'
import { DnsLinkPublisher, type DnsLinkPublisherConfig } from '../../src/core/dns/publisher.js'
import { resolveDnsLink } from '../../src/core/dns/resolve.js'
import { InputError } from '../../src/core/errors.js'
import { generateKey } from '../../src/core/ipns/keys.js'
import type { PublishResult } from '../../src/core/publish.js'
import { startBind, type BindServer } from '../helpers/bind.js'
import { failure } from '../helpers/failure.js'

// DNSLink through the RFC 2136 provider against BIND 9 on loopback; the other providers share the upsert (test/dns/*).
const ROOT_A = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
const ROOT_B = CID.parse('bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
const EVENTS = fileURLToPath(new URL('./events/', import.meta.url))

let bind: BindServer
let ipnsName: string
beforeAll(async () => {
  bind = await startBind(['_dnslink.kept IN TXT "v=spf1 -all"', '_dnslink.two IN TXT "dnslink=/ipfs/bafyone"', '_dnslink.two IN TXT "dnslink=/ipfs/bafytwo"'])
  ipnsName = (await generateKey()).name
})
afterAll(async () => { await bind?.stop() })

function publisher (config: Partial<DnsLinkPublisherConfig> & { domain: string }): DnsLinkPublisher {
  return new DnsLinkPublisher({ provider: 'rfc2136', providerConfig: { server: bind.server, tsig: bind.tsig }, env: {}, ...config })
}

function context (root: CID, names: NameReport[] = []) {
  return { result: {} as PublishResult, root, previousRoot: null, names }
}

function ipnsReport (name: string): NameReport {
  return { kind: 'ipns', label: 'IPNS', name, value: `/ipfs/${ROOT_A.toString()}` }
}

describe('DnsLinkPublisher', () => {
  it("'ipfs': creates, leaves alone, replaces, keeps other TXT values; resolvable through the server", async () => {
    const p = publisher({ domain: 'kept.example.test', value: 'ipfs', ttl: 120 })
    await p.preflight({})
    const first = await p.publish(context(ROOT_A))
    expect(first).toEqual({
      kind: 'dnslink',
      label: `DNSLink kept.example.test (${p.provider.label})`,
      name: 'kept.example.test',
      value: `dnslink=/ipfs/${ROOT_A.toString()}`,
      targets: [{ label: 'TXT _dnslink.kept.example.test', ok: true, detail: 'created' }],
      changed: true
    })
    expect((await bind.dig('_dnslink.kept.example.test')).sort()).toEqual([`"dnslink=/ipfs/${ROOT_A.toString()}"`, '"v=spf1 -all"'])
    expect(await bind.dig('kept.example.test')).toEqual([])

    const serial = await bind.serial()
    const again = await p.publish(context(ROOT_A))
    expect(again.changed).toBe(false)
    expect(again.targets?.[0]?.detail).toBe('unchanged')
    expect(await bind.serial()).toBe(serial)

    const next = await p.publish(context(ROOT_B))
    expect(next.changed).toBe(true)
    expect(next.targets?.[0]?.detail).toBe('replaced')
    expect((await bind.dig('_dnslink.kept.example.test')).sort()).toEqual([`"dnslink=/ipfs/${ROOT_B.toString()}"`, '"v=spf1 -all"'])
    expect(await resolveDnsLink('kept.example.test', { resolver: bind.server })).toEqual({ name: '_dnslink.kept.example.test', values: [`dnslink=/ipfs/${ROOT_B.toString()}`] })
  })

  it("'ipns': the IPNS name this run published, stable across roots", async () => {
    const p = publisher({ domain: 'ipns.example.test', value: 'ipns' })
    const first = await p.publish(context(ROOT_A, [{ kind: 'kubo-ipns', label: 'Kubo', name: ipnsName, value: '/ipfs/x' }]))
    expect(first.value).toBe(`dnslink=/ipns/${ipnsName}`)
    expect(first.changed).toBe(true)
    expect(await bind.dig('_dnslink.ipns.example.test')).toEqual([`"dnslink=/ipns/${ipnsName}"`])
    const second = await p.publish(context(ROOT_B, [ipnsReport(ipnsName)]))
    expect(second.changed).toBe(false)
  })

  it('without dnslink-value: ipns when an IPNS name was published or given, else ipfs', () => {
    const p = publisher({ domain: 'default.example.test' })
    expect(p.valueFor(context(ROOT_A))).toBe(`dnslink=/ipfs/${ROOT_A.toString()}`)
    expect(p.valueFor(context(ROOT_A, [ipnsReport(ipnsName)]))).toBe(`dnslink=/ipns/${ipnsName}`)
    expect(publisher({ domain: 'default.example.test', ipnsName }).valueFor(context(ROOT_A))).toBe(`dnslink=/ipns/${ipnsName}`)
    // Other names' reports (another DNSLink) are not IPNS names.
    expect(p.valueFor(context(ROOT_A, [{ kind: 'dnslink', label: 'x', name: 'other.example.test', value: 'dnslink=/ipfs/x' }]))).toBe(`dnslink=/ipfs/${ROOT_A.toString()}`)
  })

  it("'ipns' without an IPNS name, or with two, or another than given: an error naming dnslink-value, nothing written", async () => {
    const serial = await bind.serial()
    const p = publisher({ domain: 'none.example.test', value: 'ipns' })
    const err = await failure(p.publish(context(ROOT_A)))
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).input).toBe('dnslink-value')
    const other = (await generateKey()).name
    expect(() => p.valueFor(context(ROOT_A, [ipnsReport(ipnsName), ipnsReport(other)]))).toThrow(/published 2 IPNS names/)
    expect(() => publisher({ domain: 'none.example.test', ipnsName }).valueFor(context(ROOT_A, [ipnsReport(other)]))).toThrow(/is not the one this run published/)
    expect(await bind.serial()).toBe(serial)
    expect(await bind.dig('_dnslink.none.example.test')).toEqual([])
  })

  it('bare: also writes the domain itself', async () => {
    const p = publisher({ domain: '_dnslink.bare.example.test', value: 'ipfs', bare: true })
    expect(p.domain).toBe('bare.example.test')
    const report = await p.publish(context(ROOT_A))
    expect(report.targets?.map((t) => [t.label.replace(`${p.provider.label}: `, ''), t.detail])).toEqual([['TXT _dnslink.bare.example.test', 'created'], ['TXT bare.example.test', 'created']])
    expect(await bind.dig('_dnslink.bare.example.test')).toEqual([`"dnslink=/ipfs/${ROOT_A.toString()}"`])
    expect(await bind.dig('bare.example.test')).toEqual([`"dnslink=/ipfs/${ROOT_A.toString()}"`])
  })

  it('two dnslink values at the name: the provider error, nothing changed', async () => {
    const serial = await bind.serial()
    await expect(publisher({ domain: 'two.example.test', value: 'ipfs' }).publish(context(ROOT_A))).rejects.toThrow(/has 2 dnslink= TXT values/)
    expect(await bind.serial()).toBe(serial)
  })

  it('refuses untrusted triggers in preflight and publish, unless allowed', async () => {
    const serial = await bind.serial()
    const fork = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: join(EVENTS, 'pull-request-fork.json') }
    const p = publisher({ domain: 'untrusted.example.test', value: 'ipfs', env: fork })
    for (const attempt of [p.preflight({}), p.publish(context(ROOT_A))]) {
      const err = await failure(attempt)
      expect(err).toBeInstanceOf(InputError)
      expect((err as InputError).input).toBe('dnslink-allow-untrusted')
      expect(err.message).toContain("the event is 'pull_request' from a fork ('stranger/registry')")
    }
    await expect(publisher({ domain: 'untrusted.example.test', value: 'ipfs', env: { GITHUB_EVENT_NAME: 'pull_request_target' } }).preflight({})).rejects.toThrow(/pull_request_target/)
    expect(await bind.serial()).toBe(serial)
    expect(await bind.dig('_dnslink.untrusted.example.test')).toEqual([])

    const warnings: string[] = []
    const logger = { debug () {}, info () {}, warn (m: string) { warnings.push(m) }, group: async <T>(_: string, fn: () => Promise<T>) => await fn() }
    const allowed = new DnsLinkPublisher({ provider: 'rfc2136', providerConfig: { server: bind.server, tsig: bind.tsig }, domain: 'untrusted.example.test', value: 'ipfs', env: fork, allowUntrusted: true }, logger)
    expect((await allowed.publish(context(ROOT_A))).changed).toBe(true)
    expect(warnings.join('\n')).toContain('dnslink-allow-untrusted')
    expect(await bind.dig('_dnslink.untrusted.example.test')).toEqual([`"dnslink=/ipfs/${ROOT_A.toString()}"`])
  })

  it('a push event is trusted', async () => {
    const push = { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: join(EVENTS, 'push.json') }
    await expect(publisher({ domain: 'push.example.test', value: 'ipfs', env: push }).preflight({})).resolves.toBeUndefined()
  })

  it('checks its configuration offline, naming the option', () => {
    const input = (config: Partial<DnsLinkPublisherConfig> & { domain: string }): string | undefined => {
      try { publisher(config) } catch (err) { return (err as InputError).input }
      return undefined
    }
    expect(input({ domain: 'bad domain' })).toBe('dnslink-domain')
    expect(input({ domain: 'x.example.test', value: 'cid' as never })).toBe('dnslink-value')
    expect(input({ domain: 'x.example.test', value: 'ipfs', ipnsName })).toBe('dnslink-value')
    expect(input({ domain: 'x.example.test', ipnsName: 'not-a-name' })).toBe('ipns-name')
    expect(input({ domain: 'x.example.test', ttl: 0 })).toBe('dnslink-ttl')
    expect(input({ domain: 'x.example.test', provider: 'nope' })).toBe('dns-provider')
    expect(input({ domain: 'x.example.test', providerConfig: { server: bind.server } })).toBe('rfc2136-tsig')
    expect(input({ domain: 'x.example.test' })).toBeUndefined()
  })
})
