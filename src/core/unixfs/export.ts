import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { lstat, mkdir, open, readdir, rename, rmdir } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import type { BlockSource } from '../blocks/types.js'
import { throwIfAborted, TreeError } from '../errors.js'
import type { Writable } from 'node:stream'
import { BlockCache, dagPbOnly } from '../blocks/cache.js'
import { silentLogger, type Logger, type OperationOptions } from '../logger.js'
import { Progress } from '../progress.js'
import { registerTemporary, releaseTemporary, removeTemporary } from '../interrupt.js'
import { declaredFileSize, fileContent, readBlock } from './content.js'
import { directoryEntries } from './directory.js'
import { decodeUnixFS } from './hamt.js'
import { DagBudget, EXPORT_LIMITS, MAX_DIRECTORY_DEPTH, type ExportLimits, type LimitNames } from './limits.js'
import { formatSize } from '../size.js'

export interface ExportResult {
  files: number
  directories: number
  /** File bytes written. */
  bytes: number
}

export interface ExportOptions extends OperationOptions {
  /** Defaults: EXPORT_LIMITS. */
  limits?: Partial<ExportLimits>
  /** How the caller's user sets each limit (e.g. '--max-bytes'), for errors. */
  limitNames?: LimitNames<ExportLimits>
  /** Least time between progress lines (bytes written of the total) on the logger; default 5000 ms. */
  progressIntervalMs?: number
}

const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW

/** What a file or directory declares it holds: entries (itself included) and file bytes. */
interface Size { entries: number, bytes: number }

/**
 * Writes the UnixFS DAG at `cid` to disk, streaming: a directory's content goes into `outDir`
 * (which must not exist, or be an empty folder); a single file is written at the path `outDir`.
 * Bounded by `limits` (bytes, entries, block reads): first checked against the sizes the DAG
 * declares (directory listings and UnixFS file sizes, each distinct node measured once, so a
 * DAG that links one node many times is refused before anything is written), then enforced
 * while writing. Everything is written into a temporary sibling of `outDir`, renamed into place
 * at the end and removed on failure. Refuses entry names that could escape (`/`, `..`).
 */
export async function exportToDirectory(cid: CID, outDir: string, source: BlockSource, options?: ExportOptions): Promise<ExportResult> {
  await checkTarget(outDir)
  const walk = await planExport(cid, source, options)
  const temp = join(dirname(outDir), `.${basename(outDir)}.ipcr-get-${randomBytes(6).toString('hex')}`)
  const at = (path: string[]): string => join(temp, ...path)
  await mkdir(dirname(outDir), { recursive: true })
  registerTemporary(temp)
  try {
    const result = await walk({
      directory: async (path, dir) => {
        await mkdir(at(path)).catch((err) => { throw err?.code === 'EEXIST' ? new TreeError(`${dir}: duplicate entry name at ${at(path)}`) : err })
      },
      file: async (path, file, _size, content) => {
        const handle = await open(at(path), FILE_FLAGS, 0o644).catch((err) => { throw err?.code === 'EEXIST' ? new TreeError(`${file}: duplicate entry name at ${at(path)}`) : err })
        let written = 0
        try {
          for await (const chunk of content) {
            let done = 0
            while (done < chunk.length) done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten
            written += chunk.length
          }
        } finally {
          await handle.close()
        }
        walk.logger.debug(`wrote ${at(path)} (${written} bytes)`)
      }
    })
    if ((await lstat(outDir).catch(() => null))?.isDirectory() === true) await rmdir(outDir)
    await rename(temp, outDir)
    releaseTemporary(temp)
    return result
  } catch (err) {
    await removeTemporary(temp)
    throw err
  }
}

export interface TarExportOptions extends ExportOptions {
  /** Entry name of a single file (a directory's entries are named `./path`); default: its CID. */
  fileName?: string
}

