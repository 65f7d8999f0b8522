import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { CarBlockIterator, CarWriter } from '@ipld/car'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { makeTempDir } from '../helpers/images.js'
import { bigLayout, gzipTarball, hangingDocker, isAlive, listTree, MiB, signalStopped, silentServer, start, stopWhenFile } from '../helpers/interrupt.js'

// SIGINT / SIGTERM (a runner's cancel) end the CLI with 130 / 143 and leave nothing behind.
// Each test freezes the process (SIGSTOP) once work is under way, checks that the work is
// not finished, then queues the signal and lets the process go on: no timing involved.

const cli = resolve('dist/cli.js')
const LAYER = 256 * MiB
/** A stopped process is mid-work when at least this much is left to do. */
const LEFT = 64 * MiB
let dir: string
let tarball: string
let tarSize: number
let layout: { dir: string, layerHex: string, layerSize: number }
let rootCid: string

/** A fresh working folder and TMPDIR for one run. */
async function place (name: string): Promise<{ cwd: string, tmp: string, env: NodeJS.ProcessEnv }> {
  const cwd = join(dir, name, 'cwd')
  const tmp = join(dir, name, 'tmp')
  await mkdir(cwd, { recursive: true })
  await mkdir(tmp, { recursive: true })
  return { cwd, tmp, env: { PATH: process.env.PATH, HOME: process.env.HOME, DOCKER_HOST: process.env.DOCKER_HOST, TMPDIR: tmp } }
}

beforeAll(async () => {
  dir = await makeTempDir('ipcr-interrupt-')
  layout = await bigLayout(join(dir, 'layout'), LAYER)
  tarball = join(dir, 'image.tar.gz')
  tarSize = await gzipTarball(layout.dir, tarball)
  // A whole CAR of the image, for `get`.
  const { cwd, env } = await place('car')
  const push = start(cli, ['push', '--file', layout.dir, '--name', 'big', '--car', join(dir, 'big.car'), '--json'], { cwd, env })
  const { code } = await push.done
  if (code !== 0) throw new Error(push.output())
  rootCid = JSON.parse(push.output().slice(push.output().indexOf('{'))).rootCid
}, 300_000)

afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

async function expectClean (cwd: string, tmp: string): Promise<void> {
  expect([...(await listTree(cwd)).keys()]).toEqual([])
  expect([...(await listTree(tmp)).keys()]).toEqual([])
}

