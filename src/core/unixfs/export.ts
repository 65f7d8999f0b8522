import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { lstat, mkdir, open, readdir, rename, rmdir } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import type { BlockSource } from '../blocks/types.js'
import { throwIfAborted, TreeError } from '../errors.js'
import { silentLogger, type OperationOptions } from '../logger.js'
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
  const counted = blocks.source(source)
  const listing = new DagBudget({ ...budgetLimits, maxEntries: Infinity }, budgetNames)

  await checkTarget(outDir)

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

  // 2. Write into a temporary sibling, counting what is written.
  const result: ExportResult = { files: 0, directories: 0, bytes: 0 }
  let entries = 0
  const temp = join(dirname(outDir), `.${basename(outDir)}.ipcr-get-${randomBytes(6).toString('hex')}`)

  async function write(cid: CID, path: string): Promise<void> {
    throwIfAborted(signal)
    if (++entries > limits.maxEntries) throw over('maxEntries', `holds more than ${limits.maxEntries} files and directories`)
    const block = await readBlock(cid, counted, { signal })
    if (isDirectory(cid, block)) {
      await mkdir(path).catch((err) => { throw err?.code === 'EEXIST' ? new TreeError(`${cid}: duplicate entry name at ${path}`) : err })
      result.directories++
      for await (const child of directoryEntries(cid, counted, { signal, block, budget: listing })) {
        checkName(child.name, cid)
        await write(child.cid, join(path, child.name))
      }
      return
    }
    const declared = declaredFileSize(cid, block)
    if (declared == null) throw new TreeError(`refusing to export ${cid} at ${path}: ${describe(cid, block)} is not a file or directory`)
    if (result.bytes + declared > limits.maxBytes) throw over('maxBytes', `holds more than ${formatSize(limits.maxBytes)} of files`)
    const file = await open(path, FILE_FLAGS, 0o644).catch((err) => { throw err?.code === 'EEXIST' ? new TreeError(`${cid}: duplicate entry name at ${path}`) : err })
    let written = 0
    try {
      for await (const chunk of fileContent(cid, counted, { signal, block, reuseChunks: true })) {
        written += chunk.length
        if (result.bytes + written > limits.maxBytes) throw over('maxBytes', `holds more than ${formatSize(limits.maxBytes)} of files`)
        let done = 0
        while (done < chunk.length) done += (await file.write(chunk, done, chunk.length - done)).bytesWritten
      }
    } finally {
      await file.close()
    }
    result.files++
    result.bytes += written
    logger.debug(`wrote ${path} (${written} bytes)`)
  }

  await mkdir(dirname(outDir), { recursive: true })
  registerTemporary(temp)
  try {
    await write(cid, temp)
    if ((await lstat(outDir).catch(() => null))?.isDirectory() === true) await rmdir(outDir)
    await rename(temp, outDir)
    releaseTemporary(temp)
  } catch (err) {
    await removeTemporary(temp)
    throw err
  }
  return result
}

function isDirectory(cid: CID, block: Uint8Array): boolean {
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
