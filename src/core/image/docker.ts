import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { InputError, IpcrError, throwIfAborted } from '../errors.js'
import type { AbortOptions } from '../logger.js'

/** Runs a command to completion; resolves with its exit code and stderr (exit code 127 when it cannot start). */
export type CommandRunner = (command: string, args: string[], options: AbortOptions) => Promise<{ exitCode: number, stderr: string }>

const STDERR_LIMIT = 64 * 1024

/** A CommandRunner on child_process.spawn; stdout is discarded. */
export const nodeCommandRunner: CommandRunner = async (command, args, options) => {
  throwIfAborted(options.signal)
  return await new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], signal: options.signal })
    let stderr = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_LIMIT)
    })
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (options.signal?.aborted === true) reject(options.signal.reason ?? err)
      else if (err.code === 'ENOENT') resolve({ exitCode: 127, stderr: `${command}: command not found` })
      else reject(err)
    })
    child.on('close', (code, signal) => {
      if (options.signal?.aborted === true) return
      resolve({ exitCode: code ?? (signal != null ? 128 : 1), stderr })
    })
  })
}

export interface SaveDockerImageOptions extends AbortOptions {
  run: CommandRunner
  /** The tar is written here; the caller removes it. */
  tempDir: string
  /** The user-facing name of the input, for errors. */
  input: string
}

const MISSING_IMAGE = /no such image|image not known|reference does not exist|not found/i

/** Exports a local Docker image with `docker save --output`; returns the tar's path. */
export async function saveDockerImage (ref: string, options: SaveDockerImageOptions): Promise<string> {
  if (ref === '' || ref.startsWith('-') || /\s/.test(ref)) throw new InputError(options.input, `'${ref}' is not a Docker image reference`)
  const safe = ref.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)
  const hash = createHash('sha256').update(ref).digest('hex').slice(0, 8)
  const output = join(options.tempDir, `${safe}-${hash}.tar`)
  const { exitCode, stderr } = await options.run('docker', ['save', '--output', output, ref], { signal: options.signal })
  throwIfAborted(options.signal)
  if (exitCode === 0) return output
  const detail = stderr.trim()
  if (exitCode === 127) throw new IpcrError('ERR_DOCKER', `Cannot run the docker CLI to export '${ref}': ${detail}`)
  if (MISSING_IMAGE.test(detail)) {
    throw new InputError(options.input, `Docker has no image '${ref}' (build or pull it first): ${detail}`)
  }
  throw new IpcrError('ERR_DOCKER', `docker save '${ref}' failed with exit code ${exitCode}: ${detail}`)
}
