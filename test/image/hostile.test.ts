// Hostile image archives: each is refused or handled with bounded time, memory
// and disk, in the core and through the real CLI. Time and memory are bounded
// by construction: the CLI runs under `prlimit --cpu` (CPU seconds, not wall
// time) and GNU time reports its peak RSS; the disk by `prlimit --fsize`.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Writable } from 'node:stream'
import { ImageFormatError, InputError } from '../../src/core/errors.js'
import { openImageArchive } from '../../src/core/image/archive.js'
import type { ImageArchive } from '../../src/core/image/archive.js'
import { DecompressionLimit, DecompressionLimitError } from '../../src/core/image/compression.js'
import { defaultDecompressedLimit } from '../../src/core/image/limits.js'
import { parseSize } from '../../src/core/size.js'
import { loadImage } from '../../src/core/image/load.js'
import { runAction } from '../helpers/action.js'
import { makeTempDir } from '../helpers/images.js'
import {
  bigIndexLayout, chainFolder, nestedIndexLayout, fileEntry, paxFlood, paxHeader, paxPerEntry, symlinkChain, symlinkEntry, tarHeader, writeGzipBomb, writeGzipZeros, writeTar
} from './hostile.js'

const INPUT = 'image-file'
const MiB = 1024 * 1024
const cli = resolve('dist/cli.js')
/** CPU seconds a CLI run may use: a few times what any of these inputs needs, far below what they cost unbounded. */
const CPU_SECONDS = 20
/** Peak RSS a CLI run may reach on these inputs (Node itself takes about 60 MiB). */
const RSS_MIB = 400

let dir: string

beforeAll(async () => { dir = await makeTempDir('ipcr-hostile-') })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

interface PushRun { code: number | null, signal: string | null, stderr: string, peakRssMiB: number, car: string, tmp: string }

/**
 * `ipcr push --file FILE` under `prlimit --cpu` (and `--fsize` when given),
 * peak RSS from GNU time, with its own TMPDIR.
 */
async function push (file: string, extra: string[] = [], fsize?: number): Promise<PushRun> {
  const tmp = await mkdtemp(join(dir, 'tmp-'))
  const car = join(dir, `${basename(file)}.car`)
  const timeFile = join(dir, `${basename(file)}.time`)
  const limits = [`--cpu=${CPU_SECONDS}`, ...(fsize != null ? [`--fsize=${fsize}`] : [])]
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, 'prlimit', ...limits, process.execPath, cli,
    'push', '--file', file, '--name', 'hostile/test', '--car', car, ...extra], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c) => { stderr += String(c) })
  const { code, signal } = await new Promise<{ code: number | null, signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
  const lines = (await readFile(timeFile, 'utf8')).trim().split('\n')
  return { code, signal, stderr, peakRssMiB: Number(lines[lines.length - 1]) / 1024, car, tmp }
}

/** A failed push: exit 1, a message naming the input, bounded memory, nothing left behind. */
async function expectRefused (run: PushRun, pattern: RegExp): Promise<void> {
  expect(run.stderr).toMatch(/^ipcr: --file: /)
  expect(run.stderr).toMatch(pattern)
  expect(run.code).toBe(1)
  expect(run.peakRssMiB).toBeLessThan(RSS_MIB)
  expect(existsSync(run.car)).toBe(false)
  expect(existsSync(`${run.car}.partial`)).toBe(false)
  expect(await readdir(run.tmp)).toEqual([])
}

async function open (path: string, tempDir = dir, maxDecompressedSize?: number): Promise<ImageArchive> {
  return await openImageArchive(path, { input: INPUT, tempDir, maxDecompressedSize })
}

async function rejection (promise: Promise<unknown>): Promise<Error> {
  return await promise.then(() => { throw new Error('expected a rejection') }, (err: Error) => err)
}

