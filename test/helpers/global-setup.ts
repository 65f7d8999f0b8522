import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hasCommand, run, withToolsOnPath } from './tools.js'

/** Starts podman's Docker-compatible API for the real docker CLI, unless DOCKER_HOST is already set. */
export default async function globalSetup (): Promise<void> {
  process.env.PATH = withToolsOnPath().PATH
  process.env.DOCKER_BUILDKIT = '0'
  if (process.env.DOCKER_HOST != null || !(await hasCommand('podman'))) return
  const dir = mkdtempSync(join(tmpdir(), 'ipcr-podman-'))
  const socket = `unix://${join(dir, 'docker.sock')}`
  const child = spawn('podman', ['system', 'service', '--time=0', socket], { stdio: 'ignore', detached: false })
  ;(globalThis as any).__ipcrPodman = child
  process.env.DOCKER_HOST = socket
  for (let i = 0; i < 100; i++) {
    try {
      await run('docker', ['version', '--format', '{{.Server.Version}}'])
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  child.kill()
  throw new Error('podman system service did not start within 10 s')
}
