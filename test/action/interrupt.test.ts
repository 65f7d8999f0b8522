import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { makeTempDir } from '../helpers/images.js'
import { bigLayout, gzipTarball, hangingDocker, isAlive, listTree, MiB, signalStopped, start, stopWhenFile, type Running } from '../helpers/interrupt.js'

// A runner cancels a step with SIGINT, then SIGTERM: the action ends with 130 / 143,
// reports the cancel, and leaves no CAR, no .partial, no temp folder and no outputs.
// The process is frozen (SIGSTOP) once work is under way and checked to be mid-work
// before the signal is queued: no timing involved.

const action = resolve('dist/action.js')
const LAYER = 256 * MiB
const LEFT = 64 * MiB
let dir: string
let tarball: string
let tarSize: number

beforeAll(async () => {
  dir = await makeTempDir('ipcr-action-interrupt-')
  const layout = await bigLayout(join(dir, 'layout'), LAYER)
  tarball = join(dir, 'image.tar.gz')
  tarSize = await gzipTarball(layout.dir, tarball)
}, 300_000)

afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

interface Runner { running: Running, temp: string, outputFile: string, summaryFile: string }

/** Starts dist/action.js as a runner does, with RUNNER_TEMP and the output files in folders of this test. */
async function startAction (name: string, inputs: Record<string, string>, path = process.env.PATH): Promise<Runner> {
  const temp = join(dir, name, 'runner-temp')
  const files = join(dir, name, 'files')
  await mkdir(temp, { recursive: true })
  await mkdir(files, { recursive: true })
  const outputFile = join(files, 'output')
  const summaryFile = join(files, 'summary')
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')
  const env: NodeJS.ProcessEnv = { PATH: path, HOME: process.env.HOME, DOCKER_HOST: process.env.DOCKER_HOST, RUNNER_TEMP: temp, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, GITHUB_SHA: 'deadbeef' }
  for (const [key, value] of Object.entries(inputs)) env[`INPUT_${key.toUpperCase()}`] = value
  return { running: start(action, [], { cwd: files, env }), temp, outputFile, summaryFile }
}

async function expectNothingLeft (runner: Runner): Promise<void> {
  expect([...(await listTree(runner.temp)).keys()]).toEqual([])
  expect(await readFile(runner.outputFile, 'utf8')).toBe('')
  expect(await readFile(runner.summaryFile, 'utf8')).toBe('')
}

describe('action interrupted', () => {
  test('SIGTERM while blobs are imported into the CAR: exit 143, ::error:: names the cancel, nothing left', async () => {
    const runner = await startAction('import', { 'image-file': tarball, name: 'big' })
    // The default car-path is $RUNNER_TEMP/ipcr/registry.car.
    const { size } = await stopWhenFile(runner.running, runner.temp, /^ipcr\/registry\.car\.partial$/, 8 * MiB)
    expect(size).toBeLessThan(LAYER - LEFT)
    signalStopped(runner.running, 'SIGTERM')
    expect(await runner.running.done).toEqual({ code: 143, signal: null })
    expect(runner.running.output()).toContain('::error::Cancelled by SIGTERM')
    await expectNothingLeft(runner)
  })

  test('SIGINT while a gzip tarball is decompressed: exit 130, nothing left', async () => {
    const runner = await startAction('decompress', { 'image-file': tarball, name: 'big' })
    const { size } = await stopWhenFile(runner.running, runner.temp, /ipcr-archive-[^/]+\/image\.tar$/, 8 * MiB)
    expect(size).toBeLessThan(tarSize - LEFT)
    expect((await listTree(runner.temp)).has('ipcr/registry.car.partial')).toBe(false)
    signalStopped(runner.running, 'SIGINT')
    expect(await runner.running.done).toEqual({ code: 130, signal: null })
    expect(runner.running.output()).toContain('::error::Cancelled by SIGINT')
    await expectNothingLeft(runner)
  })

  test('SIGINT while `docker save` runs: the docker process is ended too, exit 130', async () => {
    const bin = join(dir, 'docker-bin')
    await mkdir(bin, { recursive: true })
    const pidFile = join(dir, 'docker.pid')
    await hangingDocker(bin, pidFile)
    const runner = await startAction('docker', { image: 'localhost/never:1' }, `${bin}:${process.env.PATH ?? ''}`)
    let pid = 0
    while (pid === 0) {
      pid = Number(await readFile(pidFile, 'utf8').catch(() => '0')) || 0
      if (pid === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    try {
      runner.running.child.kill('SIGINT')
      expect(await runner.running.done).toEqual({ code: 130, signal: null })
      expect(runner.running.output()).toContain('::error::Cancelled by SIGINT')
      expect(isAlive(pid)).toBe(false)
      await expectNothingLeft(runner)
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL')
    }
  })
})

describe('action failing', () => {
  test('an image that cannot be read: exit 1, and the folder made for the default car-path is gone', async () => {
    const runner = await startAction('missing', { 'image-file': join(dir, 'missing.tar'), name: 'x' })
    expect((await runner.running.done).code).toBe(1)
    expect(runner.running.output()).toContain("::error::Input 'image-file': cannot read")
    await expectNothingLeft(runner)
  })
})
