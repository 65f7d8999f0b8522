// Writes action.yml's inputs and the README's option tables from src/options/definitions.ts;
// with --check, fails when either differs (CI). --root DIR: the folder holding the two files.
import { build } from 'esbuild'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const args = process.argv.slice(2)
const check = args.includes('--check')
const root = args.includes('--root') ? args[args.indexOf('--root') + 1] : new URL('..', import.meta.url).pathname
const bundled = await build({ entryPoints: [new URL('../src/options/generate.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'warning' })
const generate = await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString('base64')}`)

let stale = 0
for (const [file, make] of [['action.yml', generate.generateActionYml], ['README.md', generate.generateReadme]]) {
  const path = join(root, file)
  const current = await readFile(path, 'utf8')
  const wanted = make(current)
  if (wanted === current) continue
  if (check) {
    console.error(`${file} differs from src/options/definitions.ts: run 'npm run options' and commit it`)
    stale++
  } else {
    await writeFile(path, wanted)
    console.log(`wrote ${file}`)
  }
}
process.exitCode = stale > 0 ? 1 : 0
