import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { makeTempDir } from './images.js'

const action = resolve('dist/action.js')

export interface Run { code: number, stdout: string, outputs: Record<string, string>, summary: string }

/** Runs dist/action.js the way a runner does: INPUT_* variables and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files. */
export async function runAction (inputs: Record<string, string>, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const work = await makeTempDir('ipcr-runner-')
  const outputFile = join(work, 'output')
  const summaryFile = join(work, 'summary')
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    DOCKER_HOST: process.env.DOCKER_HOST,
    HOME: process.env.HOME,
    RUNNER_TEMP: work,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_SHA: 'deadbeef',
    ...extraEnv
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  const child = spawn(process.execPath, [action], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  child.stdout.on('data', (c) => { stdout += String(c) })
  child.stderr.on('data', (c) => { stdout += String(c) })
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
  const outputs: Record<string, string> = {}
  const text = await readFile(outputFile, 'utf8')
  for (const m of text.matchAll(/^([\w-]+)<<(ghadelimiter_[\w-]+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1] as string] = m[3] as string
  return { code, stdout, outputs, summary: await readFile(summaryFile, 'utf8') }
}

