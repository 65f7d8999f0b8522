import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startKubo, type KuboNode } from './kubo.js'
import { run, withToolsOnPath } from './tools.js'

/** One IPFS Cluster peer (ipfs-cluster-service v1.1.6) with its own Kubo daemon. */
export interface ClusterPeer {
  name: string
  /** The cluster peer's id. */
  id: string
  kubo: KuboNode
  /** The ipfs-cluster-service process id. */
  pid: number
  /** http://127.0.0.1:PORT of the REST API. */
  apiUrl: string
  /** http://127.0.0.1:PORT of the Pinning Service API (pinsvcapi, no credentials). */
  pinsvcUrl: string
  /** Runs ipfs-cluster-ctl against this peer's REST API (with the cluster's credentials). */
  ctl: (...args: string[]) => Promise<string>
  /** What the daemon printed so far. */
  log: () => string
  stop: () => Promise<void>
}

export interface TestCluster {
  peers: ClusterPeer[]
  /** `user:password` the REST APIs require, when started with basic auth. */
  auth?: string
  stop: () => Promise<void>
}

export interface StartClusterOptions {
  /** Number of peers; default 2. */
  peers?: number
  /** Require HTTP Basic auth on every REST API with this user and password. */
  basicAuth?: { user: string, password: string }
}

/** Waits for `check` to return a value (not undefined), polling at most `attempts` times. */
async function poll<T> (what: string, attempts: number, check: () => Promise<T | undefined>): Promise<T> {
  let last: unknown
  for (let i = 0; i < attempts; i++) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`${what}: not within ${attempts} attempts${last != null ? ` (${String((last as Error).message ?? last)})` : ''}`)
}

function authHeaders (auth?: string): Record<string, string> {
  return auth != null ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {}
}

async function getJson<T> (url: string, auth?: string): Promise<T> {
  const response = await fetch(url, { headers: authHeaders(auth) })
  const text = await response.text()
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}: ${text}`)
  return JSON.parse(text) as T
}

/** Newline-delimited JSON (cluster's streamed lists); empty for 204. */
async function getLines<T> (url: string, auth?: string): Promise<T[]> {
  const response = await fetch(url, { headers: authHeaders(auth) })
  const text = await response.text()
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}: ${text}`)
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T)
}

/**
 * Configures a peer: everything on loopback, ports chosen by the system (read back from the
 * daemon's log), a shared secret, crdt consensus, no mDNS, short metric intervals so a new
 * peer can be allocated pins within seconds.
 */
async function configure (dir: string, name: string, secret: string, kubo: KuboNode, basicAuth?: { user: string, password: string }): Promise<void> {
  const path = join(dir, 'service.json')
  const config = JSON.parse(await readFile(path, 'utf8'))
  const kuboApi = `/ip4/127.0.0.1/tcp/${new URL(kubo.apiUrl).port}`
  Object.assign(config.cluster, {
    peername: name,
    secret,
    listen_multiaddress: ['/ip4/127.0.0.1/tcp/0'],
    enable_relay_hop: false,
    mdns_interval: '0s',
    monitor_ping_interval: '1s',
    peer_watch_interval: '1s'
  })
  config.api.ipfsproxy.listen_multiaddress = '/ip4/127.0.0.1/tcp/0'
  config.api.ipfsproxy.node_multiaddress = kuboApi
  config.api.pinsvcapi.http_listen_multiaddress = '/ip4/127.0.0.1/tcp/0'
  config.api.restapi.http_listen_multiaddress = '/ip4/127.0.0.1/tcp/0'
  if (basicAuth != null) config.api.restapi.basic_auth_credentials = { [basicAuth.user]: basicAuth.password }
  config.ipfs_connector.ipfshttp.node_multiaddress = kuboApi
  config.ipfs_connector.ipfshttp.connect_swarms_delay = '1s'
  config.monitor.pubsubmon.check_interval = '1s'
  for (const informer of Object.values(config.informer) as Array<{ metric_ttl?: string }>) informer.metric_ttl = '3s'
  config.datastore.pebble.pebble_options.cache_size_bytes = 8 * 1024 * 1024
  config.datastore.pebble.pebble_options.mem_table_size = 4 * 1024 * 1024
  await writeFile(path, JSON.stringify(config, null, 2))
}

