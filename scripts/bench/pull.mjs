// Pulling in the benchmark (issue 12): `skopeo copy` of one image from `ipcr serve`, whose blocks
// come from a local Kubo gateway, against the same image served by the CNCF distribution registry
// (Debian's docker-registry 2.8.2), in the same run, on the same bytes.
//
// Not timed: a generated image (image.mjs; its layers are plain tar of pseudo-random bytes, so
// incompressible), published into a fresh offline Kubo node with dist/cli.js (`ipcr push
// --kubo-rpc-url`: dag import + pin), and copied into docker-registry (filesystem storage in the
// temp dir) with `skopeo copy --preserve-digests oci:… docker://…`. Both servers must then answer
// the layout's manifest digest for the tag. Then, in rounds (each row's best reported):
//   ipcr serve, cold   a fresh `ipcr serve` process (src/core/serve startRegistryServer, bundled on
//                      the fly) reading from Kubo's gateway (each blob's file whole, GatewayFileSource,
//                      checked leaf by leaf; folders and file nodes as blocks) through an empty
//                      cache (as `ipcr serve --cache DIR` keeps one: folders, file nodes and small
//                      JSON files as verified blocks, each blob whole as a file once it matched its
//                      digest)
//   ipcr serve, warm   the same process, a second copy: every blob from its file in the cache
//   distribution       a fresh docker-registry process on the filled storage; after one untimed
//                      copy (the copy after the cold one is slowed by its writes), one copy right
//                      before or after the warm one (in turn, round by round)
//   GETs               then curl of every blob from each, in the same order (see `gets`)
//   ipcr serve, memory (informational, no target) a process whose block cache keeps every block
//                      (`cache: { keep: all, maxBytes: 1.25 × the image }`): a first copy fills it,
//                      the second is timed; every block then comes from memory
// Every copy is `skopeo copy --src-tls-verify=false docker://… dir:<temp>` (dir: keeps the layers
// as served, no recompression), timed with measure.mjs; the copy's manifest and every blob are
// hashed afterwards and must be the image's (a broken copy fails the section). MB/s: 10^6 bytes of
// manifest + config + layers per second. Peak RSS: VmHWM of the serving process during its copy
// (reset with /proc/<pid>/clear_refs before it; where that fails, the process's peak so far), and
// the CPU seconds it (and, for ipcr serve, the Kubo daemon) used during the copy (/proc/<pid>/stat).
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { bundleEntry } from './bundle-entry.mjs'
import { loadGenerator, writeBenchImage } from './image.mjs'
import { initRepo, peakRssMiB, startDaemon } from './kubo.mjs'
import { measure } from './measure.mjs'

const MiB = 1024 * 1024
const NAME = 'bench/pull'
const TAG = '1'
const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'

/** Processes this section started and has not stopped yet (for the bench's signal handler). */
const live = new Set()

/** Kills what this section started (SIGKILL); for an interrupted run. */
export function killPullProcesses () {
  for (const pid of live) { try { process.kill(pid, 'SIGKILL') } catch {} }
  live.clear()
}

/** Debian's docker-registry, or null. */
export function findDistribution () {
  for (const path of ['/usr/bin/docker-registry', '/usr/local/bin/docker-registry']) if (existsSync(path)) return path
  return null
}

async function freePort () {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat; null where there is none. */
function cpuSeconds (pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return null
  }
}

/** Bytes a process has read from storage (read_bytes in /proc/<pid>/io: not what the page cache answered); null where there is none. */
function diskReadBytes (pid) {
  try {
    return Number(/read_bytes: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN)
  } catch {
    return null
  }
}

/** Resets a process's VmHWM to its current RSS (Linux: `5` into clear_refs); false where it cannot. */
function resetPeak (pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

function tracked (child) {
  live.add(child.pid)
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const stop = async () => {
    if (child.exitCode == null && child.signalCode == null) {
      child.kill('SIGTERM')
      await exited
    }
    live.delete(child.pid)
  }
  return { exited, stop }
}

/** docker-registry on 127.0.0.1 with filesystem storage under `dir`; resolves once /v2/ answers. */
async function startDistribution (bin, dir) {
  const address = `127.0.0.1:${await freePort()}`
  const config = join(dir, 'config.yml')
  await mkdir(dir, { recursive: true })
  await writeFile(config, ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, 'http:', `  addr: ${address}`, ''].join('\n'))
  const child = spawn(bin, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-4000) })
  const { stop } = tracked(child)
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      if ((await fetch(`http://${address}/v2/`)).status === 200) return { address, pid: child.pid, stop }
    } catch {}
    if (child.exitCode != null) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await stop()
  throw new Error(`docker-registry did not answer on ${address}: ${stderr.trim()}`)
}

