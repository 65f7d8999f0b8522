// Tar target: valid image archives (docker-archive, Docker 25+ and OCI layout tars, built here)
// with their entry lists and header fields mutated (pax, GNU long names, links, sizes,
// checksums, names), then their bytes; read with openImageArchive + loadImage as publish does.
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { openImageArchive } from '../../src/core/image/archive.js'
import { loadImage } from '../../src/core/image/load.js'
import { tagFolderFiles } from '../../src/core/image/tag-folder.js'
import { sometimes, step, Violation, type Sandbox, type Target } from './harness.js'

export interface TarEntry {
  name: string
  /** Type flag: '0' file, '1' hardlink, '2' symlink, '5' directory, 'x' pax, 'g' global pax, 'L'/'K' GNU long name/link… */
  type: string
  data: Uint8Array
  linkname?: string
  prefix?: string
  /** Overrides the size field: octal digits, GNU base-256, or raw text. */
  size?: { kind: 'octal' | 'base256', value: number } | { kind: 'text', value: string }
  checksum?: 'ok' | 'bad' | 'signed'
}

const BLOCK = 512
const enc = new TextEncoder()

function putString (header: Uint8Array, offset: number, length: number, value: string): void {
  header.set(enc.encode(value).subarray(0, length), offset)
}

function octal (value: number, length: number): string {
  return value.toString(8).padStart(length - 1, '0') + '\0'
}

/** One 512-byte header with the fields of `entry`. */
export function tarHeader (entry: TarEntry): Uint8Array {
  const header = new Uint8Array(BLOCK)
  putString(header, 0, 100, entry.name)
  putString(header, 100, 8, octal(0o644, 8))
  putString(header, 108, 8, octal(0, 8))
  putString(header, 116, 8, octal(0, 8))
  const size = entry.size ?? { kind: 'octal', value: entry.data.length }
  if (size.kind === 'octal') {
    putString(header, 124, 12, octal(size.value as number, 12).slice(-12))
  } else if (size.kind === 'base256') {
    let value = BigInt(Math.trunc(size.value as number))
    for (let i = 135; i > 124; i--) {
      header[i] = Number(value & 0xffn)
      value >>= 8n
    }
    header[124] = 0x80 | Number(value & 0x7fn)
  } else {
    putString(header, 124, 12, String(size.value))
  }
  putString(header, 136, 12, octal(0, 12))
  header[156] = entry.type.charCodeAt(0) & 0xff
  putString(header, 157, 100, entry.linkname ?? '')
  putString(header, 257, 6, 'ustar\0')
  putString(header, 263, 2, '00')
  putString(header, 345, 155, entry.prefix ?? '')
  header.fill(0x20, 148, 156)
  let sum = 0
  let signed = 0
  for (const byte of header) {
    sum += byte
    signed += byte > 127 ? byte - 256 : byte
  }
  const checksum = entry.checksum === 'bad' ? sum + 1 : entry.checksum === 'signed' ? signed : sum
  putString(header, 148, 8, (checksum & 0o777777).toString(8).padStart(6, '0') + '\0 ')
  return header
}

/** A tar file: each entry's header and data padded to 512 bytes, then two zero blocks. */
export function tarBytes (entries: TarEntry[], end = true): Uint8Array {
  const parts: Uint8Array[] = []
  const push = (entry: TarEntry): void => {
    parts.push(tarHeader(entry), entry.data)
    const pad = (BLOCK - (entry.data.length % BLOCK)) % BLOCK
    if (pad > 0) parts.push(new Uint8Array(pad))
  }
  for (const entry of entries) {
    // As tar tools do: a name or link target too long for the header goes in a pax header first.
    const records: Array<[string, string]> = []
    if (Buffer.byteLength(entry.name) > 100 && entry.type !== 'x' && entry.type !== 'L') records.push(['path', entry.name])
    if (Buffer.byteLength(entry.linkname ?? '') > 100) records.push(['linkpath', entry.linkname as string])
    if (records.length > 0) push({ name: 'PaxHeader', type: 'x', data: paxRecords(records) })
    push(entry)
  }
  if (end) parts.push(new Uint8Array(2 * BLOCK))
  return new Uint8Array(Buffer.concat(parts))
}

export function file (name: string, data: Uint8Array | string): TarEntry {
  return { name, type: '0', data: typeof data === 'string' ? enc.encode(data) : data }
}

