import { rmSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { IpcrError } from './errors.js'

/**
 * SIGINT and SIGTERM (a runner's cancel sends SIGINT, then SIGTERM, then SIGKILL)
 * for a process that runs one core operation: the first signal aborts it, so its
 * own cleanup runs; a second one removes the temporary paths still registered,
 * synchronously, and exits at once.
 */

const temporary = new Set<string>()

/** Registers a temporary file or folder that must not outlive the process. */
export function registerTemporary (path: string): void {
  temporary.add(path)
}

/** Forgets a registered path, e.g. once it was moved into place. */
export function releaseTemporary (path: string): void {
  temporary.delete(path)
}

/** Removes a temporary file or folder, then forgets it. */
export async function removeTemporary (path: string): Promise<void> {
  await rm(path, { recursive: true, force: true })
  temporary.delete(path)
}

/** Removes every registered path now, synchronously. */
export function removeTemporaryNow (): void {
  for (const path of temporary) {
    try {
      rmSync(path, { recursive: true, force: true })
    } catch {}
  }
  temporary.clear()
}

const EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 }

export interface Interrupts {
  /** Aborted at the first signal, with an IpcrError ERR_ABORTED "Cancelled by SIGINT". */
  readonly signal: AbortSignal
  /** 130 after SIGINT, 143 after SIGTERM; undefined while no signal came. */
  readonly exitCode: number | undefined
  /** Gives the signals and the exit back to Node's default handling. */
  dispose: () => void
}

/** `notify` tells the user what happens (e.g. on stderr). */
export function handleInterrupts (notify: (message: string) => void): Interrupts {
  const controller = new AbortController()
  let exitCode: number | undefined
  const onSignal = (name: NodeJS.Signals): void => {
    const code = EXIT_CODES[name] as number
    if (exitCode == null) {
      exitCode = code
      notify(`${name} received: cancelling and removing temporary files`)
      controller.abort(new IpcrError('ERR_ABORTED', `Cancelled by ${name}`))
      return
    }
    removeTemporaryNow()
    notify(`${name} received again: temporary files removed, exiting now`)
    process.exit(code)
  }
  const names = Object.keys(EXIT_CODES) as NodeJS.Signals[]
  for (const name of names) process.on(name, onSignal)
  // Any other way out that skips the async cleanup (an uncaught exception, process.exit).
  process.on('exit', removeTemporaryNow)
  return {
    signal: controller.signal,
    get exitCode () { return exitCode },
    dispose: () => {
      for (const name of names) process.off(name, onSignal)
      process.off('exit', removeTemporaryNow)
    }
  }
}