/**
 * Bundles the `ipcr serve` program: `node <it> GATEWAY_URL CACHE_DIR|none [KEEP_ALL_BYTES]` starts
 * startRegistryServer on 127.0.0.1:0 over a GatewayBlockSource, counted, in a FirstSource, and
 * the same gateway's whole files (GatewayFileSource) for blobs read whole, as `ipcr serve
 * --gateway URL` does (the command can neither set the cache nor count what it fetched, hence a
 * program of its own); with KEEP_ALL_BYTES, a block cache that keeps every block up to that many
 * bytes. It prints {"address"} and, for each `stats` line on stdin, the blocks, whole files and
 * bytes fetched from the gateway so far; stdin's end stops it.
 */
async function buildServer (repoRoot, outDir) {
  const outfile = join(outDir, 'ipcr-serve.mjs')
  await bundleEntry(repoRoot, `
    import { createInterface } from 'node:readline'
    import { GatewayBlockSource } from './src/core/blocks/gateway.ts'
    import { GatewayFileSource } from './src/core/blocks/gateway-file.ts'
    import { FirstSource } from './src/core/blocks/multi.ts'
    import { CachedSource, DiskBlockCache } from './src/core/blocks/disk-cache.ts'
    import { treeBlocks } from './src/core/blocks/cache.ts'
    import { BlobFiles } from './src/core/serve/blob-files.ts'
    import { join } from 'node:path'
    import { startRegistryServer } from './src/core/serve/server.ts'
    const [gateway, cacheDir, keepAllBytes] = process.argv.slice(2)
    const gateways = new GatewayBlockSource([gateway])
    const fetched = { blocks: 0, bytes: 0, files: 0, fileBytes: 0 }
    const source = {
      label: gateways.label,
      async get (cid, options) {
        const bytes = await gateways.get(cid, options)
        fetched.blocks++
        fetched.bytes += bytes.byteLength
        return bytes
      }
    }
    // Whole files as the command asks for them; counted by their answers' Content-Length.
    const countingFetch = async (url, init) => {
      const response = await fetch(url, init)
      if (response.status === 200) {
        fetched.files++
        fetched.fileBytes += Number(response.headers.get('content-length') ?? 0)
      }
      return response
    }
    // (The memory row reads every blob from its kept blocks, so it asks for no files.)
    const files = keepAllBytes != null ? [] : [new GatewayFileSource(gateway, { fetch: countingFetch })]
    const cache = keepAllBytes != null ? { keep: () => true, maxBytes: Number(keepAllBytes) } : undefined
    // As \`ipcr serve --gateway URL --cache DIR\` builds it (src/cli/serve.ts): the sources in a FirstSource
    // behind the verified disk cache, the gateway's whole files for blobs read whole; \`none\` as \`--cache none\` (memory only).
    const blocks = new FirstSource([source])
    const served = cacheDir === 'none' ? blocks : new CachedSource(new DiskBlockCache(join(cacheDir, 'blocks')), blocks, treeBlocks)
    const blobFiles = cacheDir === 'none' ? {} : { blobFiles: new BlobFiles(join(cacheDir, 'blobs')) }
    const server = await startRegistryServer({ listen: '127.0.0.1:0', source: served, files, ...blobFiles, ...(cache != null ? { cache } : {}) })
    process.stdout.write(JSON.stringify({ address: server.address }) + '\\n')
    const lines = createInterface({ input: process.stdin })
    lines.on('line', (line) => { if (line === 'stats') process.stdout.write(JSON.stringify(fetched) + '\\n') })
    lines.on('close', () => { server.close().finally(() => process.exit(0)) })
  `, outfile)
  return outfile
}

