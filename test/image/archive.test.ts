import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createReadStream, createWriteStream } from 'node:fs'
import { readdir, readFile, rm, stat, truncate, writeFile, copyFile, mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import * as zlib from 'node:zlib'
import * as tar from 'tar-stream'
import { ImageFormatError, InputError } from '../../src/core/errors.js'
import { BufferPool } from '../../src/core/buffer-pool.js'
import { openImageArchive } from '../../src/core/image/archive.js'
import type { ImageArchive } from '../../src/core/image/archive.js'
import { dockerBuild, dockerRemove, dockerSave, makeTempDir, uniqueName } from '../helpers/images.js'
import { run } from '../helpers/tools.js'

const INPUT = 'my-image-input'

let dir: string
let ref: string
let saved: string

async function readAll (archive: ImageArchive, path: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of archive.open(path)) chunks.push(Buffer.from(chunk as Uint8Array))
  return Buffer.concat(chunks)
}

async function open (path: string): Promise<ImageArchive> {
  return await openImageArchive(path, { input: INPUT, tempDir: dir })
}

/** Expects opening `path` to fail with `type`, naming the input. */
async function expectRejected (path: string, type: typeof InputError | typeof ImageFormatError, pattern: RegExp): Promise<void> {
  const error = await open(path).then(() => undefined, (err: unknown) => err)
  expect(error).toBeInstanceOf(type)
  expect((error as Error).message).toContain(INPUT)
  expect((error as Error).message).toMatch(pattern)
}

type Entry = Partial<tar.Header> & { name: string, content?: string }

async function writeTar (file: string, entries: Entry[]): Promise<void> {
  const pack = tar.pack()
  const done = pipeline(pack, createWriteStream(file))
  for (const { content, ...header } of entries) pack.entry(header, content ?? '')
  pack.finalize()
  await done
}