export function paxRecords (records: Array<[string, string]>): Uint8Array {
  const lines: Buffer[] = []
  for (const [key, value] of records) {
    const body = ` ${key}=${value}\n`
    let length = Buffer.byteLength(body) + 1
    while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body)
    lines.push(Buffer.from(`${length}${body}`))
  }
  return new Uint8Array(Buffer.concat(lines))
}

const hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const json = (value: unknown): Uint8Array => enc.encode(JSON.stringify(value))

export type BaseKind = 'docker' | 'oci' | 'docker-oci' | 'oci-gzip'

/** The entries of a small valid image archive of the given kind. */
export function baseImage (kind: BaseKind): TarEntry[] {
  const layerPlain = tarBytes([file('hello.txt', 'hello from the fuzzer\n'), { name: 'etc/', type: '5', data: new Uint8Array(0) }])
  const layer = kind === 'oci-gzip' ? new Uint8Array(gzipSync(layerPlain)) : layerPlain
  const config = json({
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: { 'org.opencontainers.image.description': 'fuzz' } },
    rootfs: { type: 'layers', diff_ids: [`sha256:${hex(layerPlain)}`] }
  })
  if (kind === 'docker') {
    return [
      file(`${hex(config)}.json`, config),
      { name: 'abc/', type: '5', data: new Uint8Array(0) },
      file('abc/layer.tar', layer),
      file('manifest.json', json([{ Config: `${hex(config)}.json`, RepoTags: ['fuzz:latest'], Layers: ['abc/layer.tar'] }])),
      file('repositories', json({ fuzz: { latest: 'abc' } }))
    ]
  }
  const layerType = kind === 'oci-gzip' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar'
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${hex(config)}`, size: config.length },
    layers: [{ mediaType: layerType, digest: `sha256:${hex(layer)}`, size: layer.length }]
  })
  const index = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${hex(manifest)}`,
      size: manifest.length,
      annotations: { 'io.containerd.image.name': 'docker.io/library/fuzz:latest', 'org.opencontainers.image.ref.name': 'latest' }
    }]
  })
  const entries = [
    { name: 'blobs/', type: '5', data: new Uint8Array(0) },
    { name: 'blobs/sha256/', type: '5', data: new Uint8Array(0) },
    file(`blobs/sha256/${hex(config)}`, config),
    file(`blobs/sha256/${hex(layer)}`, layer),
    file(`blobs/sha256/${hex(manifest)}`, manifest),
    file('index.json', index),
    file('oci-layout', json({ imageLayoutVersion: '1.0.0' }))
  ]
  if (kind === 'docker-oci') {
    entries.push(file('manifest.json', json([{ Config: `blobs/sha256/${hex(config)}`, RepoTags: ['fuzz:latest'], Layers: [`blobs/sha256/${hex(layer)}`] }])))
  }
  return entries
}

/** Names that have broken path handling somewhere. */
export const nastyName = fc.oneof(
  fc.constantFrom(
    '', '.', '..', '/', '/etc/passwd', '../escape', 'a/../../b', './index.json', 'index.json/', 'blobs//sha256/', 'a\\b', 'nul\0byte',
    'x'.repeat(100), 'y'.repeat(101), 'z/'.repeat(120), 'é', '\u202e', 'manifest.json', 'index.json', 'oci-layout', 'repositories',
    'blobs', 'blobs/sha256', ' ', '__proto__', 'constructor', 'line\nbreak', '::warning::x'
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 })
)

type Op =
  | { op: 'pax', at: number, records: Array<[string, string]>, global: boolean }
  | { op: 'paxFlood', at: number, count: number }
  | { op: 'gnuLong', at: number, kind: 'L' | 'K', name: string }
  | { op: 'symlinkChain', length: number, depth: number, to: number, replace: boolean }
  | { op: 'link', at: number, to: number, kind: '1' | '2', name: string }
  | { op: 'rename', at: number, name: string }
  | { op: 'type', at: number, type: string }
  | { op: 'size', at: number, size: NonNullable<TarEntry['size']> }
  | { op: 'checksum', at: number, kind: 'bad' | 'signed' }
  | { op: 'duplicate', at: number }
  | { op: 'remove', at: number }
  | { op: 'data', at: number, bytes: Uint8Array }
  | { op: 'prefix', at: number, prefix: string }

