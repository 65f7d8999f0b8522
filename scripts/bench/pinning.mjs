// Remote pinning in the benchmark (issue 10): how long ipcr's embedded IPFS node takes, from its
// start until a Pinning Service API service reports the root `pinned`, beside Kubo's own
// `ipfs dag import` of the same CAR into a fresh offline repo.
//
// Not timed: a generated image (image.mjs) published to a CAR with dist/cli.js. Then, in
// interleaved rounds (the best of each is reported):
//   embedded → pinned  a fresh Pinning Service API server in this process (test/helpers/psa-server.ts:
//                      a Helia node with an in-memory blockstore that gets blocks only over bitswap from
//                      the origins it is given), then, timed: serveBlocks([car]) starts the embedded
//                      node on loopback, PinningServiceDestination's preflight + store (POST /pins with
//                      the node as origin, polls until `pinned`). The blocks cross libp2p (TCP, noise,
//                      yamux, bitswap) on 127.0.0.1. Also recorded: when the service's node itself
//                      holds the pin (helia.pins.get finds its record, polled every 50 ms), since the destination
//                      polls with backoff (0.5 s doubling to 15 s) and so reports `pinned` later; the
//                      blocks and bytes the node served (its stats); the peak RSS of this process
//                      during the phase (VmHWM after resetting it with /proc/self/clear_refs, and the RSS
//                      at its start; this process holds the service's node and its in-memory copy of
//                      every block too, and round 1 is the clean one: later rounds start with the RSS
//                      the previous service left, freed but not given back to the OS).
//   kubo dag import    `ipfs dag import <car>` (pins the root) into a fresh offline repo, no daemon;
//                      wall time and peak RSS from measure.mjs.
// Everything is bundled on the fly (bundle-entry.mjs): dist/ exports neither the pinning core
// nor the test server, which is TypeScript.
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { importBundle } from './bundle-entry.mjs'
import { listFiles, loadGenerator, writeBenchImage } from './image.mjs'
import { initRepo } from './kubo.mjs'
import { measure } from './measure.mjs'

const MiB = 1024 * 1024

async function loadModules (repoRoot, outDir) {
  const outfile = join(outDir, 'pinning-bench.mjs')
  return await importBundle(repoRoot, [
    "export { CID } from 'multiformats/cid'",
    "export { serveBlocks } from './src/core/pinning/serve.ts'",
    "export { PinningServiceDestination } from './src/core/pinning/psa.ts'",
    "export { startPsaServer } from './test/helpers/psa-server.ts'"
  ], outfile)
}

/** This process's peak RSS (VmHWM) in MiB, or null where /proc has none. */
function ownPeakMiB () {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    return m != null ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}

