// The fuzzing harness: runs a target's property over generated inputs with fast-check,
// checks the outcome (success, or an IpcrError with a message; nothing left behind; bounded
// work and memory), sorts failures into classes, and keeps one minimised input per class.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../../src/core/blocks/types.js'
import { IpcrError } from '../../src/core/errors.js'
import type { AbortOptions } from '../../src/core/logger.js'

/** Where one input may write: `out` and `temp` are made empty; nothing else may appear in `dir`. */
export interface Sandbox {
  dir: string
  out: string
  temp: string
  /** The product call being made, for failure classes. */
  step: string
  limits: Limits
  /** Set when some call refused the input (for the counts of accepted and refused inputs). */
  refused: boolean
  /** Passed to every product call: aborted once an input runs far past the CPU budget (fuzz script only). */
  signal: AbortSignal
  /** The call that took the most CPU time, to name in a 'slow' failure. */
  slowest: { name: string, ms: number }
  /** Counting sources used, checked for reads left running once the input is done. */
  sources: CountingSource[]
}

export interface Target<T> {
  name: string
  arbitrary: fc.Arbitrary<T>
  /** Drives the product with `input`; throws what the product throws, or a Violation. */
  run: (input: T, sandbox: Sandbox) => Promise<void>
  /** The input as a file, to replay it by hand: its bytes and a file extension. */
  save: (input: T) => { ext: string, bytes: Uint8Array }
  /** Called once before the first input (e.g. to build a base image). */
  setup?: () => Promise<void>
}

/** The product did something the property forbids (other than throwing a foreign error). */
export class Violation extends Error {
  constructor (readonly kind: string, message: string) {
    super(message)
  }
}

/** null, `weight` times as often as a value of `arbitrary`: damage that most inputs go without. */
export function sometimes<T> (arbitrary: fc.Arbitrary<T>, weight: number): fc.Arbitrary<T | null> {
  return fc.oneof({ arbitrary: fc.constant(null), weight }, { arbitrary, weight: 1 })
}

export interface Limits {
  /** Block reads one product call may make through a CountingSource. */
  maxReads: number
  /** Growth of the resident set size one input may cause (measured when it is done), in bytes. */
  maxRss: number
  /** CPU time one input may take (user + system), in ms; 0: no check (the test suite never times). */
  cpuBudgetMs: number
}

export const DEFAULT_LIMITS: Limits = { maxReads: 5000, maxRss: 1024 * 1024 * 1024, cpuBudgetMs: 0 }

/**
 * A BlockSource that throws a Violation past `max` reads in one step. A read started while no
 * step is running (work a call left going after it returned or threw) is refused and recorded.
 */
export class CountingSource implements BlockSource {
  readonly label: string
  reads = 0
  /** Set once the budget is spent: the product may wrap the Violation in an error of its own. */
  tripped = false
  /** The step being run, or undefined between steps. */
  active: string | undefined
  lastStep = ''
  /** Reads started after their step had returned, and that step. */
  late = 0
  lateStep = ''
  constructor (private readonly source: BlockSource, readonly max: number) {
    this.label = source.label
  }

  async get (cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    if (this.active == null) {
      if (this.late++ === 0) this.lateStep = this.lastStep
      throw new Violation('reads-after-return', 'read after the call returned')
    }
    if (++this.reads > this.max) {
      this.tripped = true
      throw new Violation('unbounded-reads', `more than ${this.max} block reads`)
    }
    return await this.source.get(cid, options)
  }

  /** Throws when a step left reads going after it returned. */
  checkLate (sandbox: Sandbox): void {
    if (this.late === 0) return
    sandbox.step = this.lateStep
    throw new Violation('reads-after-return', `${this.late} block reads started after ${this.lateStep} had returned or thrown (work left running)`)
  }
}

/**
 * Runs one product call as `name`, with the read budget reset: an error the product throws passes
 * through, unless the budget was spent on the way (then that is the failure, whatever was thrown).
 */
