// The floor contender: the least work any publisher must do on this input, in one
// Node process: one streamed sha256 pass over every input file, and writing an output
// file exactly as large as ipcr's CAR (the bytes read, then zero padding), in 1 MiB
// chunks. Streams read ahead and write behind in libuv's thread pool while the main
// thread hashes, as a well-built publisher would overlap them.
// Usage: node floor.mjs <input dir> <output file> <output bytes>
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'

const CHUNK = 1 << 20
const [dir, outPath, outBytesArg] = process.argv.slice(2)
const outBytes = Number(outBytesArg)
if (dir == null || outPath == null || !Number.isSafeInteger(outBytes) || outBytes < 0) {
  console.error('usage: node floor.mjs <input dir> <output file> <output bytes>')
  process.exit(2)
}

async function files (d) {
  const out = []
  for (const e of await readdir(d, { withFileTypes: true })) {
    const p = join(d, e.name)
    if (e.isDirectory()) out.push(...await files(p))
    else if (e.isFile()) out.push(p)
  }
  return out.sort()
}

let read = 0
let written = 0
async function * chunks () {
  for (const path of await files(dir)) {
    const hash = createHash('sha256')
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
      read += chunk.length
      hash.update(chunk)
      const n = Math.min(chunk.length, outBytes - written)
      if (n > 0) {
        written += n
        yield n === chunk.length ? chunk : chunk.subarray(0, n)
      }
    }
    hash.digest('hex')
  }
  const zeros = Buffer.alloc(CHUNK)
  while (written < outBytes) {
    const n = Math.min(CHUNK, outBytes - written)
    written += n
    yield zeros.subarray(0, n)
  }
}

await pipeline(chunks, createWriteStream(outPath, { highWaterMark: 4 * CHUNK }))
process.stdout.write(JSON.stringify({ read, written }) + '\n')