describe('gzip bomb', () => {
  test('decompression stops at max-decompressed-size, names the input, leaves no temp folder', async () => {
    const bomb = join(dir, 'bomb.tar.gz')
    const size = await writeGzipBomb(bomb, 1024 * MiB)
    expect(size).toBeLessThan(4 * MiB)
    const temp = await mkdtemp(join(dir, 'temp-'))
    const err = await rejection(open(bomb, temp, 64 * MiB))
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toContain(`Input '${INPUT}'`)
    expect(err.message).toMatch(/decompresses to more than 64\.0 MiB.*max-decompressed-size/)
    expect(await readdir(temp)).toEqual([])
  })

  test('the CLI writes at most the limit (prlimit --fsize), exits 1 naming --file\'s input, leaves no CAR or temp folder', async () => {
    const bomb = join(dir, 'cli-bomb.tar.gz')
    await writeGzipBomb(bomb, 1024 * MiB)
    // One byte more than the limit would end the process (SIGXFSZ) or fail the write (EFBIG).
    const run = await push(bomb, ['--max-decompressed-size', '64MiB'], 64 * MiB)
    await expectRefused(run, /decompresses to more than 64\.0 MiB/)
  })

  test('the action reads max-decompressed-size: a bomb fails the step naming image-file, a bad size names the input', async () => {
    const bomb = join(dir, 'action-bomb.tar.gz')
    await writeGzipBomb(bomb, 256 * MiB)
    const car = join(dir, 'action-bomb.car')
    const run = await runAction({ 'image-file': bomb, 'max-decompressed-size': '32MiB', 'car-path': car })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/::error::Input 'image-file': .*gzip-decompresses to more than 32\.0 MiB/)
    expect(run.outputs).toEqual({})
    expect(existsSync(car)).toBe(false)
    expect(existsSync(`${car}.partial`)).toBe(false)
    const bad = await runAction({ 'image-file': bomb, 'max-decompressed-size': 'lots' })
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain("::error::Input 'max-decompressed-size': 'lots' is not a size")
  })

  test('a stream that does not decompress to a tar is refused after its first block', async () => {
    const zeros = join(dir, 'zeros.gz')
    await writeGzipZeros(zeros, 256 * MiB)
    const run = await push(zeros, [], 64 * 1024)
    await expectRefused(run, /gzip-compressed but the decompressed data does not start with a tar header/)
  })

  test('DecompressionLimit passes on at most its limit', async () => {
    let passed = 0
    const sink = new Writable({ write (chunk: Buffer, _e, cb) { passed += chunk.length; cb() } })
    const source = Readable.from((function * () { for (let i = 0; i < 100; i++) yield Buffer.alloc(1000) })())
    const err = await rejection(pipeline(source, new DecompressionLimit(25_500), sink))
    expect(err).toBeInstanceOf(DecompressionLimitError)
    expect(passed).toBeLessThanOrEqual(25_500)
  })

  test('the default limit is 20 times the compressed size, at least 1 GiB; sizes parse with units', () => {
    expect(defaultDecompressedLimit(1000)).toBe(1024 ** 3)
    expect(defaultDecompressedLimit(2 * 1024 ** 3)).toBe(40 * 1024 ** 3)
    expect(parseSize('20GiB', 'x')).toBe(20 * 1024 ** 3)
    expect(parseSize('500 MB', 'x')).toBe(500e6)
    expect(parseSize('1048576', 'x')).toBe(MiB)
    expect(() => parseSize('lots', 'max-decompressed-size')).toThrow(/Input 'max-decompressed-size': 'lots' is not a size/)
    expect(() => parseSize('0', 'x')).toThrow(InputError)
  })
})