const paxKey = fc.oneof(
  fc.constantFrom('path', 'linkpath', 'size', 'mtime', 'uid', 'uname', 'GNU.sparse.size', 'SCHILY.xattr.user.x', '__proto__', 'constructor', ''),
  fc.string({ maxLength: 12 })
)
const paxValue = fc.oneof(
  nastyName,
  fc.constantFrom('-1', '1e3', '9007199254740993', '0x10', 'NaN', '99999999999999999999', ' 5', '5 ', ''),
  fc.nat().map(String)
)
const sizeField: fc.Arbitrary<NonNullable<TarEntry['size']>> = fc.oneof(
  fc.record({ kind: fc.constant('octal' as const), value: fc.oneof(fc.nat(5000), fc.constantFrom(0o77777777777, 2 ** 33 - 1)) }),
  fc.record({ kind: fc.constant('base256' as const), value: fc.oneof(fc.nat(5000), fc.constantFrom(2 ** 53 + 2, 2 ** 63, 2 ** 80, 2 ** 40)) }),
  fc.record({ kind: fc.constant('text' as const), value: fc.constantFrom('-1', '0x10', '   ', 'NaN', '1e3', '8 9', '\x80\x80', '0000000010 ', '+7') })
)

/** Size knobs: the longest pax flood and symlink chain, and the deepest chain folders. */
export interface TarScale { flood: number, chain: number, depth: number }

const opOf = (scale: TarScale): fc.Arbitrary<Op> => fc.oneof(
  fc.record({ op: fc.constant('pax' as const), at: fc.nat(), records: fc.array(fc.tuple(paxKey, paxValue), { minLength: 1, maxLength: 6 }), global: fc.boolean() }),
  fc.record({ op: fc.constant('paxFlood' as const), at: fc.nat(), count: fc.integer({ min: 2, max: scale.flood }) }),
  fc.record({ op: fc.constant('gnuLong' as const), at: fc.nat(), kind: fc.constantFrom('L' as const, 'K' as const), name: nastyName }),
  fc.record({ op: fc.constant('symlinkChain' as const), length: fc.integer({ min: 1, max: scale.chain }), depth: fc.integer({ min: 0, max: scale.depth }), to: fc.nat(), replace: fc.boolean() }),
  fc.record({ op: fc.constant('link' as const), at: fc.nat(), to: fc.nat(), kind: fc.constantFrom('1' as const, '2' as const), name: nastyName }),
  fc.record({ op: fc.constant('rename' as const), at: fc.nat(), name: nastyName }),
  fc.record({ op: fc.constant('type' as const), at: fc.nat(), type: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'L', 'K', 'S', 'V', 'M', 'D', '\0', 'Z') }),
  fc.record({ op: fc.constant('size' as const), at: fc.nat(), size: sizeField }),
  fc.record({ op: fc.constant('checksum' as const), at: fc.nat(), kind: fc.constantFrom('bad' as const, 'signed' as const) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('remove' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('data' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 700 }) }),
  fc.record({ op: fc.constant('prefix' as const), at: fc.nat(), prefix: nastyName })
)

export interface TarInput {
  base: BaseKind
  ops: Op[]
  /** Byte-level damage after encoding: [position, value] pairs (positions modulo the length). */
  flips: Array<[number, number]>
  /** Cut the file to this fraction (in 1/1000) of its length. */
  truncate: number | null
  end: boolean
  gzip: boolean
}

export const tarInputOf = (scale: TarScale): fc.Arbitrary<TarInput> => fc.record({
  base: fc.constantFrom<BaseKind>('docker', 'oci', 'docker-oci', 'oci-gzip'),
  ops: fc.array(opOf(scale), { maxLength: 6 }),
  flips: fc.oneof({ arbitrary: fc.constant<Array<[number, number]>>([]), weight: 3 }, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })),
  truncate: sometimes(fc.integer({ min: 0, max: 999 }), 8),
  end: fc.oneof({ arbitrary: fc.constant(true), weight: 9 }, { arbitrary: fc.constant(false), weight: 1 }),
  gzip: fc.boolean()
})

