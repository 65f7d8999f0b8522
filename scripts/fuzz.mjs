#!/usr/bin/env node
// npm run fuzz [-- --target tar|json|car|dag|all] [--seed N] [--seconds S] [--out DIR]
//               [--path P] [--runs N] [--stall S] [--cpu-ms MS] [--max-reads N] [--max-rss-mb MB]
//               [--tar-scale FLOOD,CHAIN,DEPTH]   (tar sizes; default 12000,200,400)
//
// Replay a failure: npm run fuzz -- --target T --seed N --path P (as printed with it).
// --runs N stops a target after N inputs (or its share of --seconds, whichever comes first).
//
// Property-based fuzzing of the inputs ipcr reads from others (fast-check, test/fuzz/): image
// tarballs, the JSON of image layouts and catalog.json, CAR files, and UnixFS DAGs. The property:
// each call succeeds or throws an IpcrError with a message; no other error, no unhandled rejection,
// nothing left in the temp folder, bounded block reads, RSS and (here only) CPU time per input.
//
// Each target runs in a child process (bundled from test/fuzz/main.ts with esbuild), for its share
// of --seconds. The seed (random unless given) is printed; every failure prints its class, message,
// seed and fast-check path, with the replay command, and its shrunk input is written to --out
// (default ./fuzz-out). A child that stops reporting for --stall seconds is killed and reported as
// a hang with the input it was on; a child that dies is reported as a crash. Exit 1 on any failure.
import { fork } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)))
const TARGETS = ['tar', 'json', 'car', 'dag']

let args
try {
  args = parseArgs({
    options: {
      target: { type: 'string', default: 'all' },
      seed: { type: 'string' },
      seconds: { type: 'string', default: '60' },
      runs: { type: 'string' },
      path: { type: 'string' },
      out: { type: 'string', default: 'fuzz-out' },
      stall: { type: 'string', default: '30' },
      'cpu-ms': { type: 'string', default: '3000' },
      'max-reads': { type: 'string' },
      'max-rss-mb': { type: 'string' },
      'tar-scale': { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  }).values
} catch (err) {
  console.error(`fuzz: ${err.message}`)
  process.exit(2)
}
if (args.help) {
  console.log('npm run fuzz -- [--target tar|json|car|dag|all] [--seed N] [--seconds S] [--out DIR] [--path P] [--runs N] [--stall S] [--cpu-ms MS] [--max-reads N] [--max-rss-mb MB] [--tar-scale FLOOD,CHAIN,DEPTH]')
  process.exit(0)
}
const targets = args.target === 'all' ? TARGETS : [args.target]
if (!targets.every((t) => TARGETS.includes(t))) {
  console.error(`fuzz: --target must be one of ${TARGETS.join(', ')} or all`)
  process.exit(2)
}
const seed = args.seed != null ? Number(args.seed) : Math.floor(Math.random() * 2 ** 31)
if (!Number.isSafeInteger(seed)) {
  console.error('fuzz: --seed must be an integer')
  process.exit(2)
}
const seconds = Number(args.seconds)
const out = resolve(args.out)
mkdirSync(out, { recursive: true })
const work = mkdtempSync(join(tmpdir(), 'ipcr-fuzz-'))
const bundle = join(work, 'fuzz.mjs')
await build({
  entryPoints: [join(repo, 'test', 'fuzz', 'main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outfile: bundle,
  sourcemap: 'inline',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __fuzzRequire } from 'node:module'; const require = __fuzzRequire(import.meta.url);" }
})

console.log(`fuzz: seed ${seed}, ${seconds} s over ${targets.join(', ')}, inputs that fail go to ${out}`)
// Failure classes seen (a restarted child finds the known ones again: they are printed once).
const classes = new Map()

/** Runs one target until its time is up, restarting the child after a hang or a crash. */
async function runTarget (target, share) {
  const deadline = Date.now() + share * 1000
  let round = 0
  let inputs = 0
  const outcomes = { accepted: 0, refused: 0, failed: 0 }
  while (Date.now() < deadline) {
    const childSeed = seed + round * 100003
    round++
    const left = Math.max(1, Math.round((deadline - Date.now()) / 1000))
    const childArgs = ['--target', target, '--seed', String(childSeed), '--out', out, '--work', join(work, target), '--cpu-ms', args['cpu-ms']]
    childArgs.push('--seconds', String(left))
    if (args.runs != null) childArgs.push('--runs', args.runs)
    if (args.path != null) childArgs.push('--path', args.path)
    if (args['max-reads'] != null) childArgs.push('--max-reads', args['max-reads'])
    if (args['max-rss-mb'] != null) childArgs.push('--max-rss-mb', args['max-rss-mb'])
    if (args['tar-scale'] != null) childArgs.push('--tar-scale', args['tar-scale'])
    const child = fork(bundle, childArgs, { execArgv: ['--enable-source-maps', '--max-old-space-size=3072'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let ext = 'bin'
    let last = Date.now()
    let done = false
    child.on('message', (message) => {
      last = Date.now()
      if (message.type === 'input') { inputs++; ext = message.ext }
      if (message.type === 'failure' && !classes.has(message.failure.signature)) {
        classes.set(message.failure.signature, message.failure.seed)
        console.log(message.text + '\n')
      }
      if (message.type === 'done') {
        done = true
        for (const key of Object.keys(outcomes)) outcomes[key] += message.outcomes[key]
      }
    })
    const watch = setInterval(() => {
      if (Date.now() - last > Number(args.stall) * 1000) child.kill('SIGKILL')
    }, 1000)
    const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(signal ?? c)))
    clearInterval(watch)
    if (!done) {
      const kind = code === 'SIGKILL' ? `hang: no progress for ${args.stall} s` : `crash: the child exited with ${code}`
      const current = join(out, `current-${target}.${ext}`)
      const kept = join(out, `${target}-seed${childSeed}-${code === 'SIGKILL' ? 'hang' : 'crash'}.${ext}`)
      if (existsSync(current)) copyFileSync(current, kept)
      classes.set(`${target}: ${kind} (seed ${childSeed})`, childSeed)
      console.log(`FAIL ${target}: ${kind}\n  seed ${childSeed}  input ${existsSync(kept) ? kept : '(none)'}\n`)
    }
    if (args.path != null || args.runs != null) break
  }
  for (const name of readdirSync(out)) if (name.startsWith(`current-${target}.`)) rmSync(join(out, name), { force: true })
  return { inputs, outcomes }
}

const share = seconds / targets.length
for (const target of targets) {
  const { inputs, outcomes } = await runTarget(target, share)
  console.log(`fuzz: ${target}: ${inputs} inputs (${outcomes.accepted} accepted, ${outcomes.refused} refused with an IpcrError, ${outcomes.failed} failed, in the children that finished)`)
}
rmSync(work, { recursive: true, force: true })
console.log(`fuzz: ${classes.size === 0 ? 'no failures' : `${classes.size} failure classes:`} (seed ${seed})`)
for (const [signature, classSeed] of classes) console.log(`  ${signature}  [seed ${classSeed}]`)
process.exit(classes.size === 0 ? 0 : 1)
