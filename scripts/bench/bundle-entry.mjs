// Bundles a few lines of TypeScript that import the project's sources into one ESM file,
// so the benchmark can run code that dist/ does not export.
import { build } from 'esbuild'
import { pathToFileURL } from 'node:url'

export async function bundleEntry (repoRoot, contents, outfile) {
  await build({
    stdin: { contents, resolveDir: repoRoot, sourcefile: 'bench-entry.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile,
    logLevel: 'warning',
    // Some dependencies are CommonJS and require() Node built-ins.
    banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" }
  })
  return outfile
}

/** Bundles the lines (exports of the project's sources) to `outfile` and imports the result. */
export async function importBundle (repoRoot, lines, outfile) {
  await bundleEntry(repoRoot, lines.join('\n'), outfile)
  return await import(pathToFileURL(outfile).href)
}
