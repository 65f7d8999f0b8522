import { createCipheriv, createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { pack as tarPack } from 'tar-stream'
import { sha256Digest } from './image/blob.js'

/** One file in a generated layer: fixed text or bytes, or `size` deterministic pseudo-random bytes. */
export interface SampleFile {
  path: string
  text?: string
  bytes?: Uint8Array
  size?: number
  /** Default 0644. */
  mode?: number
}

export interface SampleImageOptions {
  layers: SampleFile[][]
  labels?: Record<string, string>
  /** gzip layers (as registries ship them) or leave them as plain tar. */
  gzip?: boolean
  /** Seed for the pseudo-random bytes, so the same options give the same image. */
  seed?: string
  tag?: string
  /** The config's Cmd, what `docker run` runs. */
  cmd?: string[]
}

export interface SampleImage {
  dir: string
  manifestDigest: string
  configDigest: string
  bytes: number
}

/** Deterministic, fast pseudo-random bytes: AES-128-CTR over zeros. */
function randomStream (seed: string, size: number): PassThrough {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16)
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  const out = new PassThrough()
  const zeros = Buffer.alloc(1 << 20)
  let left = size
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, zeros.length)
      left -= n
      if (!out.write(cipher.update(zeros.subarray(0, n)))) {
        out.once('drain', pump)
        return
      }
    }
    out.end()
  }
  process.nextTick(pump)
  return out
}

function hashing (onDone: (digest: string, size: number) => void): Transform {
  const hash = createHash('sha256')
  let size = 0
  return new Transform({
    transform (chunk: Buffer, _enc, cb) {
      hash.update(chunk)
      size += chunk.length
      cb(null, chunk)
    },
    flush (cb) {
      onDone(`sha256:${hash.digest('hex')}`, size)
      cb()
    }
  })
}

async function writeBlob (blobs: string, bytes: Uint8Array): Promise<{ digest: string, size: number }> {
  const digest = sha256Digest(bytes)
  await writeFile(join(blobs, digest.slice('sha256:'.length)), bytes)
  return { digest, size: bytes.length }
}

/**
 * Writes a real, loadable OCI image layout to `dir`, built in-process
 * (no Docker): used by `ipcr demo` and the benchmark.
 */
export async function writeSampleImage (dir: string, options: SampleImageOptions): Promise<SampleImage> {
  const blobs = join(dir, 'blobs', 'sha256')
  await mkdir(blobs, { recursive: true })
  const seed = options.seed ?? 'ipcr'
  const gzip = options.gzip ?? true
  const layers: Array<{ digest: string, size: number, diffId: string }> = []
  let bytes = 0
  for (const [index, files] of options.layers.entries()) {
    const tmp = join(blobs, `.layer-${index}.tmp`)
    const tar = tarPack()
    let diffId = ''
    let digest = ''
    let size = 0
    const written = (async () => {
      const stages: NodeJS.ReadWriteStream[] = [hashing((d) => { diffId = d })]
      if (gzip) stages.push(createGzip({ level: 1 }))
      await pipeline(tar, ...stages as [Transform], hashing((d, s) => { digest = d; size = s }), createWriteStream(tmp))
    })()
    for (const file of files) {
      const mtime = new Date(0)
      const mode = file.mode ?? 0o644
      if (file.text != null || file.bytes != null) {
        tar.entry({ name: file.path, mtime, mode }, file.text ?? Buffer.from(file.bytes as Uint8Array))
        continue
      }
      const fileSize = file.size ?? 0
      await new Promise<void>((resolve, reject) => {
        const entry = tar.entry({ name: file.path, size: fileSize, mtime, mode }, (err) => err != null ? reject(err) : resolve())
        randomStream(`${seed}/${index}/${file.path}`, fileSize).pipe(entry)
      })
    }
    tar.finalize()
    await written
    await rename(tmp, join(blobs, digest.slice('sha256:'.length)))
    layers.push({ digest, size, diffId })
    bytes += size
  }
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: options.labels ?? {}, ...(options.cmd != null ? { Cmd: options.cmd } : {}) },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created_by: 'ipcr sample image', created: '1970-01-01T00:00:00Z' }))
  }
  const configBlob = await writeBlob(blobs, Buffer.from(JSON.stringify(config)))
  const layerType = gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar'
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers: layers.map((l) => ({ mediaType: layerType, digest: l.digest, size: l.size }))
  }
  const manifestBlob = await writeBlob(blobs, Buffer.from(JSON.stringify(manifest)))
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{
      mediaType: manifest.mediaType,
      ...manifestBlob,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'org.opencontainers.image.ref.name': options.tag ?? 'latest' }
    }]
  }
  await writeFile(join(dir, 'index.json'), JSON.stringify(index))
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  return { dir, manifestDigest: manifestBlob.digest, configDigest: configBlob.digest, bytes: bytes + configBlob.size + manifestBlob.size }
}

