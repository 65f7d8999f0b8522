// IPNS in the benchmark: signing a record here and publishing it to a Kubo node, against
// Kubo's own `name publish`. ipcr's IPNS core (src/core/ipns, src/core/kubo) is bundled
// on the fly, as in hostile.mjs, and runs in this process.
//
// One fresh online Kubo daemon with no peers (loopback only, no bootstrap: an offline one
// refuses routing/get, which IpnsPublisher's lookup needs). Rows, each over `records`
// records after a warm-up, in interleaved rounds; each row's best round, in ms per record:
//   sign (Ed25519)   signRecord with an Ed25519 key, in this process
//   sign (RSA 2048)  the same with an RSA 2048 key
//   sign + put       signRecord, then KuboRecordStore.put (`routing/put`) over KuboRpc
//   ipcr publish     IpnsPublisher.publish: lookup (`routing/get`) + sign + put
//   kubo publish     Kubo's `name/publish --key=K --allow-offline /ipfs/<cid>` (a key made
//                    with `key/gen`), each with another value; the blocks are in the node
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { importBundle } from './bundle-entry.mjs'
import { initRepo, startDaemon } from './kubo.mjs'

async function loadModules (repoRoot, outDir) {
  const outfile = join(outDir, 'ipns-bench.mjs')
  return await importBundle(repoRoot, [
    "export { CID } from 'multiformats/cid'",
    "export { sha256 } from 'multiformats/hashes/sha2'",
    "export { generateKey, signingKey } from './src/core/ipns/keys.ts'",
    "export { parseIpnsName } from './src/core/ipns/name.ts'",
    "export { inspectRecord, signRecord } from './src/core/ipns/record.ts'",
    "export { KuboRecordStore } from './src/core/ipns/kubo-routing.ts'",
    "export { IpnsPublisher } from './src/core/ipns/publisher.ts'",
    "export { KuboRpc } from './src/core/kubo/rpc.ts'",
    "export { kuboConfig } from './src/core/kubo/config.ts'"
  ], outfile)
}

/** Kubo's RPC API, plainly: POST /api/v0/<command>, JSON answer, an error on non-2xx. */
async function rpc (apiUrl, command, params, body) {
  const url = new URL(`${apiUrl}/api/v0/${command}`)
  for (const [k, v] of params) url.searchParams.append(k, v)
  const response = await fetch(url, { method: 'POST', ...(body != null ? { body } : {}) })
  const text = await response.text()
  if (!response.ok) throw new Error(`${command}: HTTP ${response.status}: ${text.trim().slice(0, 300)}`)
  return text.trim() === '' ? undefined : JSON.parse(text.trim().split('\n').pop())
}

/** `count` distinct raw blocks put into the node, so every publish has a value it holds. */
async function makeRoots (m, apiUrl, count) {
  const roots = []
  for (let i = 0; i < count; i++) {
    const bytes = new TextEncoder().encode(`ipcr ipns bench ${i} ${process.pid} ${Date.now()}`)
    const form = new FormData()
    form.append('file', new Blob([bytes]), 'block')
    await rpc(apiUrl, 'block/put', [['cid-codec', 'raw'], ['mhtype', 'sha2-256']], form)
    roots.push(m.CID.createV1(0x55, await m.sha256.digest(bytes)))
  }
  return roots
}

/** Milliseconds per call of `fn(i)` over `count` calls. */
async function perRecord (count, fn) {
  const started = process.hrtime.bigint()
  for (let i = 0; i < count; i++) await fn(i)
  return Number(process.hrtime.bigint() - started) / 1e6 / count
}

/**
 * Starts an online Kubo daemon with no peers in a fresh repo under `work`, runs the rows
 * (`warmUp` records, then `rounds` rounds of `records` records each) and stops it.
 * Resolves { records, rounds, rows: [{ key, label, what, ms, runs }] }; ms is the best round.
 */
