import { randomBytes } from 'node:crypto'
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { BlockNotFoundError, throwIfAborted } from '../errors.js'
import { registerTemporary, releaseTemporary, removeTemporary } from '../interrupt.js'
import type { AbortOptions } from '../logger.js'
import type { BlockStore, PutOptions } from './types.js'
import { verifyBlock } from './verify.js'

/**
 * The embedded local block store: one file per block, named by its CIDv1 string,
 * in a subfolder named by the next-to-last two characters (as Kubo's flatfs does).
 * Writes are atomic (temporary file + rename); reads are verified.
 */
export class FsBlockStore implements BlockStore {
  readonly dir: string
  readonly label: string
  private readonly madeDirs = new Set<string>()

  constructor(dir: string) {
    this.dir = dir
    this.label = `local store ${dir}`
  }

  /** The file that holds `cid`. */
  pathOf(cid: CID): string {
    const name = cid.toV1().toString()
    return join(this.dir, name.slice(-3, -1), name)
  }

  async put(cid: CID, bytes: Uint8Array, options?: PutOptions): Promise<void> {
    throwIfAborted(options?.signal)
    const file = this.pathOf(cid)
    if (await exists(file)) {
      options?.onWritten?.()
      return
    }
    const shard = join(file, '..')
    if (!this.madeDirs.has(shard)) {
      await mkdir(shard, { recursive: true })
      this.madeDirs.add(shard)
    }
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`
    registerTemporary(temp)
    try {
      await writeFile(temp, bytes, { signal: options?.signal })
      await rename(temp, file)
      releaseTemporary(temp)
      options?.onWritten?.()
    } catch (err) {
      await removeTemporary(temp)
      throw err
    }
  }

  async get(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    throwIfAborted(options?.signal)
    let bytes: Uint8Array
    try {
      bytes = await readFile(this.pathOf(cid), { signal: options?.signal })
    } catch (err: any) {
      if (err?.code === 'ENOENT') throw new BlockNotFoundError(`Block ${cid} not found in ${this.label}`)
      throw err
    }
    verifyBlock(cid, bytes)
    return bytes
  }

  async has(cid: CID): Promise<boolean> {
    return exists(this.pathOf(cid))
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}
