import { spawn, type ChildProcess } from 'node:child_process'
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
  ipfs: (...args: string[]) => Promise<string>
  stop: () => Promise<void>
}

async function waitForFile (path: string, child: ChildProcess, log: () => string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode != null) throw new Error(`ipfs daemon exited (${child.exitCode}): ${log()}`)
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
export async function startKubo (options: { offline?: boolean } = {}): Promise<KuboNode> {
  const ipfsPath = await mkdtemp(join(tmpdir(), 'ipcr-kubo-'))
  const env = withToolsOnPath({ ...process.env, IPFS_PATH: ipfsPath })
  const ipfs = async (...args: string[]): Promise<string> => await run('ipfs', args, { env })
  await ipfs('init', '--profile=test,unixfs-v1-2025')
  const child = spawn('ipfs', ['daemon', ...(options.offline === false ? [] : ['--offline'])], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout?.on('data', (c) => { log += String(c) })
  child.stderr?.on('data', (c) => { log += String(c) })
  const stop = async (): Promise<void> => {
    if (child.exitCode == null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    await rm(ipfsPath, { recursive: true, force: true })
  }
  try {
    const api = await waitForFile(join(ipfsPath, 'api'), child, () => log)
    const gatewayUrl = await waitForFile(join(ipfsPath, 'gateway'), child, () => log)
    const port = api.split('/').pop() as string
    return { ipfsPath, apiUrl: `http://127.0.0.1:${port}`, gatewayUrl, ipfs, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
