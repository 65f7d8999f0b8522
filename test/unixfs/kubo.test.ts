import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { hasCommand, run } from '../helpers/tools.js'
import { buildTree, bytesOf, importTree, manyFiles, text, type TreeSpec } from './fixtures.js'

// Ground truth: Kubo's `ipfs add -r` with the unixfs-v1-2025 profile. scripts/install-deps.sh installs
// Kubo; outside CI, a machine without it skips these.
const haveKubo = process.env.CI === 'true' || await hasCommand('ipfs')
const maybe = haveKubo ? describe : describe.skip

let dir: string
let env: NodeJS.ProcessEnv

async function writeSpec(spec: TreeSpec, path: string): Promise<void> {
  await mkdir(path, { recursive: true })
  for (const [name, value] of Object.entries(spec)) {
    if (value instanceof Uint8Array) await writeFile(join(path, name), value)
    else await writeSpec(value, join(path, name))
  }
}

let count = 0
async function kuboCid(spec: TreeSpec): Promise<string> {
  const path = join(dir, `tree-${count++}`)
  await writeSpec(spec, path)
  return (await run('ipfs', ['add', '-r', '-Q', '--only-hash', '--hidden', path], { env })).trim()
}

async function ours(spec: TreeSpec): Promise<{ cid: string, type: string }> {
  const store = new MemoryBlockStore()
  const node = await buildTree(spec, store)
  return { cid: node.cid.toString(), type: UnixFS.unmarshal(dagPb.decode(await store.get(node.cid)).Data as Uint8Array).type }
}

maybe('CIDs equal Kubo `ipfs add -r` (unixfs-v1-2025)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ipcr-kubo-'))
    env = { ...process.env, IPFS_PATH: join(dir, 'repo') }
    await run('ipfs', ['init', '--empty-repo', '--profile', 'unixfs-v1-2025'], { env })
  })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('files of 0, 1, 1 MiB + 1 and ~3 MiB bytes, and small trees', async () => {
    const spec: TreeSpec = {
      empty: new Uint8Array(0),
      one: text('1'),
      mib: bytesOf(1024 * 1024 + 1, 2),
      three: bytesOf(3 * 1024 * 1024 + 77, 3),
      'ünïcode name': text('u'),
      '.hidden': text('h'),
      nested: { deeper: { file: text('deep') }, empty: {} }
    }
    expect((await ours(spec)).cid).toBe(await kuboCid(spec))
  })

  it('HAMT directories of files, and the exact threshold', async () => {
    const hamt = manyFiles(3000, (i) => `sha256-${String(i * 7919).padStart(64, '0')}`)
    expect(await ours(hamt)).toEqual({ cid: await kuboCid(hamt), type: 'hamt-sharded-directory' })
    // 1066 files whose basic block is 262144 bytes (basic) or, with a one byte longer name, 262145 (HAMT)
    const base = manyFiles(1065, (i) => `entry-${String(i).padStart(6, '0')}-`.padEnd(200, 'x'))
    const last = text('last file, 100 bytes'.padEnd(100, '.'))
    const at = { ...base, ['last-'.padEnd(105, 'y')]: last }
    const over = { ...base, ['last-'.padEnd(106, 'y')]: last }
    expect(await ours(at)).toEqual({ cid: await kuboCid(at), type: 'directory' })
    expect(await ours(over)).toEqual({ cid: await kuboCid(over), type: 'hamt-sharded-directory' })
  })

  it('a directory pushed over the threshold by its subdirectories (where the JS importer differs)', async () => {
    const spec: TreeSpec = {}
    for (let i = 0; i < 2500; i++) spec[`sub-${String(i).padStart(6, '0')}-`.padEnd(111, '0')] = { f: text(`f${i}`) }
    const kubo = await kuboCid(spec)
    expect(await ours(spec)).toEqual({ cid: kubo, type: 'hamt-sharded-directory' })
    // ipfs-unixfs-importer counts subdirectories as 0 bytes when deciding to shard, so it keeps this one basic
    expect((await importTree(spec)).cid.toString()).not.toBe(kubo)
  })
})
