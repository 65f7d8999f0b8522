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
/**
 * Reads of the tar go through a window: one syscall per window, not per
 * header. It starts at 64 KiB and doubles, up to 1 MiB, while headers
 * follow closely (many small entries); a long jump (past a blob) resets it.
 */
const WINDOW = 64 * 1024
const MAX_WINDOW = 1024 * 1024

/** Bounds on what an archive's headers may make the indexer keep or do. */
export const TAR_LIMITS = {
  /** Metadata headers (pax, GNU long names) in a row before an entry. */
  metaHeaders: 16,
  /** Their bytes in total, per entry. */
  metaBytes: 1024 * 1024,
  /** Files and links kept. An image archive holds a few per blob. */
  entries: 100_000,
  /** Bytes of one path or link target (Linux PATH_MAX). */
  pathBytes: 4096
} as const

/** The pax keys the index uses; every other key is skipped without being kept. */
const PAX_KEYS = ['path', 'linkpath', 'size'] as const
type PaxKey = typeof PAX_KEYS[number]

/**
 * Indexes an uncompressed tar file in one pass over its headers: file
 * contents are skipped by offset, never read. Paths are normalised and
 * checked (no absolute paths, no `..`); later duplicates win.
 */
export async function indexTar (path: string, options: AbortOptions = {}): Promise<TarIndex> {
  const handle = await open(path, 'r')
  try {
    return await indexHandle(new WindowReader(handle, (await handle.stat()).size), options)
  } finally {
    await handle.close()
  }
}

/** Byte ranges of a file, served from a window read ahead in one call. */
class WindowReader {
  private buffer = Buffer.allocUnsafe(WINDOW)
  private window = Buffer.alloc(0)
  private start = 0
  private next = WINDOW

  constructor (private readonly handle: FileHandle, readonly size: number) {}