export async function step<R> (sandbox: Sandbox, name: string, counting: CountingSource | undefined, fn: () => Promise<R>): Promise<R> {
  if (counting != null) {
    counting.checkLate(sandbox)
    if (!sandbox.sources.includes(counting)) sandbox.sources.push(counting)
    counting.reads = 0
    counting.tripped = false
    counting.active = name
    counting.lastStep = name
  }
  sandbox.step = name
  let result: R
  const cpu = process.cpuUsage()
  try {
    result = await fn()
  } catch (err) {
    if (counting?.tripped === true) throw new Violation('unbounded-reads', `more than ${counting.max} block reads`)
    throw err
  } finally {
    if (counting != null) counting.active = undefined
    const used = process.cpuUsage(cpu)
    const ms = (used.user + used.system) / 1000
    if (ms > sandbox.slowest.ms) sandbox.slowest = { name, ms }
  }
  if (counting?.tripped === true) throw new Violation('unbounded-reads', `more than ${counting.max} block reads (and the error was swallowed)`)
  return result
}

/** Like step, but a refusal (an IpcrError) gives undefined, so that the next call can still run. */
export async function tryStep<R> (sandbox: Sandbox, name: string, counting: CountingSource | undefined, fn: () => Promise<R>): Promise<R | undefined> {
  try {
    return await step(sandbox, name, counting, fn)
  } catch (err) {
    if (err instanceof Error && isAccepted(err)) {
      sandbox.refused = true
      return undefined
    }
    throw err
  }
}

export interface Failure {
  target: string
  /** Names the failure class: kind, error name, step and the message with its particulars blanked. */
  signature: string
  message: string
  stack: string
  seed: number
  path: string
  /** The minimised input, written to the output folder (when there is one). */
  file?: string
  numRuns: number
}

export interface RunOptions {
  seed: number
  /** Stop after this many inputs in all (count bound, for the test suite). */
  numRuns?: number
  /** Stop at this time (Date.now(); time bound, for the fuzz script). */
  deadline?: number
  /** Replays one case: the fast-check path of a failure reported with this seed. */
  path?: string
  /** Where minimised inputs go; nothing is written when absent. */
  outDir?: string
  /** Parent of the per-input sandboxes. */
  workDir: string
  limits?: Partial<Limits>
  /** Called before each input runs, with a way to save it (to keep the input a crash or hang leaves). */
  onInput?: (save: () => { ext: string, bytes: Uint8Array }) => void
  /** Reports the first failing input as found, without shrinking it (quicker; the test suite uses it). */
  noShrink?: boolean
  /** Called after each input: whether the product accepted it, refused it (an IpcrError), or failed. */
  onOutcome?: (outcome: 'accepted' | 'refused' | 'failed') => void
  /** Called with each new failure class as it is found. */
  onFailure?: (failure: Failure) => void
}

/** Thrown out of the property for a failure of a class not seen before. */
class Found extends Error {
  constructor (readonly signature: string, readonly original: Error) {
    super(original.message)
  }
}

/**
 * Runs rounds of fast-check over `target` until the run count or the deadline is reached.
 * Each round that fails records its (shrunk) failure class; later rounds count a known class as a
 * pass, so the next round looks for a new one. Round r uses seed + r.
 */
