import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../helpers/tools.js'

/**
 * A podman Docker API of its own, whose registries.conf marks `registry` (host:port) insecure:
 * podman's Docker API has no per-pull TLS switch, and the docker CLI asks it for https.
 */
export async function startPodmanApi (dir: string, registry: string): Promise<{ env: NodeJS.ProcessEnv, stop: () => Promise<void> }> {
  const conf = join(dir, 'registries.conf')
  await writeFile(conf, `unqualified-search-registries = []\n\n[[registry]]\nlocation = "${registry}"\ninsecure = true\n`)
  const socket = `unix://${join(dir, 'docker.sock')}`
  const child = spawn('podman', ['system', 'service', '--time=0', socket], { stdio: 'ignore', env: { ...process.env, CONTAINERS_REGISTRIES_CONF: conf } })
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve() }))
  const stop = async (): Promise<void> => {
    if (child.exitCode == null) child.kill('SIGTERM')
    await exited
  }
  const env = { ...process.env, DOCKER_HOST: socket }
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await run('docker', ['version', '--format', '{{.Server.Version}}'], { env })
      return { env, stop }
    } catch {}
    if (child.exitCode != null) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await stop()
  throw new Error('podman system service did not start')
}
