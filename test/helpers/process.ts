import { spawn } from 'node:child_process'
import { resolve } from 'node:path'

export interface Finished { code: number, stdout: string, stderr: string }

/** Runs a program to its end and collects what it printed; `code` is 1 when a signal ended it. */
export async function runProcess (command: string, args: string[], options: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): Promise<Finished> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c) => { stdout += String(c) })
  child.stderr.on('data', (c) => { stderr += String(c) })
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
  return { code, stdout, stderr }
}

/** The bundled CLI, as a user runs it. */
export const cliPath = resolve('dist/cli.js')

/** Runs `node dist/cli.js ARGS` in `cwd`. */
export async function runCli (args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Finished> {
  return await runProcess(process.execPath, [cliPath, ...args], { cwd, env })
}