async function startPeer (index: number, secret: string, bootstrap: string | undefined, basicAuth?: { user: string, password: string }): Promise<ClusterPeer> {
  const name = `peer${index}`
  const kubo = await startKubo({ offline: false })
  const dir = await mkdtemp(join(tmpdir(), 'ipcr-cluster-'))
  const env = withToolsOnPath(process.env)
  const cleanup = async (): Promise<void> => {
    await kubo.stop()
    await rm(dir, { recursive: true, force: true })
  }
  let child: ReturnType<typeof spawn> | undefined
  let output = ''
  try {
    await run('ipfs-cluster-service', ['--config', dir, 'init', '--consensus', 'crdt'], { env })
    await configure(dir, name, secret, kubo, basicAuth)
    const args = ['--config', dir, 'daemon', ...(bootstrap != null ? ['--bootstrap', bootstrap] : [])]
    child = spawn('ipfs-cluster-service', args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.on('data', (c) => { output += String(c) })
    child.stderr?.on('data', (c) => { output += String(c) })
    const running = child
    const exited = new Promise((resolve) => running.once('exit', resolve))
    const listening = (key: string): string | undefined => {
      const match = new RegExp(`${key} \\(HTTP[^)]*\\): /ip4/127\\.0\\.0\\.1/tcp/(\\d+)`).exec(output)
      return match != null ? `http://127.0.0.1:${match[1] as string}` : undefined
    }
    await poll(`${name} ready`, 240, async () => {
      if (running.exitCode != null || running.signalCode != null) throw new Error(`ipfs-cluster-service exited: ${output.slice(-2000)}`)
      return output.includes('IPFS Cluster is READY') && listening('RESTAPI') != null && listening('PINSVCAPI') != null ? true : undefined
    }).catch((err) => { throw new Error(`${(err as Error).message}\n${output.slice(-3000)}`) })
    const apiUrl = listening('RESTAPI') as string
    const pinsvcUrl = listening('PINSVCAPI') as string
    const auth = basicAuth != null ? `${basicAuth.user}:${basicAuth.password}` : undefined
    const { id } = await getJson<{ id: string }>(`${apiUrl}/id`, auth)
    const ctl = async (...ctlArgs: string[]): Promise<string> => await run('ipfs-cluster-ctl', [
      '--host', `/ip4/127.0.0.1/tcp/${new URL(apiUrl).port}`, ...(auth != null ? ['--basic-auth', auth, '--force-http'] : []), ...ctlArgs
    ], { env })
    const stop = async (): Promise<void> => {
      if (running.exitCode == null && running.signalCode == null) {
        running.kill('SIGTERM')
        await exited
      }
      await cleanup()
    }
    return { name, id, kubo, pid: running.pid as number, apiUrl, pinsvcUrl, ctl, log: () => output, stop }
  } catch (err) {
    if (child != null && child.exitCode == null && child.signalCode == null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    await cleanup()
    throw err
  }
}

/**
 * Starts `peers` cluster peers (crdt consensus, one shared secret), each with its own
 * online Kubo, the later ones bootstrapped to the first; returns once every peer lists
 * all the others and has their freespace metric (so pins can be allocated to them).
 */
export async function startCluster (options: StartClusterOptions = {}): Promise<TestCluster> {
  const count = options.peers ?? 2
  const secret = randomBytes(32).toString('hex')
  const auth = options.basicAuth != null ? `${options.basicAuth.user}:${options.basicAuth.password}` : undefined
  const peers: ClusterPeer[] = []
  const stop = async (): Promise<void> => {
    for (const peer of peers.reverse()) await peer.stop()
  }
  try {
    const first = await startPeer(0, secret, undefined, options.basicAuth)
    peers.push(first)
    const { addresses } = await getJson<{ addresses: string[] }>(`${first.apiUrl}/id`, auth)
    const bootstrap = addresses.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'))
    if (bootstrap == null) throw new Error(`no loopback tcp address for ${first.name}: ${JSON.stringify(addresses)}`)
    for (let i = 1; i < count; i++) peers.push(await startPeer(i, secret, bootstrap, options.basicAuth))
    const ids = peers.map((p) => p.id).sort()
    for (const peer of peers) {
      await poll(`${peer.name} lists every peer`, 240, async () => {
        const listed = (await getLines<{ id: string }>(`${peer.apiUrl}/peers`, auth)).map((p) => p.id).sort()
        return JSON.stringify(listed) === JSON.stringify(ids) ? true : undefined
      })
      await poll(`${peer.name} has every peer's freespace metric`, 240, async () => {
        const metrics = await getJson<Array<{ peer: string }> | null>(`${peer.apiUrl}/monitor/metrics/freespace`, auth)
        const seen = new Set((metrics ?? []).map((m) => m.peer))
        return ids.every((id) => seen.has(id)) ? true : undefined
      })
    }
    return { peers: [...peers], ...(auth != null ? { auth } : {}), stop }
  } catch (err) {
    await stop()
    throw err
  }
}