/** Starts the bundled `ipcr serve` program; resolves { address, pid, stats(), stop() }. */
async function startIpcrServe (program, gatewayUrl, cacheDir, keepAllBytes) {
  const child = spawn(process.execPath, [program, gatewayUrl, cacheDir, ...(keepAllBytes != null ? [String(keepAllBytes)] : [])], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-4000) })
  const { exited } = tracked(child)
  const waiting = []
  const lines = createInterface({ input: child.stdout })
  lines.on('line', (line) => { waiting.shift()?.resolve(line) })
  exited.then(() => { for (const w of waiting.splice(0)) w.reject(new Error(`ipcr serve exited (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`)) })
  const nextLine = () => new Promise((resolve, reject) => { waiting.push({ resolve, reject }) })
  const stop = async () => {
    if (child.exitCode == null && child.signalCode == null) {
      child.stdin.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    live.delete(child.pid)
  }
  try {
    const { address } = JSON.parse(await nextLine())
    return {
      address,
      pid: child.pid,
      stats: async () => {
        const line = nextLine()
        child.stdin.write('stats\n')
        return JSON.parse(await line)
      },
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}

async function sha256File (path) {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk)
  return hash.digest('hex')
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median (values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** What the gateway gave a copy: the stats' difference, onto the copy's result. */
function fetchedBetween (r, before, after) {
  r.gatewayBlocks = after.blocks - before.blocks
  r.gatewayBytes = after.bytes - before.bytes
  r.gatewayFiles = after.files - before.files
  r.gatewayFileBytes = after.fileBytes - before.fileBytes
}

/** `N blocks (X MiB), M whole files (Y MiB)`. */
export function fetchedText (r, unit = MiB, unitName = 'MiB') {
  return `${r.gatewayBlocks} blocks (${(r.gatewayBytes / unit).toFixed(1)} ${unitName}), ${r.gatewayFiles} whole files (${(r.gatewayFileBytes / unit).toFixed(1)} ${unitName})`
}

/** The tag's manifest digest and every blob (manifest, config, layers) with its size, from the layout. */
export async function describeLayout (layout) {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'))
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === TAG) ?? index.manifests[0]
  const blob = (digest) => join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length))
  const manifest = JSON.parse(await readFile(blob(entry.digest), 'utf8'))
  const blobs = new Map([[entry.digest, entry.size], [manifest.config.digest, manifest.config.size], ...manifest.layers.map((l) => [l.digest, l.size])])
  return { manifestDigest: entry.digest, blobs, bytes: [...blobs.values()].reduce((a, b) => a + b, 0), layers: manifest.layers.length }
}

/**
 * Checks a `dir:` copy: manifest.json is the manifest (by digest) and every blob file is there,
 * named by its digest, with that content and size. Throws naming the first difference.
 */
export async function checkCopy (dest, image) {
  const manifestHex = await sha256File(join(dest, 'manifest.json'))
  if (`sha256:${manifestHex}` !== image.manifestDigest) throw new Error(`the copy's manifest.json is sha256:${manifestHex}, not the image's manifest ${image.manifestDigest}`)
  const names = new Set((await readdir(dest)).filter((n) => n !== 'manifest.json' && n !== 'version'))
  for (const [digest, size] of image.blobs) {
    if (digest === image.manifestDigest) continue
    const hex = digest.slice('sha256:'.length)
    if (!names.delete(hex)) throw new Error(`the copy has no blob ${digest}`)
    const { size: got } = await stat(join(dest, hex))
    if (got !== size) throw new Error(`the copy's blob ${digest} has ${got} bytes, not ${size}`)
    const hashed = await sha256File(join(dest, hex))
    if (hashed !== hex) throw new Error(`the copy's blob ${digest} hashes to sha256:${hashed}`)
  }
  if (names.size > 0) throw new Error(`the copy has files the image does not: ${[...names].join(', ')}`)
}