describe('PAX headers', () => {
  test('a 30 MB flood of pax headers in a row is refused early, in bounded memory', async () => {
    const file = join(dir, 'pax-flood.tar')
    const size = await writeTar(file, paxFlood(30 * MiB))
    expect(size).toBeGreaterThan(30 * MiB)
    await expectRefused(await push(file), /more than 16 metadata headers/)
    const err = await rejection(open(file))
    expect(err).toBeInstanceOf(ImageFormatError)
    expect(err.message).toMatch(/Input 'image-file'.*more than 16 metadata headers .* in a row/)
  })

  test('unused pax keys are not kept: 30 MB of the most metadata allowed per entry is indexed', async () => {
    const file = join(dir, 'pax-per-entry.tar')
    await writeTar(file, paxPerEntry(30 * MiB))
    const archive = await open(file)
    try {
      expect(archive.list().length).toBeGreaterThan(25)
      expect(archive.list().every((name) => /^entries\/\d+\.txt$/.test(name))).toBe(true)
    } finally {
      await archive.close()
    }
    // Indexed within the CPU and memory bounds, then refused as no image.
    await expectRefused(await push(file), /neither an OCI image layout/)
  })

  test('one more metadata header than allowed, or more than 1 MiB of them, is refused', async () => {
    const many = join(dir, 'pax-17.tar')
    await writeTar(many, [...Array.from({ length: 17 }, () => paxHeader([['comment', 'x']])), fileEntry('a.txt', 'a')])
    expect((await rejection(open(many))).message).toMatch(/more than 16 metadata headers/)
    const big = join(dir, 'pax-big.tar')
    await writeTar(big, [paxHeader([['comment', 'x'.repeat(MiB)]]), paxHeader([['comment', 'x']]), fileEntry('a.txt', 'a')])
    expect((await rejection(open(big))).message).toMatch(/more than 1048576 bytes in a row/)
  })
})

describe('symlinks', () => {
  test('a chain of links with deep names resolves in linear time; past 40 hops links stay unresolved', async () => {
    const file = join(dir, 'chain.tar')
    const depth = 1000
    const links = 300
    const size = await writeTar(file, symlinkChain(links, depth))
    expect(size).toBeGreaterThan(600_000)
    await expectRefused(await push(file), /neither an OCI image layout/)
    const archive = await open(file)
    try {
      const folder = chainFolder(depth)
      expect(archive.has(`${folder}/link-${links - 1}`)).toBe(true)
      expect(archive.has(`${folder}/link-${links - 40}`)).toBe(true)
      expect(archive.has(`${folder}/link-${links - 41}`)).toBe(false)
      expect(archive.list()).toHaveLength(1 + 40)
    } finally {
      await archive.close()
    }
  })

  test('links through parent folders, hardlinks and loops resolve as before', async () => {
    const file = join(dir, 'links.tar')
    await writeTar(file, [
      fileEntry('real/dir/file.txt', 'content\n'),
      symlinkEntry('alias', 'real/dir'),
      symlinkEntry('up/via', '../alias/file.txt'),
      symlinkEntry('loop-a', 'loop-b'),
      symlinkEntry('loop-b', 'loop-a'),
      symlinkEntry('loop-c/x', '../loop-c/x'),
      symlinkEntry('missing', 'real/none'),
      tarHeader('hard', 0, '1', 'real/dir/file.txt')
    ])
    const archive = await open(file)
    try {
      expect(archive.list()).toEqual(['hard', 'real/dir/file.txt', 'up/via'])
      expect(archive.has('alias/file.txt')).toBe(true)
      expect(archive.size('up/via')).toBe(8)
      expect(archive.has('loop-a')).toBe(false)
      expect(archive.has('loop-c/x')).toBe(false)
      expect(archive.has('missing')).toBe(false)
      expect(archive.has('hard')).toBe(true)
    } finally {
      await archive.close()
    }
  })
})

/** The resolution rule as it was before link names formed a tree (quadratic, but plain): the reference. */
function referenceResolve (files: Set<string>, links: Map<string, string>, path: string, depth = 0): string | undefined {
  if (depth > 40) return undefined
  if (files.has(path)) return path
  const parts = path.split('/')
  for (let i = 1; i <= parts.length; i++) {
    const target = links.get(parts.slice(0, i).join('/'))
    if (target == null) continue
    const next = [target, ...parts.slice(i)].filter((part) => part !== '').join('/')
    return referenceResolve(files, links, next, depth + 1)
  }
  return undefined
}

