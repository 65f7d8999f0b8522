import { execFile } from 'node:child_process'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)

/** Where scripts/install-deps.sh puts the Go tools (ipfs, regctl). */
export const toolsBin = process.env.IPCR_TOOLS_BIN ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ipcr-tools', 'bin')

export function withToolsOnPath(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const path = env.PATH ?? ''
  return path.split(':').includes(toolsBin) ? env : { ...env, PATH: `${toolsBin}:${path}` }
}

/** Runs a command and returns stdout; the error carries stderr. */
export async function run (cmd: string, args: string[], options: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, {
      cwd: options.cwd,
      env: withToolsOnPath(options.env ?? process.env),
      maxBuffer: 64 * 1024 * 1024
    })
    return stdout
  } catch (err: any) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr ?? err.message}`)
  }
}

export async function hasCommand (cmd: string): Promise<boolean> {
  try {
    await execFileP('sh', ['-c', `command -v ${cmd}`], { env: withToolsOnPath() })
    return true
  } catch {
    return false
  }
}
