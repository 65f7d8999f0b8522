// Kubo in the benchmark: where the `ipfs` binary is, fresh repos with the unixfs-v1-2025
// profile, a daemon on loopback (offline, or online with no peers), and ipcr's own Kubo import (src/core/kubo,
// bundled on the fly with esbuild, as the generator in image.mjs is).
import { spawn, spawnSync } from 'node:child_process'
import { accessSync, constants, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { bundleEntry } from './bundle-entry.mjs'

/** The `ipfs` binary on PATH or in scripts/install-deps.sh's tool dir, or null. */
export function findIpfs () {
  const toolsBin = process.env.IPCR_TOOLS_BIN ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ipcr-tools', 'bin')
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), toolsBin]) {
    if (dir === '') continue
    const path = join(dir, 'ipfs')
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return null
}

export function ipfsVersion (ipfs) {
  const r = spawnSync(ipfs, ['version', '--number'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}

/** `ipfs init` of a new repo at `path` with the profiles ipcr builds trees with; no daemon. */
export function initRepo (ipfs, path) {
  const r = spawnSync(ipfs, ['init', '--profile=test,unixfs-v1-2025'], { env: { ...process.env, IPFS_PATH: path }, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ipfs init failed: ${(r.stderr ?? '').trim()}`)
  return { ...process.env, IPFS_PATH: path }
}

/** VmHWM (peak resident set) of a pid in MiB, or 0. */
export function peakRssMiB (pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m != null ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}

/**
 * `ipfs daemon --offline` on `path` (127.0.0.1, random ports: the `test` profile).
 * With `online: true`, `ipfs daemon` without --offline: still loopback only and with
 * no bootstrap peers (the `test` profile), so it has no peers, but routing/get works.
 * Resolves { apiUrl, gatewayUrl, pid, stop } once the API answers (gatewayUrl: the
 * `gateway` file's URL, awaited too with `gateway: true`, else null when not written yet).
 */
export async function startDaemon (ipfs, path, { online = false, gateway = false } = {}) {
  const env = { ...process.env, IPFS_PATH: path }
  const child = spawn(ipfs, ['daemon', ...(online ? [] : ['--offline'])], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-4000) })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const stop = async () => {
    if (child.exitCode == null && child.signalCode == null) {
      child.kill('SIGTERM')
      await exited
    }
  }
  for (let i = 0; i < 300; i++) {
    if (child.exitCode != null) break
    const api = await readFile(join(path, 'api'), 'utf8').catch(() => '')
    const gatewayUrl = (await readFile(join(path, 'gateway'), 'utf8').catch(() => '')).trim()
    if (api.trim() !== '' && (!gateway || gatewayUrl !== '')) return { apiUrl: `http://127.0.0.1:${api.trim().split('/').pop()}`, gatewayUrl: gatewayUrl === '' ? null : gatewayUrl, pid: child.pid, stop }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await stop()
  throw new Error(`ipfs daemon did not start: ${stderr.trim()}`)
}

/**
 * Bundles a small program around ipcr's KuboDestination into `outDir` and returns its
 * path. `node <it> API_URL CAR ROOT BLOCKS` runs the destination's preflight and store
 * (streamed `dag import`, named recursive pin, pin check) and prints the report as JSON.
 */
export async function buildKuboImporter (repoRoot, outDir) {
  const outfile = join(outDir, 'kubo-import.mjs')
  const contents = `
    import { CID } from 'multiformats/cid'
    import { KuboDestination } from './src/core/kubo/destination.ts'
    const [url, car, root, blocks] = process.argv.slice(2)
    const dest = new KuboDestination({ url, pinName: 'ipcr bench', timeoutMs: 3_600_000, retries: 0 })
    await dest.preflight({})
    const report = await dest.store({ root: CID.parse(root), previousRoot: null, carPath: car, result: { car: { path: car, blocks: Number(blocks) } } })
    process.stdout.write(JSON.stringify(report) + '\\n')
  `
  await bundleEntry(repoRoot, contents, outfile)
  return outfile
}
