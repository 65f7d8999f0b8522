// Bundles the action and the CLI into dist/ (committed: actions run from git).
import { build } from 'esbuild'
import { chmod } from 'node:fs/promises'

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  // Some dependencies still use require(); give ESM bundles one.
  banner: { js: "import { createRequire as __ipcrCreateRequire } from 'node:module'; const require = __ipcrCreateRequire(import.meta.url);" }
}

await build({ ...common, entryPoints: ['src/action/index.ts'], outfile: 'dist/action.js' })
await build({ ...common, entryPoints: ['src/cli/index.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node\n' + common.banner.js } })
// `ipcr` runs dist/cli.js directly (package.json bin, a release download).
await chmod('dist/cli.js', 0o755)
