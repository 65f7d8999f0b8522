// Plain JS: jest loads global setup outside its module mapper.
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)

/** Puts the project's Go tools on PATH and starts podman's Docker API, unless DOCKER_HOST is set. */
export default async function globalSetup () {
  const toolsBin = process.env.IPCR_TOOLS_BIN ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ipcr-tools', 'bin')
  process.env.PATH = `${toolsBin}:${process.env.PATH}`
  process.env.DOCKER_BUILDKIT = '0'
  if (process.env.DOCKER_HOST != null) return
  try {
    await execFileP('sh', ['-c', 'command -v podman'])
  } catch {
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'ipcr-podman-'))
  const socket = `unix://${join(dir, 'docker.sock')}`
  const child = spawn('podman', ['system', 'service', '--time=0', socket], { stdio: 'ignore' })
  globalThis.__ipcrPodman = child
  process.env.DOCKER_HOST = socket
  for (let i = 0; i < 100; i++) {
    try {
      await execFileP('docker', ['version', '--format', '{{.Server.Version}}'])
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  child.kill()
  throw new Error('podman system service did not start within 10 s')
}
