import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { toolsBin } from '../helpers/tools.js'

/** The conformance program scripts/install-deps.sh builds. */
export const conformanceBin = join(toolsBin, 'conformance')

export interface ConformanceRun {
  /** `OCI Conformance Result: …` */
  result: string
  /** Every test the printed tree names, with its status (Pass, FAIL, Skip, Disabled, Error). */
  tests: Map<string, string>
  /** Tests with no child in the tree. */
  leaves: Map<string, string>
  /** The printed counts, e.g. Pass: 13. */
  counts: Record<string, number>
  stdout: string
}

export interface ConformanceData {
  registry: string
  repo: string
  tags: string[]
  manifests: string[]
  blobs: string[]
  referrers?: string[]
}

/**
 * Runs the conformance program in read-only pull mode (push and deletes off) and reads its
 * printed result tree. This build panics after printing while it writes results.yaml, before
 * junit.xml, so its output is what is kept: `stdout.txt` in `resultsDir`.
 */
export async function runConformance (data: ConformanceData, resultsDir: string): Promise<ConformanceRun> {
  await mkdir(resultsDir, { recursive: true })
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    OCI_REGISTRY: data.registry,
    OCI_TLS: 'disabled',
    OCI_REPO1: data.repo,
    OCI_REPO2: `${data.repo}-second`,
    OCI_VERSION: '1.1',
    OCI_API_PUSH: 'false',
    OCI_API_BLOBS_DELETE: 'false',
    OCI_API_MANIFESTS_DELETE: 'false',
    OCI_API_TAGS_DELETE: 'false',
    OCI_RO_DATA_TAGS: data.tags.join(' '),
    OCI_RO_DATA_MANIFESTS: data.manifests.join(' '),
    OCI_RO_DATA_BLOBS: data.blobs.join(' '),
    OCI_RO_DATA_REFERRERS: (data.referrers ?? []).join(' '),
    OCI_RESULTS_DIR: resultsDir
  }
  const { stdout, stderr } = await new Promise<{ stdout: string, stderr: string }>((resolve) => {
    execFile(conformanceBin, [], { env, cwd: resultsDir, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 }, (_err, stdout, stderr) => {
      resolve({ stdout: String(stdout), stderr: String(stderr) })
    })
  })
  await writeFile(join(resultsDir, 'stdout.txt'), stdout)
  await writeFile(join(resultsDir, 'stderr.txt'), stderr)
  return parseConformanceOutput(stdout)
}

/** Reads the result tree, the overall result and the counts the program prints. */
export function parseConformanceOutput (stdout: string): ConformanceRun {
  const tests = new Map<string, string>()
  const leaves = new Map<string, string>()
  let previous: { name: string, depth: number } | undefined
  for (const line of stdout.split('\n')) {
    const match = /^(\s*)(OCI Conformance Test(?:\/[^:]*)?): (Pass|FAIL|Skip|Disabled|Error|Unknown)$/.exec(line)
    if (match == null) continue
    const depth = (match[1] as string).length
    const name = match[2] as string
    // The same test may be printed twice; the first time counts.
    if (tests.has(name)) continue
    tests.set(name, match[3] as string)
    if (previous != null && depth <= previous.depth) leaves.set(previous.name, tests.get(previous.name) as string)
    previous = { name, depth }
  }
  if (previous != null) leaves.set(previous.name, tests.get(previous.name) as string)
  const result = /^OCI Conformance Result: (\S+)$/m.exec(stdout)?.[1] ?? 'missing'
  const counts: Record<string, number> = {}
  for (const match of stdout.matchAll(/^ {2}(Disabled|Skip|Pass|FAIL|Error|Total)\.+:\s+(\d+)$/gm)) counts[match[1] as string] = Number(match[2])
  return { result, tests, leaves, counts, stdout }
}