/** The Docker-Content-Digest a registry answers for the tag's manifest. */
async function servedDigest (address, path) {
  const response = await fetch(`http://${address}/v2/${path}/manifests/${TAG}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } })
  if (!response.ok) throw new Error(`HEAD ${address}/v2/${path}/manifests/${TAG}: HTTP ${response.status}`)
  return response.headers.get('docker-content-digest')
}

/**
 * Generates a `sizeMiB` MiB image under `work`, publishes it into a fresh Kubo node and into
 * docker-registry, then runs `rounds` interleaved rounds of the copies described above.
 * Resolves { sizeMiB, image: { bytes, blobs, layers, manifestDigest }, rounds, root, rows }; each
 * row has its best round (seconds), MB/s, its rounds and its highest peak RSS.
 */
export async function benchPull (repoRoot, work, ipfs, distribution, { sizeMiB = 512, rounds = 3, timeoutSeconds = 600, useGnuTime = false, memoryRow = true, log = () => {}, onSpawn = () => {} } = {}) {
  const dir = join(work, 'pull')
  let daemon = null
  try {
    log(`  generating a ${sizeMiB} MiB OCI image layout`)
    const writeSampleImage = await loadGenerator(repoRoot, work)
    const layout = join(dir, 'image')
    await writeBenchImage(writeSampleImage, layout, sizeMiB)
    const image = await describeLayout(layout)
    const program = await buildServer(repoRoot, work)

    // Kubo: a fresh offline node; ipcr publishes the registry into it (dag import + pin).
    const kuboRepo = join(dir, 'kubo-repo')
    initRepo(ipfs, kuboRepo)
    daemon = await startDaemon(ipfs, kuboRepo, { gateway: true })
    live.add(daemon.pid)
    const push = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'push', '--file', `${layout}:${TAG}`, '--name', NAME, '--tag', TAG, '--kubo-rpc-url', daemon.apiUrl, '--quiet', '--json'], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * MiB })
    if (push.status !== 0) throw new Error(`ipcr push into Kubo failed: ${(push.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`)
    const pushed = JSON.parse(push.stdout)
    const ipcrPath = `ipfs/${pushed.rootCid}/${NAME}`
    log(`  published into Kubo (${daemon.apiUrl}, gateway ${daemon.gatewayUrl}): root ${pushed.rootCid}`)

    // docker-registry: filled from the same layout, digests kept.
    const storage = join(dir, 'distribution')
    const filling = await startDistribution(distribution, storage)
    try {
      const fill = spawnSync('skopeo', ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:${TAG}`, `docker://${filling.address}/${NAME}:${TAG}`], { encoding: 'utf8' })
      if (fill.status !== 0) throw new Error(`skopeo copy into docker-registry failed: ${(fill.stderr ?? '').trim()}`)
      const got = await servedDigest(filling.address, NAME)
      if (got !== image.manifestDigest) throw new Error(`docker-registry serves ${got} for ${NAME}:${TAG}, the layout ${image.manifestDigest}`)
    } finally {
      await filling.stop()
    }
    await rm(layout, { recursive: true, force: true })
    log(`  docker-registry filled (${storage}); ${(image.bytes / MiB).toFixed(1)} MiB in ${image.blobs.size} blobs (${image.layers} layers)`)

    // One timed copy into a fresh dir:, checked; the previous copy is deleted right before it
    // (so every copy writes into just-freed page cache, as in bench.mjs).
    let previous = null
    let copies = 0
    const copy = async (label, address, path, pid, kuboPid = null) => {
      if (previous != null) await rm(previous, { recursive: true, force: true })
      spawnSync('sync')
      const dest = join(dir, `copy-${++copies}`)
      const measured = resetPeak(pid)
      const cpuBefore = cpuSeconds(pid)
      const diskBefore = diskReadBytes(pid)
      const kuboBefore = kuboPid != null ? cpuSeconds(kuboPid) : null
      const r = await measure('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${address}/${path}:${TAG}`, `dir:${dest}`], { cwd: repoRoot, timeoutSeconds, useGnuTime, timeFile: join(dir, 'time-skopeo.txt'), onSpawn })
      previous = dest
      if (!r.ok) throw new Error(`${label}: skopeo copy ${r.timedOut ? `timed out after ${timeoutSeconds} s` : `failed (exit ${r.code ?? r.signal}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`}`)
      const serverPeakMiB = peakRssMiB(pid)
      const cpuAfter = cpuSeconds(pid)
      const serverCpuSeconds = cpuBefore != null && cpuAfter != null ? Number((cpuAfter - cpuBefore).toFixed(2)) : null
      const kuboAfter = kuboPid != null ? cpuSeconds(kuboPid) : null
      const kuboCpuSeconds = kuboBefore != null && kuboAfter != null ? Number((kuboAfter - kuboBefore).toFixed(2)) : null
      const diskAfter = diskReadBytes(pid)
      const serverDiskReadMiB = diskBefore != null && diskAfter != null ? (diskAfter - diskBefore) / MiB : null
      await checkCopy(dest, image)
      return { seconds: r.wallSeconds, mbPerSecond: image.bytes / 1e6 / r.wallSeconds, peakRssMiB: serverPeakMiB, serverCpuSeconds, kuboCpuSeconds, serverDiskReadMiB, rssSinceStart: !measured, skopeoPeakRssMiB: r.peakRssMiB }
    }

    // Every blob of the image (config and layers) in one `curl` process, one after the other on one
    // connection, into /dev/null: a client that does almost nothing per byte, so the server's own
    // speed shows (skopeo hashes and writes every byte, and both servers wait for it).
    const blobUrls = (address, path) => [...image.blobs].filter(([digest]) => digest !== image.manifestDigest).map(([digest, size]) => ({ url: `http://${address}/v2/${path}/blobs/${digest}`, digest, size }))
    const gets = (label, address, path, pid) => {
      const blobs = blobUrls(address, path)
      const args = ['--silent', '--show-error', '--fail', ...blobs.flatMap(({ url }) => ['-o', '/dev/null', url]), '-w', '%{size_download}\\n']
      const cpuBefore = cpuSeconds(pid)
      const started = process.hrtime.bigint()
      const r = spawnSync('curl', args, { encoding: 'utf8', timeout: timeoutSeconds * 1000 })
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const cpuAfter = cpuSeconds(pid)
      if (r.status !== 0) throw new Error(`${label}: curl of the blobs failed (exit ${r.status ?? r.signal}): ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}`)
      const sizes = r.stdout.trim().split('\n').map(Number)
      blobs.forEach(({ digest, size }, i) => { if (sizes[i] !== size) throw new Error(`${label}: curl got ${sizes[i]} bytes of ${digest}, not ${size}`) })
      const bytes = blobs.reduce((n, b) => n + b.size, 0)
      return { seconds, mbPerSecond: bytes / 1e6 / seconds, bytes, peakRssMiB: peakRssMiB(pid), serverCpuSeconds: cpuBefore != null && cpuAfter != null ? Number((cpuAfter - cpuBefore).toFixed(2)) : null }
    }
    const hasCurl = spawnSync('curl', ['--version']).status === 0

    const rows = {
      distribution: { key: 'distribution', label: 'distribution', what: 'docker-registry 2.8.2, filesystem storage, a fresh process per round', runs: [] },
      cold: { key: 'ipcrCold', label: 'ipcr serve cold', what: 'a fresh ipcr serve process, whole files (checked leaf by leaf) and blocks from the Kubo gateway', runs: [] },
      warm: { key: 'ipcrWarm', label: 'ipcr serve warm', what: 'the same process, second copy: every blob from the file the first copy kept (after it matched its digest)', runs: [] }
    }
    if (hasCurl) {
      rows.distributionGets = { key: 'distributionGets', label: 'distribution GETs', what: 'curl of every blob into /dev/null, one connection, right after the copy', runs: [] }
      rows.warmGets = { key: 'ipcrWarmGets', label: 'ipcr warm GETs', what: 'the same, from ipcr serve right after its warm copy', runs: [] }
    }
    if (memoryRow) rows.memory = { key: 'ipcrMemory', label: 'ipcr serve memory', what: 'informational: a process whose block cache keeps every block (1.25 × the image), second copy', runs: [] }
    for (let round = 1; round <= rounds; round++) {
      const of = `round ${round}/${rounds}`
      // A fresh docker-registry, and a fresh ipcr serve with an empty disk cache for its cold copy.
      const reg = await startDistribution(distribution, storage)
      const cacheDir = join(dir, `cache-${round}`)
      await rm(cacheDir, { recursive: true, force: true })
      let serve = null
      try {
        serve = await startIpcrServe(program, daemon.gatewayUrl, cacheDir)
        if (round === 1) {
          const got = await servedDigest(serve.address, ipcrPath)
          if (got !== image.manifestDigest) throw new Error(`ipcr serve answers ${got} for ${NAME}:${TAG}, the layout ${image.manifestDigest}`)
        }
        const ipcrCopy = async (key) => {
          const before = await serve.stats()
          const r = await copy(`ipcr serve ${key}`, serve.address, ipcrPath, serve.pid, daemon.pid)
          const after = await serve.stats()
          fetchedBetween(r, before, after)
          rows[key].runs.push(r)
          log(`  ipcr serve ${key} (${of}): ${r.seconds.toFixed(2)} s, ${r.mbPerSecond.toFixed(1)} MB/s, server peak RSS ${r.peakRssMiB.toFixed(0)} MiB, CPU ${r.serverCpuSeconds} s, ${r.serverDiskReadMiB?.toFixed(1)} MiB read from disk; from the gateway ${fetchedText(r)}`)
        }
        const distributionCopy = async () => {
          const r = await copy('distribution', reg.address, NAME, reg.pid)
          rows.distribution.runs.push(r)
          log(`  distribution (${of}): ${r.seconds.toFixed(2)} s, ${r.mbPerSecond.toFixed(1)} MB/s, server peak RSS ${r.peakRssMiB.toFixed(0)} MiB, CPU ${r.serverCpuSeconds} s, ${r.serverDiskReadMiB?.toFixed(1)} MiB read from disk`)
        }
        const blobGets = (key, label, address, path, pid) => {
          const g = gets(label, address, path, pid)
          rows[key].runs.push(g)
          log(`  ${label} (${of}): ${g.seconds.toFixed(3)} s, ${g.mbPerSecond.toFixed(1)} MB/s`)
        }
        await ipcrCopy('cold')
        // The cold copy leaves the blob files it kept to be written to disk: the copy after it ran
        // slower, whichever server it was from. One untimed copy (from distribution) takes that
        // place; then warm and distribution back to back, each first in every other round.
        await copy('distribution (settling, untimed)', reg.address, NAME, reg.pid)
        const distributionFirst = round % 2 === 1
        for (const which of distributionFirst ? ['distribution', 'warm'] : ['warm', 'distribution']) {
          if (which === 'distribution') await distributionCopy()
          else await ipcrCopy('warm')
        }
        if (hasCurl) {
          for (const which of distributionFirst ? ['distribution', 'warm'] : ['warm', 'distribution']) {
            if (which === 'distribution') blobGets('distributionGets', 'distribution GETs', reg.address, NAME, reg.pid)
            else blobGets('warmGets', 'ipcr warm GETs', serve.address, ipcrPath, serve.pid)
          }
        }
      } finally {
        await reg.stop()
        await serve?.stop()
        await rm(cacheDir, { recursive: true, force: true })
      }

      if (memoryRow) {
        const kept = await startIpcrServe(program, daemon.gatewayUrl, 'none', Math.ceil(image.bytes * 1.25))
        try {
          await copy('ipcr serve memory (filling)', kept.address, ipcrPath, kept.pid)
          const before = await kept.stats()
          const r = await copy('ipcr serve memory', kept.address, ipcrPath, kept.pid, daemon.pid)
          const after = await kept.stats()
          fetchedBetween(r, before, after)
          rows.memory.runs.push(r)
          log(`  ipcr serve memory (${of}): ${r.seconds.toFixed(2)} s, ${r.mbPerSecond.toFixed(1)} MB/s, server peak RSS ${r.peakRssMiB.toFixed(0)} MiB, from the gateway ${fetchedText(r)}`)
        } finally {
          await kept.stop()
        }
      }
    }
    if (previous != null) await rm(previous, { recursive: true, force: true })

    return {
      sizeMiB,
      rounds,
      root: pushed.rootCid,
      // Each round's distribution and warm copies, back to back: their ratio cancels the machine's drift between rounds.
      pairs: rows.distribution.runs.map((d, i) => ({ distribution: d.seconds, warm: rows.warm.runs[i].seconds })),
      image: { bytes: image.bytes, blobs: image.blobs.size, layers: image.layers, manifestDigest: image.manifestDigest },
      rows: Object.values(rows).map(({ key, label, what, runs }) => {
        const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a))
        return {
          key,
          label,
          what,
          seconds: best.seconds,
          mbPerSecond: best.mbPerSecond,
          peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
          rssSinceStart: runs.some((r) => r.rssSinceStart),
          runs: runs.map((r) => r.seconds),
          medianSeconds: median(runs.map((r) => r.seconds)),
          serverCpuSeconds: best.serverCpuSeconds,
          ...(best.kuboCpuSeconds != null ? { kuboCpuSeconds: best.kuboCpuSeconds } : {}),
          ...(best.gatewayBlocks != null ? { gatewayBlocks: best.gatewayBlocks, gatewayBytes: best.gatewayBytes, gatewayFiles: best.gatewayFiles, gatewayFileBytes: best.gatewayFileBytes } : {})
        }
      })
    }
  } finally {
    if (daemon != null) {
      await daemon.stop()
      live.delete(daemon.pid)
    }
    await rm(dir, { recursive: true, force: true })
  }
}
