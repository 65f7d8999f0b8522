// Hostile tars for the benchmark: the generators of test/image/hostile.ts and the
// archive indexer of src/core/image, bundled on the fly (dist/ exports neither).
//
// Each row times opening the tar as an image archive (indexing its headers and
// resolving its links) against reading the same file once, both from the page
// cache, in this process; the best of `runs` of each, as a ratio.
import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { importBundle } from './bundle-entry.mjs'

const MiB = 1024 * 1024

async function loadModules (repoRoot, outDir) {
  const outfile = join(outDir, 'hostile-bench.mjs')
  return await importBundle(repoRoot, [
    "export { paxFlood, paxPerEntry, symlinkChain, writeTar } from './test/image/hostile.ts'",
    "export { openImageArchive } from './src/core/image/archive.ts'"
  ], outfile)
}

async function readOnce (path) {
  let bytes = 0
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) bytes += chunk.length
  return bytes
}

async function best (runs, fn) {
  let fastest = Infinity
  let result
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint()
    result = await fn()
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - started) / 1e9)
  }
  return { seconds: fastest, result }
}

/**
 * Builds each hostile tar (about `sizeMiB` MiB) in `work`, then times indexing
 * it against reading it. Resolves one row per tar.
 */
export async function benchHostileTars (repoRoot, work, { sizeMiB = 30, runs = 3, log = () => {} } = {}) {
  const m = await loadModules(repoRoot, work)
  const bytes = sizeMiB * MiB
  const inputs = [
    {
      name: 'pax-per-entry',
      what: 'entries each with the most pax metadata allowed (16 headers, ~1 MiB of unused keys)',
      parts: () => m.paxPerEntry(bytes)
    },
    {
      name: 'pax-flood',
      what: 'pax headers in a row (refused at the 17th)',
      parts: () => m.paxFlood(bytes)
    },
    {
      // ~5 KB per link: a 4 KB name (1300 components) in a pax header.
      name: 'symlink-chain',
      what: 'a chain of symlinks with 4 KB deep names (1300 components each)',
      parts: () => m.symlinkChain(Math.round(bytes / 5120), 1300)
    }
  ]
  const rows = []
  for (const input of inputs) {
    const file = join(work, `${input.name}.tar`)
    const size = await m.writeTar(file, input.parts())
    await readOnce(file) // into the page cache
    const read = await best(runs, async () => await readOnce(file))
    const index = await best(runs, async () => {
      try {
        const archive = await m.openImageArchive(file, { input: 'image-file', tempDir: work })
        const names = archive.list().length
        await archive.close()
        return `${names} names`
      } catch (err) {
        return `refused: ${err.message.replace(/^Input 'image-file': \S+: /, '')}`
      }
    })
    const row = { name: input.name, what: input.what, bytes: size, readSeconds: read.seconds, indexSeconds: index.seconds, ratio: index.seconds / read.seconds, outcome: index.result }
    log(`  ${input.name}: ${(size / MiB).toFixed(1)} MiB, read ${(read.seconds * 1000).toFixed(1)} ms, index ${(index.seconds * 1000).toFixed(1)} ms (${row.ratio.toFixed(2)}x): ${index.result}`)
    rows.push(row)
    await rm(file, { force: true })
  }
  return rows
}