export async function fuzzTarget<T> (target: Target<T>, options: RunOptions): Promise<Failure[]> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits }
  const known = new Set<string>()
  const failures: Failure[] = []
  await target.setup?.()
  await mkdir(options.workDir, { recursive: true })
  let total = 0
  for (let round = 0; ; round++) {
    const left = options.numRuns == null ? Number.MAX_SAFE_INTEGER : options.numRuns - total
    const time = options.deadline == null ? undefined : options.deadline - Date.now()
    if (left <= 0 || (time != null && time <= 0)) break
    const seed = (options.seed + round) | 0
    const property = fc.asyncProperty(target.arbitrary, async (input) => {
      options.onInput?.(() => target.save(input))
      const error = await runOne(target, input, options.workDir, limits, options.onOutcome)
      if (error == null) return
      const signature = classify(target.name, error)
      if (!known.has(signature)) throw new Found(signature, error.error)
    })
    const details = await fc.check(property, {
      seed,
      numRuns: options.path != null ? 1 : left,
      ...(options.path != null ? { path: options.path } : {}),
      ...(time != null ? { interruptAfterTimeLimit: time } : {}),
      ...(options.noShrink === true ? { endOnFailure: true } : {})
    })
    total += details.numRuns
    if (!details.failed || details.counterexample == null) {
      if (options.path != null || options.numRuns != null || details.interrupted) break
      continue
    }
    const found = details.errorInstance instanceof Found ? details.errorInstance : undefined
    const error = found?.original ?? (details.errorInstance instanceof Error ? details.errorInstance : new Error(String(details.errorInstance)))
    const signature = found?.signature ?? `harness:${error.name}:${blank(error.message)}`
    known.add(signature)
    const failure: Failure = {
      target: target.name,
      signature,
      message: error.message,
      stack: error.stack ?? '',
      seed,
      path: details.counterexamplePath ?? '',
      numRuns: details.numRuns
    }
    if (options.outDir != null) {
      const { ext, bytes } = target.save(details.counterexample[0])
      await mkdir(options.outDir, { recursive: true })
      failure.file = join(options.outDir, `${target.name}-seed${seed}-${failures.length + 1}.${ext}`)
      await writeFile(failure.file, bytes)
      await writeFile(`${failure.file}.txt`, describe(failure) + '\n')
    }
    failures.push(failure)
    options.onFailure?.(failure)
    if (options.path != null) break
  }
  return failures
}

/** Runs one input in a fresh sandbox; returns the failure, if any, with the step it happened in. */
async function runOne<T> (target: Target<T>, input: T, workDir: string, limits: Limits, onOutcome?: RunOptions['onOutcome']): Promise<{ error: Error, step: string } | undefined> {
  const result = await runSandboxed(target, input, workDir, limits)
  onOutcome?.(result.error != null ? 'failed' : result.refused ? 'refused' : 'accepted')
  return result.error == null ? undefined : { error: result.error, step: result.step }
}

async function runSandboxed<T> (target: Target<T>, input: T, workDir: string, limits: Limits): Promise<{ error?: Error, step: string, refused: boolean }> {
  const dir = await mkdtemp(join(workDir, `${target.name}-`))
  const controller = new AbortController()
  const sandbox: Sandbox = { dir, out: join(dir, 'out'), temp: join(dir, 'temp'), step: 'setup', limits, refused: false, signal: controller.signal, slowest: { name: 'setup', ms: -1 }, sources: [] }
  const timer = limits.cpuBudgetMs > 0 ? setTimeout(() => controller.abort(), 4 * limits.cpuBudgetMs) : undefined
  await mkdir(sandbox.temp)
  let rejection: unknown
  const onRejection = (reason: unknown): void => { rejection ??= reason }
  process.on('unhandledRejection', onRejection)
  const cpu = process.cpuUsage()
  const rssBefore = process.memoryUsage().rss
  let error: Error | undefined
  try {
    await target.run(input, sandbox)
  } catch (err) {
    error = err instanceof Error ? err : new Error(`non-Error thrown: ${String(err)}`)
  }
  clearTimeout(timer)
  if (controller.signal.aborted) {
    error = new Violation('slow', `still running after ${4 * limits.cpuBudgetMs} ms, aborted (${error == null ? 'then it finished' : `then: ${error.message}`})`)
  }
  try {
    // Let stray promises settle, so an unhandled rejection or a late read is seen with its input.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
    if (error == null || isAccepted(error)) {
      try {
        for (const source of sandbox.sources) source.checkLate(sandbox)
      } catch (err) {
        error = err as Error
      }
    }
    if (error == null || isAccepted(error)) {
      const used = process.cpuUsage(cpu)
      const ms = (used.user + used.system) / 1000
      if (rejection != null) {
        const reason = rejection instanceof Error ? rejection : new Error(String(rejection))
        return { error: new Violation('unhandled-rejection', `${reason.name}: ${reason.message}`), step: sandbox.step, refused: false }
      }
      const leftovers = (await readdir(sandbox.temp)).map((name) => `temp/${name}`)
      for (const name of await readdir(dir)) if (name !== 'out' && name !== 'temp' && !name.startsWith('input')) leftovers.push(name)
      if (leftovers.length > 0) return { error: new Violation('leftover-files', `left ${leftovers.join(', ')} behind`), step: sandbox.step, refused: false }
      if (limits.cpuBudgetMs > 0 && ms > limits.cpuBudgetMs) {
        const slowest = `${sandbox.slowest.name} ${Math.round(sandbox.slowest.ms)} ms`
        return { error: new Violation('slow', `took ${Math.round(ms)} ms of CPU, more than ${limits.cpuBudgetMs} (slowest call: ${slowest})`), step: sandbox.slowest.ms >= 0 ? sandbox.slowest.name : sandbox.step, refused: false }
      }
      const rss = process.memoryUsage().rss
      if (rss - rssBefore > limits.maxRss) {
        return { error: new Violation('memory', `RSS grew by ${Math.round((rss - rssBefore) / 2 ** 20)} MiB to ${Math.round(rss / 2 ** 20)} MiB, more than ${Math.round(limits.maxRss / 2 ** 20)} MiB`), step: sandbox.step, refused: false }
      }
      return { step: sandbox.step, refused: error != null || sandbox.refused }
    }
    return { error, step: sandbox.step, refused: false }
  } finally {
    process.off('unhandledRejection', onRejection)
    await rm(dir, { recursive: true, force: true })
  }
}