/**
 * Streams the UnixFS DAG at `cid` to `out` as a POSIX (pax) tar: for a directory, its contents
 * relative to it, as `tar -C DIR -cf - .` gives (what `docker load` reads); for a single file,
 * one entry. Same limits, checks and bounded memory as exportToDirectory; nothing is written
 * before the DAG's declared sizes pass the limits. Each chunk's write is called back before the
 * next chunk is asked for, and chunks are never reused, so `out` may keep them. On failure the
 * archive has no end marker. `out` is not ended in either case.
 */
export async function exportTar(cid: CID, source: BlockSource, out: Writable, options?: TarExportOptions): Promise<ExportResult> {
  const walk = await planExport(cid, source, options)
  const write = async (bytes: Uint8Array): Promise<void> => {
    throwIfAborted(options?.signal)
    await new Promise<void>((resolve, reject) => {
      out.write(bytes, (err) => { if (err == null) resolve(); else reject(err) })
    })
  }
  const name = (path: string[]): string => path.length === 0 ? './' : `./${path.join('/')}`
  const result = await walk({
    // A stream may hold a chunk after calling back (a PassThrough's reader may keep it).
    keepsChunks: true,
    directory: async (path) => {
      await write(tarHeader(path.length === 0 ? './' : `${name(path)}/`, 'directory', 0))
    },
    file: async (path, file, size, content) => {
      await write(tarHeader(walk.isRootFile ? (options?.fileName ?? file.toString()) : name(path), 'file', size))
      for await (const chunk of content) await write(chunk)
      if (size % TAR_BLOCK !== 0) await write(new Uint8Array(TAR_BLOCK - (size % TAR_BLOCK)))
    }
  })
  await write(new Uint8Array(2 * TAR_BLOCK))
  return result
}

/** What a write pass does with each directory and file, in depth-first order; paths are from the root. */
interface ExportVisitor {
  /** The visitor keeps chunks after asking for the next one (e.g. a stream's buffer): give it its own. */
  keepsChunks?: boolean
  directory(path: string[], cid: CID): Promise<void>
  /** Must read `content` to its end; `size` is what the file declares, and `content` gives exactly that. */
  file(path: string[], cid: CID, size: number, content: AsyncIterable<Uint8Array>): Promise<void>
}

type ExportWalk = ((visitor: ExportVisitor) => Promise<ExportResult>) & { logger: Logger, isRootFile: boolean }

/**
 * Measures the DAG at `cid` against the limits (nothing written yet) and returns the write
 * pass. Both passes read through one cache of dag-pb blocks, so a directory or file node read
 * while measuring is not fetched again while writing.
 */