function apply (entries: TarEntry[], o: Op): TarEntry[] {
  const n = entries.length
  const at = n === 0 ? 0 : (('at' in o ? o.at : 0) % n)
  const out = [...entries]
  const target = out[at]
  switch (o.op) {
    case 'pax':
      out.splice(at, 0, { name: 'PaxHeader', type: o.global ? 'g' : 'x', data: paxRecords(o.records) })
      break
    case 'paxFlood': {
      const flood: TarEntry[] = []
      for (let i = 0; i < o.count; i++) flood.push({ name: 'PaxHeader', type: 'x', data: paxRecords([[`k${i}`, 'v'.repeat(400)]]) })
      out.splice(at, 0, ...flood)
      break
    }
    case 'gnuLong':
      out.splice(at, 0, { name: '././@LongLink', type: o.kind, data: enc.encode(o.name + '\0') })
      break
    case 'symlinkChain': {
      const files = out.filter((e) => e.type === '0')
      const to = files[o.to % Math.max(1, files.length)]
      if (to == null) break
      const dirs = 'd/'.repeat(o.depth)
      const up = '../'.repeat(o.depth + 1)
      const linkPath = (i: number): string => `c${i}/${dirs}l`
      for (let i = 0; i < o.length; i++) {
        const next = i + 1 < o.length ? linkPath(i + 1) : (o.replace ? `real/${to.name}` : to.name)
        out.push({ name: linkPath(i), type: '2', data: new Uint8Array(0), linkname: up + next })
      }
      if (o.replace) {
        out.push({ ...to, name: `real/${to.name}` })
        out.push({ name: to.name, type: '2', data: new Uint8Array(0), linkname: linkPath(0) })
      }
      break
    }
    case 'link': {
      const to = out[o.to % Math.max(1, n)]
      out.push({ name: o.name, type: o.kind, data: new Uint8Array(0), linkname: to?.name ?? o.name })
      break
    }
    case 'rename':
      if (target != null) out[at] = { ...target, name: o.name }
      break
    case 'type':
      if (target != null) out[at] = { ...target, type: o.type }
      break
    case 'size':
      if (target != null) out[at] = { ...target, size: o.size }
      break
    case 'checksum':
      if (target != null) out[at] = { ...target, checksum: o.kind }
      break
    case 'duplicate':
      if (target != null) out.splice(at, 0, { ...target })
      break
    case 'remove':
      out.splice(at, 1)
      break
    case 'data':
      if (target != null) out[at] = { ...target, data: o.bytes }
      break
    case 'prefix':
      if (target != null) out[at] = { ...target, prefix: o.prefix }
      break
  }
  return out
}

export function tarInputBytes (input: TarInput): Uint8Array {
  let entries = baseImage(input.base)
  for (const o of input.ops) entries = apply(entries, o)
  let bytes = tarBytes(entries, input.end)
  if (bytes.length > 0) {
    for (const [position, value] of input.flips) bytes[position % bytes.length] = value
  }
  if (input.truncate != null) bytes = bytes.subarray(0, Math.floor(bytes.length * input.truncate / 1000))
  return input.gzip ? new Uint8Array(gzipSync(bytes, { level: 1 })) : bytes
}

/** Opens and loads an archive as publish does, then reads every blob it would store. */
export async function loadArchive (path: string, sandbox: Sandbox): Promise<void> {
  const archive = await step(sandbox, 'openImageArchive', undefined, async () => await openImageArchive(path, { input: 'fuzz-image', tempDir: sandbox.temp, signal: sandbox.signal }))
  try {
    archive.list()
    const image = await step(sandbox, 'loadImage', undefined, async () => await loadImage(archive, { input: 'fuzz-image', signal: sandbox.signal }))
    await step(sandbox, 'tagFolderFiles', undefined, async () => tagFolderFiles(image, { name: 'fuzz/app', tag: 'latest' }))
    await step(sandbox, 'read blobs', undefined, async () => {
      for (const blob of image.blobs) {
        let size = 0
        for await (const chunk of blob.open()) size += (chunk as Uint8Array).length
        if (size !== blob.size) throw new Violation('blob-size', `blob ${blob.digest} read ${size} bytes, expected ${blob.size}`)
      }
    })
  } finally {
    await archive.close()
  }
}

/** Full size (the fuzz script): floods and chains large enough for quadratic costs to show. */
export const FULL_TAR_SCALE: TarScale = { flood: 12000, chain: 200, depth: 400 }

export const tarTargetWith = (scale: TarScale): Target<TarInput> => ({
  name: 'tar',
  arbitrary: tarInputOf(scale),
  save: (input) => ({ ext: input.gzip ? 'tar.gz' : 'tar', bytes: tarInputBytes(input) }),
  run: async (input, sandbox) => {
    sandbox.step = 'encode'
    const path = join(sandbox.dir, input.gzip ? 'input.tar.gz' : 'input.tar')
    await writeFile(path, tarInputBytes(input))
    await loadArchive(path, sandbox)
  }
})

export const tarTarget = tarTargetWith(FULL_TAR_SCALE)
