import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run, withToolsOnPath } from './tools.js'

export interface KuboNode {
  ipfsPath: string
  /** http://127.0.0.1:PORT of the RPC API. */
  apiUrl: string
  /** http://127.0.0.1:PORT of the gateway. */
  gatewayUrl: string
  /** The daemon's process id. */
  pid: number
  /** Runs the `ipfs` CLI against this node (with `--api-auth` when one was given). */
  ipfs: (...args: string[]) => Promise<string>
  /** Kills the daemon with `signal` and waits for it to exit; the repo stays. */
  kill: (signal?: NodeJS.Signals) => Promise<void>
  /** Stops the daemon; removes the repo unless the caller gave its own `ipfsPath`. */
  stop: () => Promise<void>
}

export interface StartKuboOptions {
  /** `--offline` unless false; online nodes listen on 127.0.0.1 only and have no bootstrap peers. */
  offline?: boolean
  /**
   * An IPFS_PATH to use (initialised only when it has no config yet), e.g. to restart
   * a node on the same repo. The caller owns it: stop() leaves it in place.
   */
  ipfsPath?: string
  /** `ipfs config --json KEY VALUE` for each entry before the daemon starts, e.g. API.Authorizations. */
  config?: Record<string, unknown>
  /** `--api-auth` for the helper's own CLI calls, e.g. 'bearer:s3cret' when API.Authorizations is set. */
  apiAuth?: string
  /**
   * More `ipfs init` profiles, e.g. 'pebbleds' (blocks in pebble instead of one file each
   * in flatfs: several times faster for tens of thousands of small blocks).
   */
  profiles?: string[]
}

async function waitForFile (path: string, child: ChildProcess, log: () => string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode != null || child.signalCode != null) throw new Error(`ipfs daemon exited (${child.exitCode ?? child.signalCode}): ${log()}`)
    try {
      const text = (await readFile(path, 'utf8')).trim()
      if (text !== '') return text
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`ipfs daemon did not write ${path} within 30 s: ${log()}`)
}

/**
 * Starts a real Kubo daemon with its own IPFS_PATH, the unixfs-v1-2025 profile,
 * no bootstrap peers and loopback-only random ports (Kubo's `test` profile).
 */
export async function startKubo (options: StartKuboOptions = {}): Promise<KuboNode> {
  const owned = options.ipfsPath == null
  const ipfsPath = options.ipfsPath ?? await mkdtemp(join(tmpdir(), 'ipcr-kubo-'))
  const env = withToolsOnPath({ ...process.env, IPFS_PATH: ipfsPath })
  const auth = options.apiAuth != null ? [`--api-auth=${options.apiAuth}`] : []
  const ipfs = async (...args: string[]): Promise<string> => await run('ipfs', [...auth, ...args], { env })
  if (!existsSync(join(ipfsPath, 'config'))) await run('ipfs', ['init', `--profile=${['test', 'unixfs-v1-2025', ...(options.profiles ?? [])].join(',')}`], { env })
  for (const [key, value] of Object.entries(options.config ?? {})) await run('ipfs', ['config', '--json', key, JSON.stringify(value)], { env })
  // A daemon that was killed leaves its `api` and `gateway` files behind: they name its old ports.
  await rm(join(ipfsPath, 'api'), { force: true })
  await rm(join(ipfsPath, 'gateway'), { force: true })
  const child = spawn('ipfs', ['daemon', ...(options.offline === false ? [] : ['--offline'])], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout?.on('data', (c) => { log += String(c) })
  child.stderr?.on('data', (c) => { log += String(c) })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode == null && child.signalCode == null) {
      child.kill(signal)
      await exited
    }
  }
  const stop = async (): Promise<void> => {
    await kill('SIGTERM')
    if (owned) await rm(ipfsPath, { recursive: true, force: true })
  }
  try {
    const api = await waitForFile(join(ipfsPath, 'api'), child, () => log)
    const gatewayUrl = await waitForFile(join(ipfsPath, 'gateway'), child, () => log)
    const port = api.split('/').pop() as string
    return { ipfsPath, apiUrl: `http://127.0.0.1:${port}`, gatewayUrl, pid: child.pid as number, ipfs, kill, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** The node's /ip4/127.0.0.1/tcp/PORT/p2p/ID address, from `ipfs id`. */
export async function swarmAddress (node: KuboNode): Promise<string> {
  const id = JSON.parse(await node.ipfs('id')) as { ID: string, Addresses: string[] | null }
  const address = (id.Addresses ?? []).find((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//.test(a))
  if (address == null) throw new Error(`no /ip4/127.0.0.1/tcp address in ipfs id: ${JSON.stringify(id.Addresses)}`)
  return address
}

/** `swarm connect` from `from` to `to`; returns once `from` lists `to` among its peers. */
export async function connectNodes (from: KuboNode, to: KuboNode): Promise<void> {
  const address = await swarmAddress(to)
  await from.ipfs('swarm', 'connect', address)
  const peer = address.split('/p2p/')[1] as string
  if (!(await from.ipfs('swarm', 'peers')).includes(peer)) throw new Error(`swarm connect to ${address} returned, but ${peer} is not among the peers`)
}