async function planExport(cid: CID, source: BlockSource, options?: ExportOptions): Promise<ExportWalk> {
  const signal = options?.signal
  const logger = options?.logger ?? silentLogger
  const limits: ExportLimits = { ...EXPORT_LIMITS, ...options?.limits }
  const names = { maxBytes: 'maxBytes', maxEntries: 'maxEntries', maxBlocks: 'maxBlocks', ...options?.limitNames }
  const over = (limit: keyof ExportLimits, what: string): TreeError =>
    new TreeError(`/ipfs/${cid} ${what}: over the limit ${names[limit]} (${limit === 'maxBytes' ? formatSize(limits.maxBytes) : limits[limit]})`)
  const budgetLimits = { maxBlocks: limits.maxBlocks, maxBlockBytes: Infinity, maxEntries: limits.maxEntries, maxDirectoryEntries: limits.maxEntries }
  const budgetNames = { maxBlocks: names.maxBlocks, maxEntries: names.maxEntries, maxDirectoryEntries: names.maxEntries }
  // Blocks are counted over both passes; entries listed only while measuring (writing counts what it writes).
  const blocks = new DagBudget(budgetLimits, budgetNames)
  const counted = blocks.source(new BlockCache(source, { keep: (c) => dagPbOnly(c) || c.equals(cid) }))
  const listing = new DagBudget({ ...budgetLimits, maxEntries: Infinity }, budgetNames)

  // 1. Measure what the DAG declares, each distinct node once.
  const sizes = new Map<string, Size>()
  async function measure(cid: CID, linkSize: number | undefined, path: string[]): Promise<Size> {
    throwIfAborted(signal)
    const key = cid.toString()
    const known = sizes.get(key)
    if (known != null) return known
    if (path.length > MAX_DIRECTORY_DEPTH) throw new TreeError(`/ipfs/${cid} is more than ${MAX_DIRECTORY_DEPTH} directories deep at ${path.join('/')}`)
    let size: Size
    if (cid.code === raw.code && linkSize != null) {
      size = { entries: 1, bytes: linkSize }
    } else {
      const block = await readBlock(cid, counted, { signal })
      if (isDirectory(cid, block)) {
        size = { entries: 1, bytes: 0 }
        for await (const child of directoryEntries(cid, counted, { signal, block, budget: blocks })) {
          checkName(child.name, cid)
          const inner = await measure(child.cid, child.size, [...path, child.name])
          size.entries += inner.entries
          size.bytes += inner.bytes
          if (size.entries > limits.maxEntries) throw over('maxEntries', `holds more than ${limits.maxEntries} files and directories`)
          if (size.bytes > limits.maxBytes) throw over('maxBytes', `holds more than ${formatSize(limits.maxBytes)} of files`)
        }
      } else {
        const bytes = declaredFileSize(cid, block)
        if (bytes == null) throw new TreeError(`refusing to export ${cid} at ${path.join('/') || '.'}: ${describe(cid, block)} is not a file or directory`)
        size = { entries: 1, bytes }
      }
    }
    if (size.bytes > limits.maxBytes) throw over('maxBytes', `holds more than ${formatSize(limits.maxBytes)} of files`)
    sizes.set(key, size)
    return size
  }
  const total = await measure(cid, undefined, [])
  sizes.clear()
  logger.debug(`/ipfs/${cid}: ${total.entries} entries, ${total.bytes} bytes`)
  const isRootFile = !isDirectory(cid, await readBlock(cid, counted, { signal }))

  // 2. Visit every node, counting what is written.
  const walk = async (visitor: ExportVisitor): Promise<ExportResult> => {
    const result: ExportResult = { files: 0, directories: 0, bytes: 0 }
    const progress = new Progress(logger, `/ipfs/${cid}: written`, total.bytes, options?.progressIntervalMs)
    let entries = 0
    async function visit(cid: CID, path: string[]): Promise<void> {
      throwIfAborted(signal)
      if (++entries > limits.maxEntries) throw over('maxEntries', `holds more than ${limits.maxEntries} files and directories`)
      const block = await readBlock(cid, counted, { signal })
      if (isDirectory(cid, block)) {
        await visitor.directory(path, cid)
        result.directories++
        const seen = new Set<string>()
        for await (const child of directoryEntries(cid, counted, { signal, block, budget: listing })) {
          checkName(child.name, cid)
          if (seen.has(child.name)) throw new TreeError(`${cid}: duplicate entry name ${child.name}`)
          seen.add(child.name)
          await visit(child.cid, [...path, child.name])
        }
        return
      }
      const declared = declaredFileSize(cid, block)
      if (declared == null) throw new TreeError(`refusing to export ${cid} at ${path.join('/') || '.'}: ${describe(cid, block)} is not a file or directory`)
      if (result.bytes + declared > limits.maxBytes) throw over('maxBytes', `holds more than ${formatSize(limits.maxBytes)} of files`)
      let written = 0
      async function * content(): AsyncGenerator<Uint8Array> {
        for await (const chunk of fileContent(cid, counted, { signal, block, reuseChunks: visitor.keepsChunks !== true })) {
          written += chunk.length
          if (result.bytes + written > limits.maxBytes) throw over('maxBytes', `holds more than ${formatSize(limits.maxBytes)} of files`)
          yield chunk
          progress.add(chunk.length)
        }
      }
      await visitor.file(path, cid, declared, content())
      if (written !== declared) throw new TreeError(`${cid} at ${path.join('/') || '.'}: ${written} bytes written where the file declares ${declared}`)
      result.files++
      result.bytes += written
    }
    await visit(cid, [])
    progress.finish()
    return result
  }
  return Object.assign(walk, { logger, isRootFile })
}

