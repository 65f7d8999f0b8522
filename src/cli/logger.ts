import { escapeControl, redact, type Logger } from '../core/index.js'

/**
 * Human output goes to stderr so that --json output on stdout stays clean.
 * Messages carry text from images and remote services: control characters
 * (terminal escape sequences, carriage returns, newlines) are shown escaped,
 * and known secrets are redacted.
 */
export function cliLogger (quiet: boolean, verbose: boolean): Logger {
  const write = (line: string): void => { process.stderr.write(`${escapeControl(redact(line))}\n`) }
  return {
    debug: (m) => { if (verbose) write(m) },
    info: (m) => { if (!quiet) write(m) },
    warn: (m) => { write(`warning: ${m}`) },
    group: async (name, fn) => {
      if (!quiet) write(`== ${name}`)
      return await fn()
    }
  }
}