beforeAll(async () => {
  dir = await makeTempDir()
  ref = `localhost/${uniqueName()}:archive`
  await dockerBuild(ref, { 'data/file.txt': 'x'.repeat(5000), 'small.txt': 'small\n' })
  saved = join(dir, 'saved.tar')
  await dockerSave(ref, saved)
  await dockerRemove(ref)
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('tar file', () => {
  test('indexes a real docker save and resolves layer.tar symlinks', async () => {
    const archive = await open(saved)
    try {
      expect(archive.label).toBe(saved)
      const names = archive.list()
      expect(names).toContain('manifest.json')
      const manifest = await archive.readJson('manifest.json') as any[]
      const layer = manifest[0].Layers[0] as string
      const linked = names.find((name) => name.endsWith('/layer.tar'))
      expect(linked).toBeDefined()
      expect(archive.has(linked!)).toBe(true)
      expect(archive.size(linked!)).toBe(archive.size(layer))
      expect((await readAll(archive, linked!)).equals(await readAll(archive, layer))).toBe(true)
      // Same bytes as tar extracts.
      const out = join(dir, 'extracted')
      await mkdir(out)
      await run('tar', ['-C', out, '-xf', saved])
      expect((await readAll(archive, layer)).equals(await readFile(join(out, layer)))).toBe(true)
      expect(archive.has('./manifest.json')).toBe(true)
      expect(archive.has('nope.json')).toBe(false)
      expect(() => archive.open('nope.json')).toThrow(ImageFormatError)
    } finally {
      await archive.close()
    }
  })

  test('decompresses a gzip tarball to a temp file and removes it on close', async () => {
    const gz = join(dir, 'saved.gz')
    await pipeline(createReadStream(saved), zlib.createGzip(), createWriteStream(gz))
    const temp = await makeTempDir('ipcr-archive-temp-')
    const archive = await openImageArchive(gz, { input: INPUT, tempDir: temp })
    const plain = await open(saved)
    expect(archive.list()).toEqual(plain.list())
    expect(await archive.readJson('manifest.json')).toEqual(await plain.readJson('manifest.json'))
    expect(await readdir(temp)).toHaveLength(1)
    await archive.close()
    await plain.close()
    expect(await readdir(temp)).toHaveLength(0)
    await rm(temp, { recursive: true })
  })

  test('zstd tarballs are read when zlib has zstd, else refused clearly', async () => {
    const zst = join(dir, 'saved.zst')
    await run('zstd', ['-q', '-f', saved, '-o', zst])
    if (typeof (zlib as any).createZstdDecompress === 'function') {
      const archive = await open(zst)
      expect(archive.list()).toContain('manifest.json')
      await archive.close()
    } else {
      await expectRejected(zst, InputError, /zstd/)
    }
  })

  test('reads pax long names and GNU tar output', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(120)}.json`
    const paxTar = join(dir, 'pax.tar')
    await writeTar(paxTar, [{ name: long, content: '{"a":1}' }])
    const archive = await open(paxTar)
    expect(archive.list()).toEqual([long])
    expect(await archive.readJson(long)).toEqual({ a: 1 })

    const src = join(dir, 'gnu-src')
    await mkdir(join(src, 'sub'), { recursive: true })
    await writeFile(join(src, 'sub', `${'n'.repeat(150)}.txt`), 'gnu')
    await writeFile(join(src, 'empty'), '')
    await symlink(`sub/${'n'.repeat(150)}.txt`, join(src, 'link'))
    const gnuTar = join(dir, 'gnu.tar')
    await run('tar', ['--format=gnu', '-C', src, '-cf', gnuTar, '.'])
    const gnu = await open(gnuTar)
    expect(gnu.list()).toEqual(['empty', 'link', `sub/${'n'.repeat(150)}.txt`])
    expect((await readAll(gnu, 'link')).toString()).toBe('gnu')
    expect((await readAll(gnu, 'empty')).length).toBe(0)
  })

  test('later duplicates win', async () => {
    const file = join(dir, 'dup.tar')
    await writeTar(file, [{ name: 'a.json', content: '1' }, { name: 'a.json', content: '22' }])
    const archive = await open(file)
    expect(archive.list()).toEqual(['a.json'])
    expect(await archive.readJson('a.json')).toBe(22)
  })

  test('invalid JSON and oversized JSON are ImageFormatErrors naming the input and path', async () => {
    const file = join(dir, 'badjson.tar')
    await writeTar(file, [{ name: 'index.json', content: '{"schemaVersion":' }])
    const archive = await open(file)
    const error = await archive.readJson('index.json').then(() => undefined, (err: unknown) => err)
    expect(error).toBeInstanceOf(ImageFormatError)
    expect((error as Error).message).toMatch(new RegExp(`${INPUT}.*index\\.json.*not valid JSON`))
    await expect(archive.readJson('index.json', 4)).rejects.toThrow(/more than the 4 allowed/)
  })
})

describe('directory', () => {
  test('serves files, resolves inner symlinks, refuses escaping ones', async () => {
    const layout = join(dir, 'layout-dir')
    await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true })
    await writeFile(join(layout, 'index.json'), '{"x":true}')
    await writeFile(join(layout, 'blobs', 'sha256', 'aa'), 'blob')
    await symlink('blobs/sha256/aa', join(layout, 'alias'))
    const archive = await open(layout)
    expect(archive.list()).toEqual(['alias', 'blobs/sha256/aa', 'index.json'])
    expect(await archive.readJson('index.json')).toEqual({ x: true })
    expect((await readAll(archive, 'alias')).toString()).toBe('blob')
    expect(archive.size('blobs/sha256/aa')).toBe(4)
    await archive.close()
    expect((await stat(join(layout, 'index.json'))).isFile()).toBe(true)

    await symlink(saved, join(layout, 'escape'))
    await expectRejected(layout, ImageFormatError, /escape/)
  })
})

describe('chunks', () => {
  test('reads full chunks into pooled buffers and the tail into its own, from tars and directories', async () => {
    const layout = join(dir, 'chunks-dir')
    await mkdir(layout, { recursive: true })
    const content = Buffer.from(Array.from({ length: 2500 }, (_, i) => 32 + i % 90))
    await writeFile(join(layout, 'blob'), content)
    const tarFile = join(dir, 'chunks.tar')
    await writeTar(tarFile, [{ name: 'first.txt', content: 'x'.repeat(700) }, { name: 'blob', content: content.toString('latin1') }])
    for (const path of [layout, tarFile]) {
      const archive = await open(path)
      const pool = new BufferPool(1000, 4)
      const spare = pool.take()
      pool.give(spare)
      const got: Uint8Array[] = []
      for await (const chunk of archive.chunks('blob', { pool })) got.push(chunk)
      expect(got.map((c) => c.byteLength)).toEqual([1000, 1000, 500])
      // The first chunk reused the buffer given back; the tail owns exactly its bytes.
      expect(got[0]).toBe(spare)
      expect(got[2]?.buffer.byteLength).toBe(500)
      expect(Buffer.concat(got).equals(content)).toBe(true)
      await archive.close()
    }
  })

  test('a file that shrinks while read yields what is there; the digest check then fails', async () => {
    const layout = join(dir, 'shrink-dir')
    await mkdir(layout, { recursive: true })
    await writeFile(join(layout, 'blob'), Buffer.alloc(2500, 1))
    const archive = await open(layout)
    await truncate(join(layout, 'blob'), 1200)
    const got: Uint8Array[] = []
    for await (const chunk of archive.chunks('blob', { pool: new BufferPool(1000, 4) })) got.push(chunk)
    expect(got.map((c) => c.byteLength)).toEqual([1000, 200])
  })
})

describe('BufferPool', () => {
  test('keeps only whole buffers of its size, up to its limit', () => {
    const pool = new BufferPool(16, 2)
    const a = pool.take()
    expect(a.byteLength).toBe(16)
    pool.give(a.subarray(0, 8))
    pool.give(new Uint8Array(32).subarray(0, 16))
    expect(pool.held).toBe(0)
    pool.give(a)
    pool.give(new Uint8Array(16))
    pool.give(new Uint8Array(16))
    expect(pool.held).toBe(2)
    expect(pool.take()).not.toBe(a)
    expect(pool.take()).toBe(a)
    expect(pool.held).toBe(0)
  })
})

describe('bad inputs', () => {
  test('a missing path', async () => {
    await expectRejected(join(dir, 'does-not-exist.tar'), InputError, /cannot read/)
  })

  test('a text file', async () => {
    const file = join(dir, 'notes.txt')
    await writeFile(file, 'this is not an image\n'.repeat(100))
    await expectRejected(file, InputError, /not a tar archive/)
  })

  test('a tiny file and an empty file', async () => {
    const tiny = join(dir, 'tiny')
    await writeFile(tiny, 'x')
    await expectRejected(tiny, InputError, /not a tar archive/)
    const empty = join(dir, 'empty')
    await writeFile(empty, '')
    await expectRejected(empty, InputError, /not a tar archive/)
  })

  test('a truncated tar: cut inside file data', async () => {
    const cut = join(dir, 'cut.tar')
    await copyFile(saved, cut)
    await truncate(cut, Math.floor((await stat(saved)).size / 2) + 7)
    await expectRejected(cut, ImageFormatError, /truncated/)
  })

  test('a truncated tar: end-of-archive marker missing', async () => {
    const file = join(dir, 'noend.tar')
    await writeTar(file, [{ name: 'a.txt', content: 'abc' }])
    await truncate(file, 1024)
    await expectRejected(file, ImageFormatError, /truncated/)
  })

  test('a truncated gzip tarball', async () => {
    const gz = join(dir, 'cut.gz')
    await pipeline(createReadStream(saved), zlib.createGzip(), createWriteStream(gz))
    await truncate(gz, Math.floor((await stat(gz)).size / 2))
    await expectRejected(gz, InputError, /gzip/)
  })

  test('an absolute path', async () => {
    const file = join(dir, 'abs.tar')
    await writeTar(file, [{ name: '/etc/passwd', content: 'root' }])
    await expectRejected(file, ImageFormatError, /absolute path '\/etc\/passwd'/)
  })

  test('a .. component', async () => {
    const file = join(dir, 'dotdot.tar')
    await writeTar(file, [{ name: 'blobs/../../evil', content: 'x' }])
    await expectRejected(file, ImageFormatError, /'\.\.'/)
  })

  test('a symlink escaping the archive', async () => {
    const file = join(dir, 'symlink.tar')
    await writeTar(file, [{ name: 'a/layer.tar', type: 'symlink', linkname: '../../outside.tar' }])
    await expectRejected(file, ImageFormatError, /escapes the archive/)
  })

  test('an absolute symlink', async () => {
    const file = join(dir, 'abs-symlink.tar')
    await writeTar(file, [{ name: 'layer.tar', type: 'symlink', linkname: '/etc/passwd' }])
    await expectRejected(file, ImageFormatError, /absolute/)
  })

  test('a hardlink escaping the archive', async () => {
    const file = join(dir, 'hardlink.tar')
    await writeTar(file, [{ name: 'layer.tar', type: 'link', linkname: '../secret' }])
    await expectRejected(file, ImageFormatError, /'\.\.'/)
  })

  test('symlink loops do not hang', async () => {
    const file = join(dir, 'loop.tar')
    await writeTar(file, [
      { name: 'a', type: 'symlink', linkname: 'b' },
      { name: 'b', type: 'symlink', linkname: 'a' },
      { name: 'c', type: 'link', linkname: 'real' },
      { name: 'real', content: 'r' }
    ])
    const archive = await open(file)
    expect(archive.list()).toEqual(['c', 'real'])
    expect(archive.has('a')).toBe(false)
  })
})
