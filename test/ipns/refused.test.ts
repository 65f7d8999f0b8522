import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createIPNSRecord, marshalIPNSRecord } from 'ipns'
import { CID } from 'multiformats/cid'
import { generateKey, signingKey } from '../../src/core/ipns/keys.js'
import { parseIpnsName } from '../../src/core/ipns/name.js'
import { inspectRecord, signRecord } from '../../src/core/ipns/record.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { runCli } from '../helpers/process.js'

// Issue 9: what the user sees when a router serves a record that must not be used, and a
// publish with a router only (no daemon anywhere): the record goes there, the content into the CAR.
let dir: string
let layout: string
let server: Server
let url: string
/** What the stand-in router serves, by name; PUTs are stored here too. */
const records = new Map<string, Uint8Array>()
const root = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
const hour = 3_600_000

beforeAll(async () => {
  dir = await makeTempDir('ipcr-ipns-refused-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'r.txt': 'refused\n' } }] })
  server = createServer((req, res) => {
    const name = /^\/routing\/v1\/ipns\/([A-Za-z0-9]+)$/.exec(req.url ?? '')?.[1]
    if (name == null) { res.writeHead(400).end(); return }
    if (req.method === 'PUT') {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => { records.set(name, Buffer.concat(chunks)); res.writeHead(200).end() })
      return
    }
    const record = records.get(name)
    if (record == null) { res.writeHead(404).end(); return }
    res.writeHead(200, { 'content-type': 'application/vnd.ipfs.ipns-record' }).end(record)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

async function newName (): Promise<{ name: string, key: Awaited<ReturnType<typeof signingKey>>, base64: string }> {
  const generated = await generateKey()
  return { name: generated.name, key: await signingKey(generated.key), base64: Buffer.from(generated.key.bytes).toString('base64') }
}

describe('records a router serves that must not be used', () => {
  test('forged, expired and another name\'s record: the push stops before any work and names the router', async () => {
    const mine = await newName()
    const other = await newName()
    // Signed by another key and served under my name (ipcr's own signRecord refuses to make one).
    const forged = { bytes: marshalIPNSRecord(await createIPNSRecord(other.key, `/ipfs/${root.toString()}`, 5n, hour, { v1Compatible: true })) }
    const expired = await signRecord(mine.key, parseIpnsName(mine.name), root, { sequence: 5n, lifetimeMs: hour, ttlMs: 1000, now: Date.now() - 2 * hour })
    const rsa = await generateKey('rsa')
    const otherName = await signRecord(await signingKey(rsa.key), parseIpnsName(rsa.name), root, { sequence: 5n, lifetimeMs: hour, ttlMs: 1000 })
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['forged', forged.bytes, /its signature does not verify against the name's key \(refused: forged or corrupted\)/],
      ['expired', expired.bytes, new RegExp(`expired at .*; to continue from the root it names, give --previous-root ${root.toString()}`)],
      ['another name', otherName.bytes, /it is signed by the key of another name/]
    ]
    for (const [what, bytes, reason] of cases) {
      records.set(mine.name, bytes)
      const car = join(dir, `${what.replace(' ', '-')}.car`)
      const run = await runCli(['push', '--file', layout, '--name', 'team/app', '--ipns-name', mine.name, '--ipns-router', url, '--car', car], dir)
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(`IPNS record for /ipns/${mine.name} from router ${url}`)
      expect(run.stderr).toMatch(reason)
      // Not treated as a new registry: nothing was built.
      expect(run.stderr).not.toContain('starting a new registry')
      expect(existsSync(car)).toBe(false)
    }
  })
})

describe('a router and no daemon', () => {
  test('the record signed here goes to the router; the content is in the CAR; the next push reads the root from the router', async () => {
    const { name, base64 } = await newName()
    const env = { ...process.env, IPCR_IPNS_PRIVATE_KEY: base64 }
    const first = await runCli(['push', '--file', layout, '--name', 'team/app', '--tag', 'v1', '--ipns-router', url, '--car', join(dir, 'one.car'), '--json'], dir, env)
    expect(first.code).toBe(0)
    const one = JSON.parse(first.stdout)
    const record = await inspectRecord(parseIpnsName(name), records.get(name) as Uint8Array, { source: 'stand-in' })
    expect(record.value).toBe(`/ipfs/${one.rootCid}`)
    expect(record.sequence).toBe(0n)
    expect(one.names[0].targets).toEqual([{ label: `router ${url}`, ok: true, detail: expect.any(String) }])
    // The blocks of the first root come from its CAR; the root from the router.
    const second = await runCli(['push', '--file', layout, '--name', 'team/app', '--tag', 'v2', '--ipns-router', url, '--previous-car', join(dir, 'one.car'), '--car', join(dir, 'two.car'), '--json'], dir, env)
    expect(second.code).toBe(0)
    const two = JSON.parse(second.stdout)
    expect(two.previousRoot).toBe(one.rootCid)
    expect((await inspectRecord(parseIpnsName(name), records.get(name) as Uint8Array, { source: 'stand-in' })).sequence).toBe(1n)
    expect((await readFile(join(dir, 'two.car'))).length).toBeGreaterThan(0)
  })
})