/** mulberry32, so every run draws the same archives. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('link resolution matches the plain rule', () => {
  test('300 random archives of files and symlinks (shared prefixes, chains, loops, links in parent folders)', async () => {
    const rnd = prng(7)
    const pick = <T>(items: T[]): T => items[Math.floor(rnd() * items.length)] as T
    const randomPath = (): string => Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick(['a', 'b', 'c', 'ab'])).join('/')
    for (let round = 0; round < 300; round++) {
      const files = new Set<string>()
      const links = new Map<string, string>()
      for (let i = 0; i < 12; i++) {
        const name = randomPath()
        if (files.has(name) || links.has(name)) continue
        if (rnd() < 0.4) files.add(name)
        else links.set(name, randomPath())
      }
      // Left out: a file below a link name. The plain rule reads it as it is when a link's
      // target names it; the tree follows the link (as a file system would).
      for (const f of [...files]) if ([...links.keys()].some((l) => f.startsWith(`${l}/`))) files.delete(f)
      const parts = [
        ...[...files].map((name) => fileEntry(name, name)),
        // Targets from the root: as many `..` as the link's folder is deep.
        ...[...links].map(([name, target]) => symlinkEntry(name, `${'../'.repeat(name.split('/').length - 1)}${target}`))
      ]
      const file = join(dir, 'random-links.tar')
      await writeTar(file, parts)
      const archive = await open(file)
      try {
        for (let q = 0; q < 20; q++) {
          const path = q < links.size ? [...links.keys()][q] as string : randomPath()
          const expected = referenceResolve(files, links, path) !== undefined
          if (archive.has(path) !== expected) throw new Error(`round ${round}: has('${path}') is ${String(!expected)}; links ${JSON.stringify([...links])}, files ${JSON.stringify([...files])}`)
        }
      } finally {
        await archive.close()
      }
    }
  })

  test('a shallow chain of 60 links: the same 40 resolve as by the plain rule', async () => {
    const file = join(dir, 'shallow-chain.tar')
    await writeTar(file, symlinkChain(60, 2))
    const folder = chainFolder(2)
    const links = new Map(Array.from({ length: 60 }, (_, i) => [`${folder}/link-${i}`, `${folder}/${i === 59 ? 'target.txt' : `link-${i + 1}`}`]))
    const files = new Set([`${folder}/target.txt`])
    const archive = await open(file)
    try {
      const resolved = [...links.keys()].filter((name) => referenceResolve(files, links, name) !== undefined)
      expect(resolved).toHaveLength(40)
      for (const name of links.keys()) expect(archive.has(name)).toBe(resolved.includes(name))
    } finally {
      await archive.close()
    }
  })
})

describe('index.json', () => {
  test('a 16 MB index.json is refused for its entry count, in bounded time and memory', async () => {
    const file = join(dir, 'big-index.tar')
    expect(await writeTar(file, bigIndexLayout(16_000_000))).toBeGreaterThan(16_000_000)
    await expectRefused(await push(file), /lists \d+ manifests, more than the 10000 allowed/)
    const archive = await open(file)
    try {
      const err = await rejection(loadImage(archive, { input: INPUT }))
      expect(err).toBeInstanceOf(ImageFormatError)
      expect(err.message).toMatch(/Input 'image-file'.*index\.json .* lists \d+ manifests, more than the 10000 allowed/)
    } finally {
      await archive.close()
    }
  })

  test('nested indexes listing one image 4000 × 4000 times: each is walked once, and the image publishes', async () => {
    const file = join(dir, 'nested-index.tar')
    await writeTar(file, nestedIndexLayout(4000))
    const tmp = await mkdtemp(join(dir, 'tmp-'))
    const car = join(dir, 'nested-index.car')
    const child = spawn('prlimit', [`--cpu=${CPU_SECONDS}`, process.execPath, cli, 'push', '--file', file, '--name', 'nested/index', '--car', car, '--json'],
      { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => { stdout += String(c) })
    child.stderr.on('data', (c) => { stderr += String(c) })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(JSON.parse(stdout).platforms).toEqual(['linux/amd64'])
    expect(existsSync(car)).toBe(true)
  })
})
