// Bundles a few lines of TypeScript that import the project's sources into one ESM file,
// so the benchmark can run code that dist/ does not export.
import { build } from 'esbuild'

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
