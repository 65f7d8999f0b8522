import { constants } from 'node:fs'
import { lstat, mkdir, open } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { exporter } from 'ipfs-unixfs-exporter'
import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../blocks/types.js'
import { throwIfAborted, TreeError } from '../errors.js'
import { silentLogger, type OperationOptions } from '../logger.js'
import { readableStorage } from './storage.js'

export interface ExportResult {
  files: number
  directories: number
  /** File bytes written. */
  bytes: number
}

const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW

/**
 * Writes the UnixFS DAG at `cid` to disk, streaming: a directory's content goes into `outDir`
 * (created if needed); a single file is written at the path `outDir` itself.
 * Refuses entry names that could escape (`/`, `..`) and symlinks in the way.
 */
export async function exportToDirectory(cid: CID, outDir: string, source: BlockSource, options?: OperationOptions): Promise<ExportResult> {
  const signal = options?.signal
  const logger = options?.logger ?? silentLogger
  const storage = readableStorage(source)
  const result: ExportResult = { files: 0, directories: 0, bytes: 0 }

  async function write(cid: CID, path: string): Promise<void> {
    throwIfAborted(signal)
    const entry = await exporter(cid, storage, { signal })
    if (entry.type === 'directory') {
      await makeDirectory(path)
      result.directories++
      for await (const child of entry.entries({ signal })) {
        if (!isSafeName(child.name)) throw new TreeError(`refusing unsafe entry name '${child.name}' in ${cid}`)
        await write(child.cid, join(path, child.name))
      }
      return
    }
    const isFile = entry.type === 'raw' || entry.type === 'identity' || (entry.type === 'file' && (entry.unixfs.type === 'file' || entry.unixfs.type === 'raw'))
    if (!isFile) throw new TreeError(`refusing to export ${cid} at ${path}: unsupported entry type ${entry.type === 'file' ? entry.unixfs.type : entry.type}`)
    const file = await open(path, FILE_FLAGS, 0o644)
    await pipeline(entry.content({ signal }), file.createWriteStream(), { signal })
    result.files++
    result.bytes += Number(entry.size)
    logger.debug(`wrote ${path} (${entry.size} bytes)`)
  }

  await write(cid, outDir)
  return result
}

function isSafeName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\\') && !name.includes('\0')
}

async function makeDirectory(path: string): Promise<void> {
  try {
    const stat = await lstat(path)
    if (!stat.isDirectory()) throw new TreeError(`cannot create directory ${path}: something else is in the way`)
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw err
    await mkdir(path, { recursive: true })
  }
}