/** Resets VmHWM to the current RSS (Linux: `5` into clear_refs), so a phase's peak is its own. */
function resetPeak () {
  try {
    writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

/** A full garbage collection, so one round's dropped blocks do not count in the next round's RSS. */
let gc = null
function collect () {
  if (gc == null) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc')
  }
  gc()
}

const logger = (log, verbose = false) => ({
  debug () {},
  info (message) { if (verbose) process.stderr.write(`  [${new Date().toISOString().slice(11, 23)}] ${message}\n`) },
  warn (message) { log(`  warning: ${message}`) },
  group: async (_name, fn) => await fn()
})

/** Milliseconds until `check()` is true, polled every `everyMs`; stops polling once `done` settles. */
function watch (check, everyMs, done) {
  const started = process.hrtime.bigint()
  return new Promise((resolve) => {
    let over = false
    const end = () => { over = true }
    done.then(end, end) // a failed store is the caller's to report
    const tick = async () => {
      if (await check().catch(() => false)) { resolve(Number(process.hrtime.bigint() - started) / 1e9); return }
      if (over) { resolve(null); return }
      setTimeout(tick, everyMs)
    }
    void tick()
  })
}

/** One timed round of the embedded node → pinned, against a server started fresh for it. */
async function pinRound (m, { car, pushed, round, timeoutSeconds }) {
  const server = await m.startPsaServer()
  try {
    const root = m.CID.parse(pushed.rootCid)
    const log = logger(() => {}, process.env.IPCR_BENCH_PIN_DEBUG === '1')
    collect()
    const measured = resetPeak()
    const startRssMiB = process.memoryUsage().rss / MiB
    const started = process.hrtime.bigint()
    const served = await m.serveBlocks([car], [], { listen: ['/ip4/127.0.0.1/tcp/0'] }, { logger: log })
    let report
    let stats
    let servicePinnedSeconds = null
    try {
      const destination = new m.PinningServiceDestination({ name: 'bench', endpoint: server.url, token: server.token(`round${round}`), timeoutMs: timeoutSeconds * 1000, retries: 0 }, log)
      await destination.preflight({})
      const storing = destination.store({ result: pushed, root, previousRoot: null, carPath: car, network: served.network, logger: log })
      // The pin record is written once the whole DAG is in (isPinned turns true at the root's first block).
      const seen = watch(async () => await server.helia.pins.get(root).then(() => true, () => false), 50, storing)
      report = await storing
      servicePinnedSeconds = await seen
      stats = served.stats()
    } finally {
      await served.stop()
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const peakRssMiB = measured ? ownPeakMiB() : null
    if (report.details.status !== 'pinned' || report.details.pinned !== pushed.rootCid) throw new Error(`the service reported ${report.details.status} for ${report.details.pinned}, not pinned for ${pushed.rootCid}`)
    // The service's node holds every block of the CAR: it could only have got them from the embedded node.
    const blocksHeld = server.blocks.size
    return { seconds, servicePinnedSeconds, startRssMiB, peakRssMiB, blocksServed: stats.blocksServed, bytesServed: stats.bytesServed, peers: stats.peers, blocksHeld, requestId: report.details.requestId }
  } finally {
    await server.stop()
  }
}

/**
 * Generates a `sizeMiB` MiB image under `work`, publishes it to a CAR with dist/cli.js, then
 * runs `rounds` interleaved rounds of the embedded node → pinned and (with `ipfs`) Kubo's
 * `dag import` of the CAR. Resolves { sizeMiB, input, car, rounds, rows, ... }; each row has
 * its best round (seconds), MB/s of CAR bytes, its rounds, and its peak RSS.
 */
export async function benchPinning (repoRoot, work, ipfs, { sizeMiB = 512, rounds = 3, timeoutSeconds = 600, useGnuTime = false, log = () => {}, onSpawn = () => {} } = {}) {
  const dir = join(work, 'pinning')
  const m = await loadModules(repoRoot, work)
  try {
    log(`  generating a ${sizeMiB} MiB OCI image layout`)
    const writeSampleImage = await loadGenerator(repoRoot, work)
    const layout = join(dir, 'image')
    await writeBenchImage(writeSampleImage, layout, sizeMiB)
    const inputBytes = (await listFiles(layout)).reduce((n, f) => n + f.size, 0)
    const car = join(dir, 'pin.car')
    const push = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'push', '--file', layout, '--name', 'bench/pin', '--tag', '1', '--car', car, '--car-scope', 'full', '--quiet', '--json'], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * MiB })
    if (push.status !== 0) throw new Error(`ipcr push failed: ${(push.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`)
    const pushed = JSON.parse(push.stdout)
    const carBytes = (await stat(car)).size
    await rm(layout, { recursive: true, force: true })
    log(`  CAR ${(carBytes / MiB).toFixed(1)} MiB, ${pushed.car.blocks} blocks, root ${pushed.rootCid}`)

    const embedded = []
    const kubo = []
    let kuboError = null
    for (let round = 1; round <= rounds; round++) {
      const of = `round ${round}/${rounds}`
      spawnSync('sync')
      const r = await pinRound(m, { car, pushed, round, timeoutSeconds })
      if (r.blocksHeld < pushed.car.blocks) throw new Error(`the service's node holds ${r.blocksHeld} blocks, the CAR ${pushed.car.blocks}`)
      embedded.push(r)
      log(`  embedded → pinned (${of}): ${r.seconds.toFixed(2)} s (service's node pinned at ${r.servicePinnedSeconds?.toFixed(2) ?? '-'} s), ${r.blocksServed} blocks / ${(r.bytesServed / MiB).toFixed(1)} MiB served, peak RSS ${r.peakRssMiB?.toFixed(0) ?? '-'} MiB`)

      if (ipfs != null && kuboError == null) {
        const repo = join(dir, 'kubo-repo')
        await rm(repo, { recursive: true, force: true })
        const env = initRepo(ipfs, repo)
        spawnSync('sync')
        const k = await measure(ipfs, ['dag', 'import', car], { cwd: repoRoot, env, timeoutSeconds, useGnuTime, timeFile: join(dir, 'time-kubo-dag-import.txt'), onSpawn })
        await rm(repo, { recursive: true, force: true })
        if (!k.ok) {
          kuboError = k.timedOut ? `timed out after ${timeoutSeconds} s` : `exit ${k.code ?? k.signal}: ${k.stderr.trim().split('\n').slice(-3).join(' | ')}`
          log(`  kubo dag import (${of}): FAILED: ${kuboError}`)
        } else {
          if (!k.stdout.includes(`Pinned root\t${pushed.rootCid}\tsuccess`)) throw new Error(`kubo dag import did not pin ${pushed.rootCid}: ${k.stdout.trim()}`)
          kubo.push(k)
          log(`  kubo dag import (${of}): ${k.wallSeconds.toFixed(2)} s, peak RSS ${k.peakRssMiB.toFixed(0)} MiB`)
        }
      }
    }

    const fastest = (list, key) => list.reduce((a, b) => (b[key] < a[key] ? b : a))
    const best = fastest(embedded, 'seconds')
    const rows = [{
      key: 'embeddedPinned',
      label: 'embedded→pinned',
      what: 'embedded node start → PinningServiceDestination preflight + store → `pinned` (blocks over bitswap on loopback)',
      seconds: best.seconds,
      mbPerSecond: carBytes / 1e6 / best.seconds,
      runs: embedded.map((r) => r.seconds),
      servicePinnedSeconds: Math.min(...embedded.map((r) => r.servicePinnedSeconds ?? Infinity)),
      peakRssMiB: embedded.some((r) => r.peakRssMiB != null) ? Math.max(...embedded.map((r) => r.peakRssMiB ?? 0)) : null,
      // Round 1's: later rounds start with the RSS the previous service's blocks left (freed, not returned to the OS).
      firstRound: { startRssMiB: embedded[0].startRssMiB, peakRssMiB: embedded[0].peakRssMiB },
      rounds: embedded.map(({ seconds, servicePinnedSeconds, startRssMiB, peakRssMiB }) => ({ seconds, servicePinnedSeconds, startRssMiB, peakRssMiB })),
      rssSource: 'this process (service + embedded node), VmHWM after clear_refs',
      rssMeasured: embedded.every((r) => r.peakRssMiB != null),
      blocksServed: best.blocksServed,
      bytesServed: best.bytesServed,
      peers: best.peers
    }]
    if (kubo.length > 0) {
      const k = fastest(kubo, 'wallSeconds')
      rows.push({
        key: 'kuboDagImport',
        label: 'kubo dag import',
        what: '`ipfs dag import` of the same CAR (pins the root) into a fresh offline repo, no daemon',
        seconds: k.wallSeconds,
        mbPerSecond: carBytes / 1e6 / k.wallSeconds,
        runs: kubo.map((r) => r.wallSeconds),
        peakRssMiB: Math.max(...kubo.map((r) => r.peakRssMiB)),
        rssSource: k.rssSource
      })
    }
    return {
      sizeMiB,
      rounds,
      input: { bytes: inputBytes },
      car: { bytes: carBytes, blocks: pushed.car.blocks, rootCid: pushed.rootCid },
      rows,
      ...(ipfs == null ? { kuboSkipped: true } : {}),
      ...(kuboError != null ? { kuboError } : {})
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
