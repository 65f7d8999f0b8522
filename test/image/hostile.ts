// Hostile image archives, built by code at test time (nothing committed):
// raw tar blocks written by hand, so 30 MB of headers take milliseconds.
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { gzipSync } from 'node:zlib'

const BLOCK = 512

/** A ustar header block; name and linkname up to 100 bytes (longer ones go in pax records). */
export function tarHeader (name: string, size: number, type = '0', linkname = ''): Buffer {
  const h = Buffer.alloc(BLOCK)
  h.write(name.slice(0, 100), 0, 'utf8')
  h.write('0000644\0', 100, 'latin1')
  h.write('0000000\0', 108, 'latin1')
  h.write('0000000\0', 116, 'latin1')
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1')
  h.write('00000000000\0', 136, 'latin1')
  h.write(type, 156, 'latin1')
  h.write(linkname.slice(0, 100), 157, 'utf8')
  h.write('ustar\0', 257, 'latin1')
  h.write('00', 263, 'latin1')
  h.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of h) sum += byte
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1')
  return h
}

function padded (data: Buffer): Buffer {
  const rest = data.length % BLOCK
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)])
}

/** `<len> key=value\n` records of a pax header. */
export function paxRecords (records: Array<[string, string]>): Buffer {
  return Buffer.concat(records.map(([key, value]) => {
    const body = ` ${key}=${value}\n`
    let length = Buffer.byteLength(body) + 1
    while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body)
    return Buffer.from(`${length}${body}`, 'utf8')
  }))
}

/** A pax extended header ('x') and its data. */
export function paxHeader (records: Array<[string, string]>): Buffer {
  const data = paxRecords(records)
  return Buffer.concat([tarHeader('PaxHeader', data.length, 'x'), padded(data)])
}

/** A regular file entry. */
export function fileEntry (name: string, content: Buffer | string): Buffer {
  const data = Buffer.from(content)
  const pax = name.length > 100 ? paxHeader([['path', name]]) : Buffer.alloc(0)
  return Buffer.concat([pax, tarHeader(name, data.length), padded(data)])
}

/** A symlink entry; long names and targets go in a pax header. */
export function symlinkEntry (name: string, target: string): Buffer {
  const records: Array<[string, string]> = []
  if (name.length > 100) records.push(['path', name])
  if (target.length > 100) records.push(['linkpath', target])
  const pax = records.length > 0 ? paxHeader(records) : Buffer.alloc(0)
  return Buffer.concat([pax, tarHeader(name, 0, '2', target)])
}

export const END = Buffer.alloc(2 * BLOCK)

/** Writes `parts` (then the end-of-archive marker) to `file`; returns its size. */
export async function writeTar (file: string, parts: Iterable<Buffer>): Promise<number> {
  const handle = await open(file, 'w')
  let size = 0
  try {
    for (const part of [...parts, END]) {
      await handle.write(part)
      size += part.length
    }
  } finally {
    await handle.close()
  }
  return size
}

/**
 * A PAX flood: `bytes` of pax headers in a row, each with `keysPerHeader`
 * distinct junk keys, before one small file.
 */
export function * paxFlood (bytes: number, keysPerHeader = 40): Generator<Buffer> {
  let written = 0
  for (let h = 0; written < bytes; h++) {
    const header = paxHeader(Array.from({ length: keysPerHeader }, (_, k) => [`junk.${h}.${k}`, 'x'] as [string, string]))
    written += header.length
    yield header
  }
  yield fileEntry('after-the-flood.txt', 'hello\n')
}

/**
 * The most metadata each entry may carry (16 pax headers of 60 KiB of junk
 * keys each, under 1 MiB in all), entry after entry, for `bytes` in all.
 */
export function * paxPerEntry (bytes: number): Generator<Buffer> {
  const junk = paxHeader(Array.from({ length: 1800 }, (_, k) => [`junk.key.${k}`, 'y'.repeat(16)] as [string, string]))
  let written = 0
  for (let i = 0; written < bytes; i++) {
    for (let h = 0; h < 15; h++) { yield junk; written += junk.length }
    const entry = Buffer.concat([paxHeader([['path', `entries/${i}.txt`], ['mtime', '0']]), tarHeader('x', 1), padded(Buffer.from('z'))])
    written += entry.length
    yield entry
  }
}

