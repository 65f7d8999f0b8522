// A short, fixed round of the input fuzzer (npm run fuzz runs longer, seeded and time-bounded ones):
// a fixed seed and a fixed number of inputs per target, so the round is the same on every run.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { describe as describeFailure, fuzzTarget, type Target } from './harness.js'
import { dagTargetWith } from './dag.js'
import { tarTargetWith } from './tar.js'
import { targets } from './targets.js'

const SEED = 20261129
const RUNS: Record<string, number> = { tar: 150, json: 200, car: 150, dag: 150 }
// DAGs whose tree is small enough that no default limit of a reader may refuse it: the reads of
// every call must stay within twice its size, and a HAMT reusing a shard must be refused.
// Tars with floods and chains small enough that even a quadratic parser reads them quickly.
const TARGETS: Record<string, Target<any>> = { ...targets, tar: tarTargetWith({ flood: 300, chain: 40, depth: 30 }), dag: dagTargetWith(2000) }

let workDir: string
beforeAll(async () => { workDir = await mkdtemp(join(tmpdir(), 'ipcr-fuzz-test-')) })
afterAll(async () => { await rm(workDir, { recursive: true, force: true }) })

describe('fuzz round (fixed seed, fixed count)', () => {
  for (const [name, runs] of Object.entries(RUNS)) {
    test(`${name}: ${runs} inputs either load or fail with an IpcrError, within bounds, leaving nothing behind`, async () => {
      const failures = await fuzzTarget(TARGETS[name]!, { seed: SEED, numRuns: runs, workDir: join(workDir, name), noShrink: true })
      expect(failures.map(describeFailure)).toEqual([])
    })
  }
})
