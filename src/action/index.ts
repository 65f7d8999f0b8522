import * as core from '@actions/core'
import { handleInterrupts } from '../core/interrupt.js'
import { run } from './main.js'

const interrupts = handleInterrupts((message) => { core.info(message) })
await run({ signal: interrupts.signal })
// Cancelled: the run has cleaned up; exit now, whatever may still hold the event loop.
if (interrupts.exitCode != null) process.exit(interrupts.exitCode)
interrupts.dispose()