export async function benchIpns (repoRoot, work, ipfs, { records = 50, warmUp = 5, rounds = 3, log = () => {}, onDaemon = () => {} } = {}) {
  const m = await loadModules(repoRoot, work)
  const kuboRepo = join(work, 'kubo-ipns-repo')
  await rm(kuboRepo, { recursive: true, force: true })
  initRepo(ipfs, kuboRepo)
  const daemon = await startDaemon(ipfs, kuboRepo, { online: true })
  onDaemon(daemon)
  try {
    const { apiUrl } = daemon
    log(`  online Kubo daemon with no peers at ${apiUrl}`)
    const store = new m.KuboRecordStore(new m.KuboRpc(m.kuboConfig({ url: apiUrl })))
    const key = async (type) => {
      const { key, name } = await m.generateKey(type)
      return { file: key, name: m.parseIpnsName(name), signer: await m.signingKey(key) }
    }
    const ed = await key('ed25519')
    const rsa = await key('rsa')
    const putKey = await key('ed25519')
    const pubKey = await key('ed25519')
    const publisher = new m.IpnsPublisher({ privateKey: pubKey.file.bytes, stores: [store] })
    await publisher.preflight({})
    const kuboKey = (await rpc(apiUrl, 'key/gen', [['arg', 'ipcr-bench'], ['type', 'ed25519']])).Id
    const total = warmUp + rounds * records
    const roots = await makeRoots(m, apiUrl, total)
    const options = { lifetimeMs: 48 * 3600_000, ttlMs: 5 * 60_000 }

    // Each row walks through the roots and raises its own sequence, so every record is new.
    const next = { ed: 0n, rsa: 0n, put: 0n }
    const rows = [
      {
        key: 'ipnsSignEd25519',
        label: 'sign Ed25519',
        what: 'ipcr: signRecord (V1+V2) with an Ed25519 key, in process',
        one: async (root) => { await m.signRecord(ed.signer, ed.name, root, { sequence: next.ed++, ...options }) }
      },
      {
        key: 'ipnsSignRsa',
        label: 'sign RSA 2048',
        what: 'ipcr: signRecord (V1+V2) with an RSA 2048 key, in process',
        one: async (root) => { await m.signRecord(rsa.signer, rsa.name, root, { sequence: next.rsa++, ...options }) }
      },
      {
        key: 'ipnsSignPut',
        label: 'sign + put',
        what: 'ipcr: signRecord + KuboRecordStore.put (routing/put) over KuboRpc',
        one: async (root) => {
          const record = await m.signRecord(putKey.signer, putKey.name, root, { sequence: next.put++, ...options })
          await store.put(putKey.name, record.bytes)
        }
      },
      {
        key: 'ipnsPublish',
        label: 'ipcr publish',
        what: 'ipcr: IpnsPublisher.publish (routing/get + sign + routing/put)',
        one: async (root) => { await publisher.publish({ root, previousRoot: null, result: {} }) }
      },
      {
        key: 'kuboNamePublish',
        label: 'kubo publish',
        what: 'Kubo: name/publish --key=K --allow-offline /ipfs/<cid> over its RPC API',
        one: async (root) => { await rpc(apiUrl, 'name/publish', [['arg', `/ipfs/${root}`], ['key', 'ipcr-bench'], ['allow-offline', 'true']]) }
      }
    ]
    for (const row of rows) {
      row.runs = []
      for (let i = 0; i < warmUp; i++) await row.one(roots[i])
    }
    for (let round = 0; round < rounds; round++) {
      const base = warmUp + round * records
      for (const row of rows) {
        const ms = await perRecord(records, async (i) => await row.one(roots[base + i]))
        row.runs.push(ms)
      }
      log(`  round ${round + 1}/${rounds}: ${rows.map((r) => `${r.label} ${r.runs[round].toFixed(2)} ms`).join(', ')}`)
    }

    // The last value each name holds, read back: the rows did what they say.
    const resolved = (await rpc(apiUrl, 'name/resolve', [['arg', `/ipns/${kuboKey}`], ['offline', 'true']])).Path
    const last = `/ipfs/${roots[total - 1]}`
    const bytes = await store.get(pubKey.name)
    const published = bytes != null && (await m.inspectRecord(pubKey.name, bytes, { source: store.label })).value === last
    return {
      records,
      warmUp,
      rounds,
      kuboKey,
      check: { kuboResolvesLast: resolved === last, ipcrRecordInKubo: published },
      rows: rows.map(({ key, label, what, runs }) => ({ key, label, what, ms: Math.min(...runs), runs }))
    }
  } finally {
    await daemon.stop()
    await rm(kuboRepo, { recursive: true, force: true })
  }
}
