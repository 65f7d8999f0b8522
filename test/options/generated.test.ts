import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { makeTempDir } from '../helpers/images.js'
import { actionInputs, definitions } from '../../src/options/definitions.js'

let dir: string
beforeAll(async () => { dir = await makeTempDir('ipcr-options-') })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

function check (root: string): { status: number | null, stderr: string } {
  const r = spawnSync(process.execPath, [resolve('scripts/options.mjs'), '--check', '--root', root], { encoding: 'utf8' })
  return { status: r.status, stderr: r.stderr }
}

async function copy (): Promise<void> {
  for (const file of ['action.yml', 'README.md']) await copyFile(resolve(file), join(dir, file))
}

describe('action.yml and the README tables come from the option definitions', () => {
  test('the committed files match', () => {
    expect(check(resolve('.')).status).toBe(0)
  })

  test('an edited action.yml description, a missing input or an edited README row fails the check', async () => {
    await copy()
    const yml = await readFile(join(dir, 'action.yml'), 'utf8')
    await writeFile(join(dir, 'action.yml'), yml.replace("description: 'Write a job summary.'", "description: 'Writes a summary.'"))
    let r = check(dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('action.yml differs')

    await copy()
    await writeFile(join(dir, 'action.yml'), yml.replace(/\n {2}container-cli:\n(?: {4}.*\n)+/, '\n'))
    expect(check(dir).status).toBe(1)

    await copy()
    const readme = await readFile(join(dir, 'README.md'), 'utf8')
    await writeFile(join(dir, 'README.md'), readme.replace('| `--kubo-pin-name NAME` |', '| `--pin-name NAME` |'))
    r = check(dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('README.md differs')
  })

  test('every action input and CLI flag is in action.yml or the README under its own name', async () => {
    const yml = await readFile('action.yml', 'utf8')
    const readme = await readFile('README.md', 'utf8')
    for (const d of actionInputs()) expect(yml).toContain(`\n  ${d.key}:\n`)
    for (const d of definitions) if (d.cli?.flag.startsWith('--') === true) expect(readme).toContain(d.cli.flag)
  })
})