/** The block is a UnixFS directory (basic or HAMT); false for a file or a raw leaf. */
export function isDirectory(cid: CID, block: Uint8Array): boolean {
  if (cid.code !== dagPb.code) return false
  const type = decodeUnixFS(cid, block).unixfs.type
  return type === 'directory' || type === 'hamt-sharded-directory'
}

function describe(cid: CID, block: Uint8Array): string {
  if (cid.code !== dagPb.code) return `codec 0x${cid.code.toString(16)}`
  return `UnixFS ${decodeUnixFS(cid, block).unixfs.type}`
}

function checkName(name: string, parent: CID): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.includes('\0')) {
    throw new TreeError(`refusing unsafe entry name '${name}' in ${parent}`)
  }
}

/** TreeError unless `path` is absent or an empty folder (not a symlink to one). */
async function checkTarget(path: string): Promise<void> {
  const stat = await lstat(path).catch((err) => { if (err?.code === 'ENOENT') return null; throw err })
  if (stat == null) return
  if (!stat.isDirectory() || (await readdir(path)).length > 0) throw new TreeError(`cannot write to ${path}: something is in the way (expected nothing or an empty folder)`)
}

const TAR_BLOCK = 512
const encoder = new TextEncoder()
/** The largest size an ustar header's 11 octal digits hold; larger files get a pax size record. */
const USTAR_MAX_SIZE = 8 ** 11 - 1

/**
 * A ustar header for `name` (preceded by a pax extended header when the name is over 100
 * bytes or the size over 8 GiB). Owner root, mtime 0, mode 0644 (files) or 0755 (directories).
 */
function tarHeader(name: string, type: 'file' | 'directory', size: number): Uint8Array {
  const nameBytes = encoder.encode(name)
  const pax: string[] = []
  if (nameBytes.length > 100) pax.push(paxRecord('path', name))
  if (size > USTAR_MAX_SIZE) pax.push(paxRecord('size', String(size)))
  const header = ustar(nameBytes.length > 100 ? nameBytes.subarray(0, 100) : nameBytes, type === 'file' ? '0' : '5', type === 'file' ? 0o644 : 0o755, size > USTAR_MAX_SIZE ? 0 : size)
  if (pax.length === 0) return header
  const records = encoder.encode(pax.join(''))
  const padded = new Uint8Array(Math.ceil(records.length / TAR_BLOCK) * TAR_BLOCK)
  padded.set(records)
  return Buffer.concat([ustar(encoder.encode('././@PaxHeader'), 'x', 0o644, records.length), padded, header])
}

/** `LEN key=value\n`, where LEN counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`
  const bodyLength = encoder.encode(body).length
  let length = bodyLength + 1
  while (String(length).length + bodyLength !== length) length = String(length).length + bodyLength
  return `${length}${body}`
}

function ustar(name: Uint8Array, type: string, mode: number, size: number): Uint8Array {
  const header = new Uint8Array(TAR_BLOCK)
  const field = (offset: number, length: number, text: string): void => { header.set(encoder.encode(text).subarray(0, length), offset) }
  const octal = (offset: number, length: number, value: number): void => { field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`) }
  header.set(name, 0)
  octal(100, 8, mode)
  octal(108, 8, 0)
  octal(116, 8, 0)
  octal(124, 12, size)
  octal(136, 12, 0)
  field(148, 8, '        ')
  field(156, 1, type)
  field(257, 6, 'ustar\0')
  field(263, 2, '00')
  field(265, 32, 'root')
  field(297, 32, 'root')
  octal(329, 8, 0)
  octal(337, 8, 0)
  const sum = header.reduce((total, byte) => total + byte, 0)
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `)
  return header
}