/** The product may refuse an input, with an IpcrError that says why. */
export function isAccepted (error: Error): boolean {
  return error instanceof IpcrError && !(error instanceof Violation) && error.message.trim() !== ''
}

/** A failure class: what went wrong and where, not the particulars of one input. */
export function classify (target: string, { error, step }: { error: Error, step: string }): string {
  if (error instanceof Violation) return `${target}/${step}: ${error.kind}`
  const name = error instanceof IpcrError ? `${error.name}(empty message)` : error.name
  const { where, own } = origin(error.stack ?? '')
  // One line of the project's code letting through foreign errors is one bug, whatever they say.
  if (own) return `${target}/${step}: ${name} @ ${where}`
  return `${target}/${step}: ${name}: ${blank(error.message)} @ ${where}`
}

/** Blanks quoted strings, hex and numbers, so that one bug gives one class. */
export function blank (message: string): string {
  return message.split('\n')[0]!
    .replace(/'[^']*'/g, "'…'")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\b(baf|Qm|k51)[a-zA-Z0-9]+/g, '<cid>')
    .replace(/\b[0-9a-f]{16,}\b/g, '<hex>')
    .replace(/\d+/g, 'N')
    .slice(0, 160)
}

/** The first stack frame in the project's sources (src/...), else the first frame (a package's file). */
function origin (stack: string): { where: string, own: boolean } {
  const frames = stack.split('\n').filter((line) => line.trim().startsWith('at '))
  const own = frames.find((line) => /\/src\//.test(line) && !/node_modules/.test(line))
  if (own != null) return { where: /(src\/[^\s:()]+(?::\d+)?)/.exec(own)?.[1] ?? own.trim(), own: true }
  const first = frames[0] ?? ''
  const where = /node_modules\/([^\s:()]+(?::\d+)?)/.exec(first)?.[1] ?? first.trim().replace(/^at /, '')
  return { where, own: false }
}

export function describe (failure: Failure): string {
  const replay = `npm run fuzz -- --target ${failure.target} --seed ${failure.seed} --path ${failure.path}`
  const stack = failure.stack.split('\n').slice(1, 8).join('\n')
  return [
    `FAIL ${failure.signature}`,
    `  ${failure.message.split('\n')[0]!.slice(0, 400)}`,
    `  seed ${failure.seed} path ${failure.path}  (replay: ${replay})`,
    ...(failure.file != null ? [`  input ${failure.file}`] : []),
    stack
  ].join('\n')
}