/**
 * A chain of `links` symlinks in one deep folder (`depth` components):
 * link i points to link i+1, the last to a file. Only the last 40 links
 * resolve (40 hops at most).
 */
export function * symlinkChain (links: number, depth: number): Generator<Buffer> {
  const dir = chainFolder(depth)
  yield fileEntry(`${dir}/target.txt`, 'end of the chain\n')
  for (let i = 0; i < links; i++) {
    yield symlinkEntry(`${dir}/link-${i}`, i === links - 1 ? 'target.txt' : `link-${i + 1}`)
  }
}

export function chainFolder (depth: number): string {
  return Array.from({ length: depth }, (_, i) => `d${i % 10}`).join('/')
}

/** An OCI layout tar whose index.json (about `bytes`) lists distinct manifest digests. */
export function * bigIndexLayout (bytes: number): Generator<Buffer> {
  yield fileEntry('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  const entries: string[] = []
  let size = 0
  for (let i = 0; size < bytes; i++) {
    const digest = `sha256:${createHash('sha256').update(String(i)).digest('hex')}`
    const entry = JSON.stringify({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 1234 })
    entries.push(entry)
    size += entry.length + 1
  }
  yield fileEntry('index.json', `{"schemaVersion":2,"manifests":[${entries.join(',')}]}`)
}

/**
 * A gzip bomb: a tar header for a file of `bytes` zeros, and the zeros, as
 * gzip members repeated (each inflates to 64 MiB): a few hundred KiB on disk.
 */
export async function writeGzipBomb (file: string, bytes: number): Promise<number> {
  return await writeGzip(file, gzipSync(tarHeader('zeros', bytes)), bytes)
}

/** Gzip of `bytes` zeros (a multiple of 64 MiB): decompresses to no tar header at all. */
export async function writeGzipZeros (file: string, bytes: number): Promise<number> {
  return await writeGzip(file, new Uint8Array(0), bytes)
}

/** Writes `head` (a gzip member, or nothing), then gzip members of 64 MiB of zeros up to `bytes`; returns the file's size. */
async function writeGzip (file: string, head: Uint8Array, bytes: number): Promise<number> {
  const member = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 })
  const handle = await open(file, 'w')
  let size = 0
  try {
    if (head.length > 0) await handle.write(head)
    size += head.length
    for (let left = bytes; left > 0; left -= 64 * 1024 * 1024) {
      await handle.write(member)
      size += member.length
    }
  } finally {
    await handle.close()
  }
  return size
}

function blobEntry (bytes: Buffer): { digest: string, size: number, entry: Buffer } {
  const hex = createHash('sha256').update(bytes).digest('hex')
  return { digest: `sha256:${hex}`, size: bytes.length, entry: fileEntry(`blobs/sha256/${hex}`, bytes) }
}

/**
 * A valid one-layer OCI image reached through nested indexes that list
 * each other `fanout` times: index.json → X, X lists Y `fanout` times,
 * Y lists the image manifest `fanout` times (fanout² paths to one image).
 */
export function * nestedIndexLayout (fanout: number): Generator<Buffer> {
  yield fileEntry('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  const layer = blobEntry(Buffer.concat([fileEntry('hello.txt', 'hello\n'), END]))
  const config = blobEntry(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] }
  })))
  const manifest = blobEntry(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }]
  })))
  const index = (mediaType: string, digest: string, size: number): ReturnType<typeof blobEntry> => blobEntry(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: Array.from({ length: fanout }, () => ({ mediaType, digest, size }))
  })))
  const y = index('application/vnd.oci.image.manifest.v1+json', manifest.digest, manifest.size)
  const x = index('application/vnd.oci.image.index.v1+json', y.digest, y.size)
  yield fileEntry('index.json', JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: x.digest, size: x.size }]
  }))
  for (const blob of [layer, config, manifest, y, x]) yield blob.entry
}
