import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { CarFileWriter } from '../../src/core/car/writer.js'
import { buildDirectory } from '../../src/core/unixfs/directory.js'
import { importFile } from '../../src/core/unixfs/file.js'
import { makeTempDir } from '../helpers/images.js'

// A tar export streams: a child exporting a 256 MiB file peaks far below the file's size
// (GNU time's maximum RSS, compared with a generous bound).
const SIZE = 256 * 1024 * 1024
const RSS_MIB = 200 // measured: about 120 (Node itself, 16 MiB of read-ahead, chunks awaiting GC)
let dir: string

beforeAll(async () => { dir = await makeTempDir('ipcr-tar-rss-') })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

async function * content (): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < SIZE; i += 1024 * 1024) yield randomBytes(1024 * 1024)
}

describe('exportTar memory', () => {
  it(`stays under ${RSS_MIB} MiB of RSS for a ${SIZE / 1024 / 1024} MiB file`, async () => {
    const carPath = join(dir, 'big.car')
    const car = await CarFileWriter.create(carPath)
    const file = await importFile(content(), car)
    const root = await buildDirectory([{ name: 'layer.bin', cid: file.cid, size: file.size }], car)
    await car.close(root.cid)

    const script = join(dir, 'export.mjs')
    const src = fileURLToPath(new URL('../../src/core/', import.meta.url))
    await writeFile(join(dir, 'entry.ts'), `
import { createWriteStream } from 'node:fs'
import { finished } from 'node:stream/promises'
import { CarBlockSource } from ${JSON.stringify(join(src, 'blocks/car-source.ts'))}
import { exportTar } from ${JSON.stringify(join(src, 'unixfs/export.ts'))}
const [car, out] = process.argv.slice(2)
const source = await CarBlockSource.open(car)
const stream = createWriteStream(out)
await exportTar(source.roots[0], source, stream)
stream.end()
await finished(stream)
await source.close()
`)
    await build({ entryPoints: [join(dir, 'entry.ts')], outfile: script, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } })
    const tar = join(dir, 'big.tar')
    const timeFile = join(dir, 'time')
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, process.execPath, script, carPath, tar], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c) => { stderr += String(c) })
    const code = await new Promise((resolve) => child.on('close', resolve))
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    // Two headers (./ and ./layer.bin), the file, and the two-block end marker.
    expect((await stat(tar)).size).toBe(512 * 2 + SIZE + 1024)
    const peakMiB = Number((await readFile(timeFile, 'utf8')).trim().split('\n').pop()) / 1024
    expect(peakMiB).toBeLessThan(RSS_MIB)
  }, 300_000)
})
