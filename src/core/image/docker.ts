import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { stat } from 'node:fs/promises'
import { InputError, IpcrError, throwIfAborted } from '../errors.js'
import type { AbortOptions, Logger } from '../logger.js'
import { Progress, PROGRESS_INTERVAL_MS } from '../progress.js'

/** Runs a command to completion; resolves with its exit code and stderr (exit code 127 when it cannot start). */
export type CommandRunner = (command: string, args: string[], options: AbortOptions) => Promise<{ exitCode: number, stderr: string }>

const STDERR_LIMIT = 64 * 1024

export interface SpawnRunnerOptions {
  /** Called before the command starts, e.g. to echo it. */
  onStart?: (command: string, args: string[]) => void
  /** Each piece of the command's stderr as it comes, e.g. to show it live. */
  onStderr?: (text: string) => void
}

/**
 * A CommandRunner on child_process.spawn; stdout is discarded. Aborting the
 * signal kills the command (SIGKILL) and rejects with the signal's reason once
 * it has ended, so nothing it writes outlives the call.
 */
export function spawnCommandRunner (hooks: SpawnRunnerOptions = {}): CommandRunner {
  return async (command, args, options) => {
    throwIfAborted(options.signal)
    hooks.onStart?.(command, args)
    return await new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], signal: options.signal, killSignal: 'SIGKILL' })
      let stderr = ''
      let failure: NodeJS.ErrnoException | undefined
      child.stderr.setEncoding('utf8')
      child.stderr.on('data', (chunk: string) => {
        hooks.onStderr?.(chunk)
        stderr = (stderr + chunk).slice(-STDERR_LIMIT)
      })
      // 'close' follows 'error' too: settle there, once the process is gone.
      child.on('error', (err: NodeJS.ErrnoException) => { failure ??= err })
      child.on('close', (code, signal) => {
        if (options.signal?.aborted === true) {
          try {
            throwIfAborted(options.signal)
          } catch (err) {
            reject(err)
          }
        } else if (failure?.code === 'ENOENT') {
          resolve({ exitCode: 127, stderr: `${command}: command not found` })
        } else if (failure != null) {
          reject(failure)
        } else {
          resolve({ exitCode: code ?? (signal != null ? 128 : 1), stderr })
        }
      })
    })
  }
}

export const nodeCommandRunner: CommandRunner = spawnCommandRunner()

export interface SaveDockerImageOptions extends AbortOptions {
  run: CommandRunner
  /** The command that exports: docker (default) or podman, which takes the same arguments. */
  command?: string
  /** The tar is written here; the caller removes it. */
  tempDir: string
  /** The user-facing name of the input, for errors. */
  input: string
  /** Where the export's progress goes (the size of the tar so far, polled). */
  logger?: Logger
  /** How often the tar's size is polled and printed; default PROGRESS_INTERVAL_MS. */
  progressIntervalMs?: number
}

const MISSING_IMAGE = /no such image|image not known|reference does not exist|not found/i

/** Exports a local image with `docker save --output` (or `podman save`); returns the tar's path. */
export async function saveDockerImage (ref: string, options: SaveDockerImageOptions): Promise<string> {
  if (ref === '' || ref.startsWith('-') || /\s/.test(ref)) throw new InputError(options.input, `'${ref}' is not a Docker image reference`)
  const safe = ref.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)
  const hash = createHash('sha256').update(ref).digest('hex').slice(0, 8)
  const output = join(options.tempDir, `${safe}-${hash}.tar`)
  const command = options.command ?? 'docker'
  const { exitCode, stderr } = await withSizeProgress(output, options, async () =>
    await options.run(command, ['save', '--output', output, ref], { signal: options.signal }))
  throwIfAborted(options.signal)
  if (exitCode === 0) return output
  const detail = stderr.trim()
  if (exitCode === 127) throw new IpcrError('ERR_DOCKER', `Cannot run the ${command} CLI to export '${ref}': ${detail}`)
  if (MISSING_IMAGE.test(detail)) {
    throw new InputError(options.input, `${command === 'docker' ? 'Docker' : command} has no image '${ref}' (build or pull it first): ${detail}`)
  }
  throw new IpcrError('ERR_DOCKER', `${command} save '${ref}' failed with exit code ${exitCode}: ${detail}`)
}

/**
 * Runs `work` while polling the size of `file` (written by another process)
 * and printing it as progress: `docker save` prints nothing while it writes.
 */
async function withSizeProgress<T> (file: string, options: SaveDockerImageOptions, work: () => Promise<T>): Promise<T> {
  const { logger } = options
  if (logger == null) return await work()
  const interval = options.progressIntervalMs ?? PROGRESS_INTERVAL_MS
  const progress = new Progress(logger, 'exported', undefined, interval)
  let polling = false
  const timer = setInterval(() => {
    if (polling) return
    polling = true
    stat(file).then((s) => { progress.report(s.size) }, () => {}).finally(() => { polling = false })
  }, interval)
  try {
    const result = await work()
    const size = await stat(file).then((s) => s.size, () => undefined)
    if (size != null) progress.report(size)
    return result
  } finally {
    clearInterval(timer)
  }
}
