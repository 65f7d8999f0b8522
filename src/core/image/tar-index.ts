import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { posix } from 'node:path'
import { throwIfAborted } from '../errors.js'
import type { AbortOptions } from '../logger.js'

/** A regular file inside a tar file: where its bytes start and how many there are. */
export interface TarFileEntry {
  offset: number
  size: number
}

/** A symlink or hardlink; `target` is normalised and relative to the archive root. */
export interface TarLinkEntry {
  kind: 'symlink' | 'hardlink'
  target: string
}

export interface TarIndex {
  files: Map<string, TarFileEntry>
  links: Map<string, TarLinkEntry>
}

/** Thrown for malformed tar data; the caller adds the input's name. */
export class TarError extends Error {
  readonly notTar: boolean
  constructor (message: string, notTar = false) {
    super(message)
    this.notTar = notTar
  }
}

const BLOCK = 512
const MAX_META = 1024 * 1024

/**
 * Indexes an uncompressed tar file in one pass over its headers: file
 * contents are skipped by offset, never read. Paths are normalised and
 * checked (no absolute paths, no `..`); later duplicates win.
 */
export async function indexTar (path: string, options: AbortOptions = {}): Promise<TarIndex> {
  const handle = await open(path, 'r')
  try {
    return await indexHandle(handle, (await handle.stat()).size, options)
  } finally {
    await handle.close()
  }
}

async function indexHandle (handle: FileHandle, fileSize: number, options: AbortOptions): Promise<TarIndex> {
  const files = new Map<string, TarFileEntry>()
  const links = new Map<string, TarLinkEntry>()
  const header = Buffer.alloc(BLOCK)
  let position = 0
  let count = 0
  let longName: string | undefined
  let longLink: string | undefined
  let pax: Record<string, string> = {}

  while (true) {
    if (++count % 1000 === 0) throwIfAborted(options.signal)
    if (position >= fileSize) {
      if (count === 1) throw new TarError('the file is empty', true)
      throw new TarError('truncated tar: no end-of-archive marker')
    }
    const { bytesRead } = await handle.read(header, 0, BLOCK, position)
    if (bytesRead < BLOCK) {
      throw new TarError(count === 1 ? 'too short for a tar header' : `truncated tar: partial header at byte ${position}`, count === 1)
    }
    if (isZero(header)) break
    if (!checksumOk(header)) {
      throw new TarError(count === 1 ? 'no valid tar header' : `bad tar header checksum at byte ${position}`, count === 1)
    }

    const type = String.fromCharCode(header[156] ?? 0)
    const size = readNumber(header, 124, 12)
    const dataStart = position + BLOCK
    const dataSize = isMeta(type) || pax.size == null ? size : Number(pax.size)
    if (!Number.isSafeInteger(dataSize) || dataSize < 0) throw new TarError(`bad entry size at byte ${position}`)
    if (dataStart + dataSize > fileSize) {
      throw new TarError(`truncated tar: entry at byte ${position} needs ${dataSize} bytes, file ends after ${fileSize - dataStart}`)
    }
    position = dataStart + Math.ceil(dataSize / BLOCK) * BLOCK

    if (isMeta(type)) {
      if (dataSize > MAX_META) throw new TarError(`tar metadata entry too large at byte ${dataStart - BLOCK}`)
      const data = Buffer.alloc(dataSize)
      await handle.read(data, 0, dataSize, dataStart)
      if (type === 'L') longName = cString(data)
      else if (type === 'K') longLink = cString(data)
      else if (type === 'x') pax = { ...pax, ...parsePax(data) }
      // Global pax headers ('g') hold defaults such as mtime; none matter here.
      continue
    }

    const rawName = longName ?? pax.path ?? headerName(header)
    const rawLink = longLink ?? pax.linkpath ?? cString(header.subarray(157, 257))
    longName = undefined
    longLink = undefined
    pax = {}

    const name = normalizeEntryPath(rawName)
    if (name === '') continue
    if (type === '0' || type === '\0' || type === '7') {
      files.set(name, { offset: dataStart, size: dataSize })
      links.delete(name)
    } else if (type === '2') {
      if (rawLink.startsWith('/')) throw new TarError(`symlink '${name}' points to absolute path '${rawLink}'`)
      const joined = posix.normalize(posix.join(posix.dirname(name), rawLink))
      const target = joined === '.' ? '' : joined
      if (escapes(target)) throw new TarError(`symlink '${name}' -> '${rawLink}' escapes the archive`)
      links.set(name, { kind: 'symlink', target })
      files.delete(name)
    } else if (type === '1') {
      const target = normalizeEntryPath(rawLink, 'hardlink target')
      links.set(name, { kind: 'hardlink', target })
      files.delete(name)
    } else {
      // Directories, devices, fifos and unknown types carry no file data we use.
      files.delete(name)
      links.delete(name)
    }
  }
  return { files, links }
}

function isMeta (type: string): boolean {
  return type === 'L' || type === 'K' || type === 'x' || type === 'g'
}

/** Removes `./` and repeated or trailing slashes; rejects absolute paths and `..`. */
export function normalizeEntryPath (raw: string, what = 'path'): string {
  if (raw.startsWith('/')) throw new TarError(`absolute ${what} '${raw}'`)
  const parts = raw.split('/').filter((part) => part !== '' && part !== '.')
  if (parts.includes('..')) throw new TarError(`${what} '${raw}' contains '..'`)
  return parts.join('/')
}

function escapes (normalized: string): boolean {
  return normalized === '..' || normalized.startsWith('../') || normalized.startsWith('/')
}

function isZero (block: Buffer): boolean {
  for (const byte of block) if (byte !== 0) return false
  return true
}

function checksumOk (header: Buffer): boolean {
  const stored = readNumber(header, 148, 8)
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const byte = (i >= 148 && i < 156) ? 0x20 : (header[i] ?? 0)
    unsigned += byte
    signed += byte > 127 ? byte - 256 : byte
  }
  return stored === unsigned || stored === signed
}

/** Octal ASCII, or GNU base-256 when the high bit of the first byte is set. */
function readNumber (buf: Buffer, offset: number, length: number): number {
  const field = buf.subarray(offset, offset + length)
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = (field[0] ?? 0) & 0x7f
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0)
    return value
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim()
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) return NaN
  return parseInt(text, 8)
}

function cString (buf: Buffer): string {
  const end = buf.indexOf(0)
  return buf.subarray(0, end === -1 ? buf.length : end).toString('utf8')
}

function headerName (header: Buffer): string {
  const name = cString(header.subarray(0, 100))
  // POSIX ustar keeps a path prefix; GNU tar uses those bytes for other fields.
  if (header.subarray(257, 263).toString('latin1') === 'ustar\0') {
    const prefix = cString(header.subarray(345, 500))
    if (prefix !== '') return `${prefix}/${name}`
  }
  return name
}

function parsePax (data: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let i = 0
  while (i < data.length) {
    const space = data.indexOf(0x20, i)
    if (space === -1) break
    const length = parseInt(data.subarray(i, space).toString('latin1'), 10)
    if (!Number.isSafeInteger(length) || length <= 0) throw new TarError('bad pax header record')
    const record = data.subarray(space + 1, i + length - 1).toString('utf8')
    const eq = record.indexOf('=')
    if (eq !== -1) out[record.slice(0, eq)] = record.slice(eq + 1)
    i += length
  }
  return out
}
