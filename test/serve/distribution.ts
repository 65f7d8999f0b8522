import { spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'

/** Debian's docker-registry (CNCF distribution 2.8.2) on loopback, storing under `dir`. */
export interface DistributionRegistry {
  address: string
  stop: () => Promise<void>
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return port
}

export async function startDistribution (dir: string): Promise<DistributionRegistry> {
  const port = await freePort()
  const address = `127.0.0.1:${port}`
  const config = join(dir, 'config.yml')
  await writeFile(config, [
    'version: 0.1',
    'log:',
    '  level: error',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    'http:',
    `  addr: ${address}`,
    ''
  ].join('\n'))
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve() }))
  const stop = async (): Promise<void> => {
    if (child.exitCode == null) child.kill('SIGTERM')
    await exited
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const answer = await fetch(`http://${address}/v2/`)
      if (answer.status === 200) return { address, stop }
    } catch {}
    if (child.exitCode != null) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await stop()
  throw new Error(`docker-registry did not answer on ${address}`)
}
