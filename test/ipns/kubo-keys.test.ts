import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { ipnsNameOf, parsePrivateKey, signingKey } from '../../src/core/ipns/keys.js'
import { KuboRecordStore } from '../../src/core/ipns/kubo-routing.js'
import { parseIpnsName } from '../../src/core/ipns/name.js'
import { signRecord } from '../../src/core/ipns/record.js'
import { kuboConfig } from '../../src/core/kubo/config.js'
import { KuboError, KuboRpc } from '../../src/core/kubo/rpc.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'

// Keys made by Kubo itself, exported in both formats `ipfs key export` writes:
// ipcr derives the same names, and records it signs with them are accepted by Kubo.
let node: KuboNode
let dir: string
let store: KuboRecordStore

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ipcr-kubo-keys-'))
  node = await startKubo()
  await node.ipfs('key', 'gen', '--type=ed25519', 'K1')
  await node.ipfs('key', 'gen', '--type=rsa', '--size=2048', 'K2')
  for (const key of ['K1', 'K2']) {
    await node.ipfs('key', 'export', key, '-o', join(dir, `${key}.key`))
    await node.ipfs('key', 'export', '-f', 'pem-pkcs8-cleartext', key, '-o', join(dir, `${key}.pem`))
  }
  store = new KuboRecordStore(new KuboRpc(kuboConfig({ url: node.apiUrl, retries: 0 })))
}, 60_000)

afterAll(async () => {
  await node?.stop()
  await rm(dir, { recursive: true, force: true })
})

/** `ipfs key list -l`: key name → IPNS name. */
async function kuboNames (): Promise<Map<string, string>> {
  const lines = (await node.ipfs('key', 'list', '-l')).split('\n').filter((l) => l.trim() !== '')
  return new Map(lines.map((l) => { const [id, name] = l.trim().split(/\s+/); return [name as string, id as string] }))
}

/** A distinct small file's CID on the node, so each record points somewhere else. */
async function content (text: string): Promise<CID> {
  const path = join(dir, `${text.replace(/\W/g, '-')}.txt`)
  await writeFile(path, text)
  return CID.parse((await node.ipfs('add', '-q', path)).trim())
}

describe('keys from ipfs key gen, in both export formats', () => {
  for (const [key, type] of [['K1', 'ed25519'], ['K2', 'rsa']] as const) {
    test(`${key} (${type}): the name is Kubo's; records signed here are accepted by routing put and resolve`, async () => {
      const expected = (await kuboNames()).get(key)
      expect(expected).toMatch(type === 'ed25519' ? /^k51/ : /^k2k4r8/)
      let sequence = 0n
      for (const format of ['key', 'pem'] as const) {
        const file = parsePrivateKey(await readFile(join(dir, `${key}.${format}`)))
        expect(file.format).toBe(format === 'key' ? 'libp2p-protobuf-cleartext' : 'pem-pkcs8-cleartext')
        expect(ipnsNameOf(file)).toBe(expected)
        const name = parseIpnsName(ipnsNameOf(file))
        const root = await content(`${key} ${format}`)
        sequence++
        const record = await signRecord(await signingKey(file), name, root, { sequence, lifetimeMs: 3_600_000, ttlMs: 1000 })
        await store.put(name, record.bytes)
        expect((await node.ipfs('name', 'resolve', '--offline', `/ipns/${name.text}`)).trim()).toBe(`/ipfs/${root.toString()}`)
      }
    }, 60_000)
  }

  test('an offline node cannot read records: routing get fails naming the endpoint, never "no record"', async () => {
    const name = parseIpnsName((await kuboNames()).get('K1') as string)
    const failure = store.get(name)
    await expect(failure).rejects.toThrow(KuboError)
    await expect(failure).rejects.toThrow(`Kubo RPC ${node.apiUrl}: routing/get /ipns/${name.text} failed: HTTP 500: this action must be run in online mode`)
    await expect(failure).rejects.toThrow(/an offline Kubo node cannot read IPNS records/)
  })
})
