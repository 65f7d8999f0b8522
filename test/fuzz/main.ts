// The fuzz worker: runs one target for a while and reports over IPC (or stdout) as it goes.
// Started by scripts/fuzz.mjs (npm run fuzz), which bundles this file and watches the process.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { describe, fuzzTarget, type Failure } from './harness.js'
import { FULL_TAR_SCALE, tarTargetWith } from './tar.js'
import { targets } from './targets.js'

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    seed: { type: 'string' },
    seconds: { type: 'string' },
    runs: { type: 'string' },
    path: { type: 'string' },
    out: { type: 'string' },
    work: { type: 'string' },
    'max-reads': { type: 'string' },
    'max-rss-mb': { type: 'string' },
    'cpu-ms': { type: 'string' },
    'tar-scale': { type: 'string' }
  }
})

const send = (message: unknown): void => {
  if (process.send != null) process.send(message)
  else console.log(JSON.stringify(message))
}

// --tar-scale FLOOD,CHAIN,DEPTH: the largest pax flood and symlink chain, the deepest chain folders.
const scale = values['tar-scale']?.split(',').map(Number)
const target = values.target === 'tar' && scale != null
  ? tarTargetWith({ flood: scale[0] ?? FULL_TAR_SCALE.flood, chain: scale[1] ?? FULL_TAR_SCALE.chain, depth: scale[2] ?? FULL_TAR_SCALE.depth })
  : targets[values.target ?? '']
if (target == null) throw new Error(`unknown target ${values.target}`)
const out = values.out as string
let count = 0
const outcomes = { accepted: 0, refused: 0, failed: 0 }
const failures: Failure[] = await fuzzTarget(target, {
  seed: Number(values.seed),
  ...(values.runs != null ? { numRuns: Number(values.runs) } : {}),
  ...(values.seconds != null ? { deadline: Date.now() + Number(values.seconds) * 1000 } : {}),
  ...(values.path != null ? { path: values.path } : {}),
  outDir: out,
  workDir: values.work as string,
  limits: {
    ...(values['max-reads'] != null ? { maxReads: Number(values['max-reads']) } : {}),
    ...(values['max-rss-mb'] != null ? { maxRss: Number(values['max-rss-mb']) * 2 ** 20 } : {}),
    ...(values['cpu-ms'] != null ? { cpuBudgetMs: Number(values['cpu-ms']) } : {})
  },
  onInput: (save) => {
    count++
    // Kept until the next input: what a hang or a crash leaves for the watcher to report.
    const { ext, bytes } = save()
    writeFileSync(join(out, `current-${target.name}.${ext}`), bytes)
    send({ type: 'input', count, ext })
  },
  onOutcome: (outcome) => { outcomes[outcome]++ },
  onFailure: (failure) => send({ type: 'failure', failure, text: describe(failure) })
})
send({ type: 'done', count, outcomes, failures: failures.length })
