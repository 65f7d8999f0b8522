import { handleInterrupts } from '../core/interrupt.js'
import { main } from './main.js'

// A reader that stops early (`ipcr --help | head`) is not an error: stop writing, quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
  process.exit(process.exitCode ?? 0)
})
const interrupts = handleInterrupts((message) => { process.stderr.write(`ipcr: ${message}\n`) })
const code = await main(process.argv.slice(2), undefined, { signal: interrupts.signal })
// Cancelled: the command has cleaned up; exit now, whatever may still hold the event loop.
if (interrupts.exitCode != null) process.exit(interrupts.exitCode)
interrupts.dispose()
process.exitCode = code