describe('ipcr CLI interrupted', () => {
  test('SIGTERM while a gzip tarball is decompressed: exit 143, no temp folder, no CAR', async () => {
    const { cwd, tmp, env } = await place('decompress')
    const push = start(cli, ['push', '--file', tarball, '--name', 'big', '--car', 'x.car'], { cwd, env })
    const { size } = await stopWhenFile(push, tmp, /ipcr-archive-[^/]+\/image\.tar$/, 8 * MiB)
    expect(size).toBeLessThan(tarSize - LEFT)
    expect(await readdir(cwd)).toEqual([])
    signalStopped(push, 'SIGTERM')
    expect(await push.done).toEqual({ code: 143, signal: null })
    expect(push.output()).toContain('ipcr: Cancelled by SIGTERM')
    await expectClean(cwd, tmp)
  })

  test('SIGINT while blobs are imported into the CAR: exit 130, no .partial, no decompressed tar', async () => {
    const { cwd, tmp, env } = await place('import')
    const push = start(cli, ['push', '--file', tarball, '--name', 'big', '--car', 'x.car'], { cwd, env })
    const { size } = await stopWhenFile(push, cwd, /^x\.car\.partial$/, 8 * MiB)
    expect(size).toBeLessThan(LAYER - LEFT)
    expect((await listTree(tmp)).size).toBeGreaterThan(0)
    signalStopped(push, 'SIGINT')
    expect(await push.done).toEqual({ code: 130, signal: null })
    expect(push.output()).toContain('ipcr: Cancelled by SIGINT')
    await expectClean(cwd, tmp)
  })

  test('a second signal during the cleanup exits at once and still removes every file', async () => {
    const { cwd, tmp, env } = await place('twice')
    const push = start(cli, ['push', '--file', tarball, '--name', 'big', '--car', 'x.car'], { cwd, env })
    const { size } = await stopWhenFile(push, cwd, /^x\.car\.partial$/, 8 * MiB)
    expect(size).toBeLessThan(LAYER - LEFT)
    // A runner's cancel: SIGINT, then SIGTERM. Both arrive before any cleanup ran.
    signalStopped(push, 'SIGINT', 'SIGTERM')
    const { code } = await push.done
    expect(push.output()).toMatch(/received again: temporary files removed, exiting now/)
    // The kernel picks the order in which two pending signals arrive; the later one sets the code.
    expect([130, 143]).toContain(code)
    await expectClean(cwd, tmp)
  })

  test('SIGINT during get: exit 130, no output folder', async () => {
    const { cwd, tmp, env } = await place('get')
    const get = start(cli, ['get', '--car', join(dir, 'big.car'), `/ipfs/${rootCid}/big/tags/latest`, '-o', 'out'], { cwd, env })
    const { size } = await stopWhenFile(get, cwd, new RegExp(`/${layout.layerHex}$`), 8 * MiB)
    expect(size).toBeLessThan(layout.layerSize - LEFT)
    signalStopped(get, 'SIGINT')
    expect(await get.done).toEqual({ code: 130, signal: null })
    expect(get.output()).toContain('ipcr: Cancelled by SIGINT')
    await expectClean(cwd, tmp)
  })

  test('SIGTERM while a Kubo endpoint does not answer: the request is aborted, exit 143', async () => {
    const { cwd, tmp, env } = await place('kubo')
    const kubo = await silentServer()
    try {
      // A timeout far longer than the test's: only the abort can end the request.
      const push = start(cli, ['push', '--file', tarball, '--name', 'big', '--car', 'x.car', '--kubo-rpc-url', kubo.url, '--kubo-timeout', '100000'], { cwd, env })
      expect(await kubo.requested).toContain('/api/v0/')
      push.child.kill('SIGTERM')
      expect(await push.done).toEqual({ code: 143, signal: null })
      expect(push.output()).toContain('ipcr: Cancelled by SIGTERM')
      await expectClean(cwd, tmp)
    } finally {
      await kubo.close()
    }
  })

  test('SIGINT while `docker save` runs: the docker process is ended too, exit 130', async () => {
    const { cwd, tmp, env } = await place('docker')
    const bin = join(dir, 'docker', 'bin')
    await mkdir(bin, { recursive: true })
    const pidFile = join(dir, 'docker', 'pid')
    await hangingDocker(bin, pidFile)
    const push = start(cli, ['push', 'localhost/never:1', '--car', 'x.car'], { cwd, env: { ...env, PATH: `${bin}:${env.PATH ?? ''}` } })
    let pid = 0
    while (pid === 0) {
      pid = Number(await readFile(pidFile, 'utf8').catch(() => '0')) || 0
      if (pid === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    try {
      push.child.kill('SIGINT')
      expect(await push.done).toEqual({ code: 130, signal: null })
      expect(push.output()).toContain('ipcr: Cancelled by SIGINT')
      expect(isAlive(pid)).toBe(false)
      await expectClean(cwd, tmp)
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL')
    }
  })
})

/** A copy of a CAR without its `skip`-th block of at least 1 MiB. */
async function carWithout (from: string, to: string, skip: number): Promise<void> {
  const blocks = await CarBlockIterator.fromIterable(createReadStream(from))
  const { writer, out } = CarWriter.create(await blocks.getRoots())
  const written = pipeline(Readable.from(out), createWriteStream(to))
  let large = 0
  for await (const block of blocks) {
    if (block.bytes.length >= MiB && ++large === skip) continue
    await writer.put(block)
  }
  await writer.close()
  await written
}

describe('ipcr CLI failing', () => {
  test('get that fails half-way (a block is missing) leaves no output folder', async () => {
    const { cwd, tmp, env } = await place('holey')
    const holey = join(dir, 'holey.car')
    await carWithout(join(dir, 'big.car'), holey, 40)
    const get = start(cli, ['get', '--car', holey, `/ipfs/${rootCid}/big/tags/latest`, '-o', 'out'], { cwd, env })
    expect((await get.done).code).toBe(1)
    expect(get.output()).toMatch(/^ipcr: .*not found/m)
    await expectClean(cwd, tmp)
  })

  test('push of a truncated gzip tarball: exit 1, no temp folder, no CAR', async () => {
    const { cwd, tmp, env } = await place('truncated')
    const truncated = join(dir, 'truncated.tar.gz')
    const handle = await open(tarball, 'r')
    const head = Buffer.alloc(16 * MiB)
    await handle.read(head, 0, head.length, 0)
    await handle.close()
    await writeFile(truncated, head)
    const push = start(cli, ['push', '--file', truncated, '--name', 'big', '--car', 'x.car'], { cwd, env })
    expect((await push.done).code).toBe(1)
    expect(push.output()).toContain('ipcr: --file: cannot gzip-decompress')
    await expectClean(cwd, tmp)
  })

  test('demo that cannot write its store: exit 1, no ipcr-demo temp folder', async () => {
    const { cwd, tmp, env } = await place('demo')
    const blocker = join(dir, 'demo-store-is-a-file')
    await writeFile(blocker, '')
    const demo = start(cli, ['demo', '--store', blocker], { cwd, env })
    expect((await demo.done).code).toBe(1)
    await expectClean(cwd, tmp)
  })
})