  /** `length` bytes at `position`, or fewer at the end of the file; valid until the next call. */
  async read (position: number, length: number): Promise<Buffer> {
    const end = this.start + this.window.length
    if (position >= this.start && position + length <= end) {
      return this.window.subarray(position - this.start, position - this.start + length)
    }
    const close = position >= end && position - end < this.window.length
    this.next = close ? Math.min(2 * this.next, MAX_WINDOW) : WINDOW
    const size = Math.max(this.next, length)
    if (size > this.buffer.length) this.buffer = Buffer.allocUnsafe(size)
    const buffer = this.buffer
    const wanted = Math.min(size, this.size - position)
    let filled = 0
    while (filled < wanted) {
      const { bytesRead } = await this.handle.read(buffer, filled, wanted - filled, position + filled)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    this.window = buffer.subarray(0, filled)
    this.start = position
    return this.window.subarray(0, Math.min(length, filled))
  }
}

async function indexHandle (reader: WindowReader, options: AbortOptions): Promise<TarIndex> {
  const fileSize = reader.size
  const files = new Map<string, TarFileEntry>()
  const links = new Map<string, TarLinkEntry>()
  let position = 0
  let count = 0
  let longName: string | undefined
  let longLink: string | undefined
  let pax: Partial<Record<PaxKey, string>> = {}
  let metaHeaders = 0
  let metaBytes = 0

  while (true) {
    if (++count % 1000 === 0) throwIfAborted(options.signal)
    if (position >= fileSize) {
      if (count === 1) throw new TarError('the file is empty', true)
      throw new TarError('truncated tar: no end-of-archive marker')
    }
    const header = await reader.read(position, BLOCK)
    if (header.length < BLOCK) {
      throw new TarError(count === 1 ? 'too short for a tar header' : `truncated tar: partial header at byte ${position}`, count === 1)
    }
    if (isZero(header)) break
    if (!checksumOk(header)) {
      throw new TarError(count === 1 ? 'no valid tar header' : `bad tar header checksum at byte ${position}`, count === 1)
    }

    const type = String.fromCharCode(header[156] ?? 0)
    const size = readNumber(header, 124, 12)
    const headerAt = position
    const dataStart = position + BLOCK
    const dataSize = isMeta(type) || pax.size == null ? size : Number(pax.size)
    if (!Number.isSafeInteger(dataSize) || dataSize < 0) throw new TarError(`bad entry size at byte ${position}`)
    if (dataStart + dataSize > fileSize) {
      throw new TarError(`truncated tar: entry at byte ${position} needs ${dataSize} bytes, file ends after ${fileSize - dataStart}`)
    }
    position = dataStart + Math.ceil(dataSize / BLOCK) * BLOCK

    if (isMeta(type)) {
      metaHeaders++
      metaBytes += dataSize
      if (metaHeaders > TAR_LIMITS.metaHeaders) {
        throw new TarError(`more than ${TAR_LIMITS.metaHeaders} metadata headers (pax or GNU long names) in a row at byte ${headerAt}`)
      }
      if (metaBytes > TAR_LIMITS.metaBytes) {
        throw new TarError(`metadata headers (pax or GNU long names) of more than ${TAR_LIMITS.metaBytes} bytes in a row at byte ${headerAt}`)
      }
      // Global pax headers ('g') hold defaults such as mtime; none matter here.
      if (type === 'g') continue
      const data = await reader.read(dataStart, dataSize)
      if (type === 'L') longName = cString(data)
      else if (type === 'K') longLink = cString(data)
      else parsePax(data, pax)
      continue
    }

    const rawName = longName ?? pax.path ?? headerName(header)
    const rawLink = longLink ?? pax.linkpath ?? cString(header.subarray(157, 257))
    longName = undefined
    longLink = undefined
    pax = {}
    metaHeaders = 0
    metaBytes = 0

    checkPathLength(rawName, 'name', headerAt)
    const name = normalizeEntryPath(rawName)
    if (name === '') continue
    if (type === '0' || type === '\0' || type === '7') {
      files.set(name, { offset: dataStart, size: dataSize })
      links.delete(name)
    } else if (type === '2') {
      checkPathLength(rawLink, 'link target', headerAt)
      if (rawLink.startsWith('/')) throw new TarError(`symlink '${name}' points to absolute path '${rawLink}'`)
      const target = linkTarget(name, rawLink)
      if (escapes(target)) throw new TarError(`symlink '${name}' -> '${rawLink}' escapes the archive`)
      links.set(name, { kind: 'symlink', target })
      files.delete(name)
    } else if (type === '1') {
      checkPathLength(rawLink, 'link target', headerAt)
      const target = normalizeEntryPath(rawLink, 'hardlink target')
      links.set(name, { kind: 'hardlink', target })
      files.delete(name)
    } else {
      // Directories, devices, fifos and unknown types carry no file data we use.
      files.delete(name)
      links.delete(name)
    }
    if (files.size + links.size > TAR_LIMITS.entries) {
      throw new TarError(`more than ${TAR_LIMITS.entries} files and links; an image archive holds a few per blob`)
    }
  }
  return { files, links }
}

function checkPathLength (raw: string, what: string, at: number): void {
  // UTF-16 length ≤ UTF-8 length, so the cheap test first.
  if (raw.length > TAR_LIMITS.pathBytes || Buffer.byteLength(raw) > TAR_LIMITS.pathBytes) {
    throw new TarError(`entry ${what} at byte ${at} is longer than ${TAR_LIMITS.pathBytes} bytes`)
  }
}

/** True when `block` (512 bytes) is a tar header: not zero, checksum right. */
export function isTarHeader (block: Buffer): boolean {
  return block.length === BLOCK && !isZero(block) && checksumOk(block)
}

function isMeta (type: string): boolean {
  return type === 'L' || type === 'K' || type === 'x' || type === 'g'
}

/** A leading, repeated or trailing slash, or a `.` or `..` component. */
const UNCLEAN = /^\/|\/\/|(?:^|\/)\.\.?(?:\/|$)|\/$/

/** Removes `./` and repeated or trailing slashes; rejects absolute paths and `..`. */
export function normalizeEntryPath (raw: string, what = 'path'): string {
  if (!UNCLEAN.test(raw)) return raw
  if (raw.startsWith('/')) throw new TarError(`absolute ${what} '${raw}'`)
  const parts = raw.split('/').filter((part) => part !== '' && part !== '.')
  if (parts.includes('..')) throw new TarError(`${what} '${raw}' contains '..'`)
  return parts.join('/')
}

/** A symlink's target relative to the archive root (`name` is normalised). */
function linkTarget (name: string, rawLink: string): string {
  const slash = name.lastIndexOf('/')
  if (!UNCLEAN.test(rawLink) && rawLink !== '') return slash === -1 ? rawLink : `${name.slice(0, slash)}/${rawLink}`
  const joined = posix.normalize(posix.join(posix.dirname(name), rawLink))
  return joined === '.' ? '' : joined
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

const PAX_KEY_BYTES = PAX_KEYS.map((key) => [key, Buffer.from(`${key}=`, 'latin1')] as const)

/** Reads the pax records of `data` into `into`, keeping only the keys the index uses (no copy of the others). */
function parsePax (data: Buffer, into: Partial<Record<PaxKey, string>>): void {
  const n = data.length
  let i = 0
  while (i < n) {
    let length = 0
    let j = i
    while (j < n && j - i < 16 && (data[j] as number) >= 0x30 && (data[j] as number) <= 0x39) length = length * 10 + (data[j++] as number) - 0x30
    if (j === i || data[j] !== 0x20 || length <= j - i + 1) {
      if (data.indexOf(0x20, i) === -1) break // trailing padding
      throw new TarError('bad pax header record')
    }
    const end = Math.min(i + length - 1, n)
    for (const [key, bytes] of PAX_KEY_BYTES) {
      if (startsWithBytes(data, j + 1, bytes)) {
        into[key] = data.toString('utf8', j + 1 + bytes.length, end)
        break
      }
    }
    i += length
  }
}

function startsWithBytes (data: Buffer, at: number, bytes: Buffer): boolean {
  if (at + bytes.length > data.length) return false
  for (let k = 0; k < bytes.length; k++) if (data[at + k] !== bytes[k]) return false
  return true
}