/**
 * A static x86-64 Linux program of 150-odd bytes that writes `message` to
 * stdout and exits 0: write(1, message, length); exit(0). No libc, no loader.
 */
export function helloProgram (message: string): Uint8Array {
  const text = Buffer.from(message)
  const base = 0x400000
  const headers = 64 + 56
  const code = Buffer.from([
    0xb8, 1, 0, 0, 0, // mov eax, 1 (write)
    0xbf, 1, 0, 0, 0, // mov edi, 1 (stdout)
    0x48, 0x8d, 0x35, 16, 0, 0, 0, // lea rsi, [rip + 16] (the message, right after the code)
    0xba, 0, 0, 0, 0, // mov edx, length
    0x0f, 0x05, // syscall
    0xb8, 60, 0, 0, 0, // mov eax, 60 (exit)
    0x31, 0xff, // xor edi, edi
    0x0f, 0x05 // syscall
  ])
  code.writeUInt32LE(text.length, 18)
  const size = headers + code.length + text.length
  const elf = Buffer.alloc(size)
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]) // ELF, 64-bit, little-endian, version 1, System V
  elf.writeUInt16LE(2, 16) // executable
  elf.writeUInt16LE(0x3e, 18) // x86-64
  elf.writeUInt32LE(1, 20)
  elf.writeBigUInt64LE(BigInt(base + headers), 24) // entry
  elf.writeBigUInt64LE(64n, 32) // program headers
  elf.writeUInt16LE(64, 52)
  elf.writeUInt16LE(56, 54)
  elf.writeUInt16LE(1, 56)
  elf.writeUInt16LE(64, 58)
  // One PT_LOAD segment, read + execute, mapping the whole file at `base`.
  elf.writeUInt32LE(1, 64)
  elf.writeUInt32LE(5, 68)
  elf.writeBigUInt64LE(0n, 72)
  elf.writeBigUInt64LE(BigInt(base), 80)
  elf.writeBigUInt64LE(BigInt(base), 88)
  elf.writeBigUInt64LE(BigInt(size), 96)
  elf.writeBigUInt64LE(BigInt(size), 104)
  elf.writeBigUInt64LE(0x1000n, 112)
  code.copy(elf, headers)
  text.copy(elf, headers + code.length)
  return elf
}

export const DEMO_GREETING = 'Hello from the InterPlanetary Container Registry.\n'

/** The small image `ipcr demo` publishes; `docker run` prints DEMO_GREETING (linux/amd64). */
export const demoImage: SampleImageOptions = {
  labels: { 'org.opencontainers.image.description': 'ipcr demo image, built in-process without Docker' },
  cmd: ['/hello'],
  layers: [
    [
      { path: 'hello', bytes: helloProgram(DEMO_GREETING), mode: 0o755 },
      { path: 'etc/ipcr-release', text: 'ipcr demo image\n' },
      { path: 'hello.txt', text: DEMO_GREETING }
    ],
    [{ path: 'data/random.bin', size: 3 * 1024 * 1024 + 17 }]
  ]
}
