import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import type { PrivateKey } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { DelegatedRouterStore } from '../../src/core/ipns/delegated-router.js'
import { GatewayRecordStore } from '../../src/core/ipns/gateway-records.js'
import { generateKey, signingKey } from '../../src/core/ipns/keys.js'
import { KuboRecordStore } from '../../src/core/ipns/kubo-routing.js'
import { lookupName, putEverywhere } from '../../src/core/ipns/lookup.js'
import { parseIpnsName, type IpnsName } from '../../src/core/ipns/name.js'
import { inspectRecord, signRecord } from '../../src/core/ipns/record.js'
import type { RecordStore } from '../../src/core/ipns/types.js'
import { kuboConfig } from '../../src/core/kubo/config.js'
import { KuboRpc } from '../../src/core/kubo/rpc.js'
import { connectNodes, startKubo, type KuboNode } from '../helpers/kubo.js'

// Three online Kubo daemons on loopback, peered with each other and nothing else;
// C serves the Delegated Routing V1 HTTP API on its gateway port.
let a: KuboNode
let b: KuboNode
let c: KuboNode

const hour = 3_600_000
const rootA = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
const rootB = CID.parse('bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354')

beforeAll(async () => {
  ;[a, b, c] = await Promise.all([
    startKubo({ offline: false }),
    startKubo({ offline: false }),
    startKubo({ offline: false, config: { 'Gateway.ExposeRoutingAPI': true } })
  ])
  await connectNodes(a, b)
  await connectNodes(a, c)
  await connectNodes(b, c)
}, 60_000)

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()])
})

function kubo (node: KuboNode): KuboRecordStore {
  return new KuboRecordStore(new KuboRpc(kuboConfig({ url: node.apiUrl, retries: 0 })))
}

async function newName (): Promise<{ key: PrivateKey, name: IpnsName }> {
  const { key, name } = await generateKey()
  return { key: await signingKey(key), name: parseIpnsName(name) }
}

async function resolve (node: KuboNode, name: IpnsName): Promise<string> {
  return (await node.ipfs('name', 'resolve', '--nocache', `/ipns/${name.text}`)).trim()
}

async function sequenceOf (store: RecordStore, name: IpnsName): Promise<bigint | undefined> {
  const bytes = await store.get(name)
  return bytes == null ? undefined : (await inspectRecord(name, bytes, { source: store.label })).sequence
}

describe('records on peered Kubo nodes and a Kubo delegated router', () => {
  test('put through A\'s routing is read through B\'s routing and resolved by B', async () => {
    const { key, name } = await newName()
    const record = await signRecord(key, name, rootA, { sequence: 1n, lifetimeMs: hour, ttlMs: 1000 })
    await kubo(a).put(name, record.bytes)
    expect(await resolve(b, name)).toBe(`/ipfs/${rootA.toString()}`)
    const read = await kubo(b).get(name)
    expect(Buffer.from(read ?? []).equals(Buffer.from(record.bytes))).toBe(true)
  })

  test('put through C\'s routing API is returned by the router, by C\'s gateway, and resolved by C', async () => {
    const { key, name } = await newName()
    const record = await signRecord(key, name, rootB, { sequence: 7n, lifetimeMs: hour, ttlMs: 1000 })
    const router = new DelegatedRouterStore(c.gatewayUrl)
    await router.put(name, record.bytes)
    for (const store of [router, new DelegatedRouterStore(`${c.gatewayUrl}/`), new GatewayRecordStore(c.gatewayUrl)]) {
      expect(Buffer.from(await store.get(name) ?? []).equals(Buffer.from(record.bytes))).toBe(true)
    }
    expect(await resolve(c, name)).toBe(`/ipfs/${rootB.toString()}`)
  })

  test('a name nobody published: null from every store, and lookupName says it is new', async () => {
    const { name } = await newName()
    const stores = [kubo(a), kubo(b), new DelegatedRouterStore(c.gatewayUrl), new GatewayRecordStore(c.gatewayUrl)]
    for (const store of stores) expect(await store.get(name)).toBeNull()
    const lookup = await lookupName(name, stores)
    expect(lookup.current).toBeNull()
    expect(lookup.sources.map((s) => s.outcome)).toEqual(['none', 'none', 'none', 'none'])
  })

  test('a higher sequence replaces a lower one everywhere; a lower one put afterwards does not', async () => {
    const { key, name } = await newName()
    const stores = [kubo(a), new DelegatedRouterStore(c.gatewayUrl)]
    const first = await signRecord(key, name, rootA, { sequence: 1n, lifetimeMs: hour, ttlMs: 1000 })
    expect((await putEverywhere(name, first, stores)).map((r) => r.ok)).toEqual([true, true])
    expect(await resolve(b, name)).toBe(`/ipfs/${rootA.toString()}`)
    const second = await signRecord(key, name, rootB, { sequence: 2n, lifetimeMs: hour, ttlMs: 1000 })
    expect((await putEverywhere(name, second, stores)).map((r) => r.ok)).toEqual([true, true])
    expect(await resolve(b, name)).toBe(`/ipfs/${rootB.toString()}`)
    const readers = [kubo(a), kubo(b), new DelegatedRouterStore(c.gatewayUrl), new GatewayRecordStore(c.gatewayUrl)]
    for (const store of readers) expect(await sequenceOf(store, name)).toBe(2n)
    // The old record again: both answer OK (so a put's OK is no proof) and keep the newer one.
    const again = await putEverywhere(name, first, stores)
    expect(again.map((r) => r.ok)).toEqual([true, true])
    for (const store of readers) expect(await sequenceOf(store, name)).toBe(2n)
    const lookup = await lookupName(name, readers)
    expect(lookup.current?.sequence).toBe(2n)
    expect(lookup.current?.root?.equals(rootB)).toBe(true)
    expect(lookup.highestSequence).toBe(2n)
  })
})
