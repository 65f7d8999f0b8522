import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, open, readdir, realpath, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { BufferPool } from '../buffer-pool.js'
import { InputError, option, text, throwIfAborted } from '../errors.js'
import { registerTemporary, removeTemporary } from '../interrupt.js'
import { checkJsonShape } from '../json.js'
import type { AbortOptions } from '../logger.js'
import { formatBytes } from '../progress.js'
import { createDecompressor, DecompressionLimit, DecompressionLimitError, detectCompression, MAGIC_BYTES, NotTarError } from './compression.js'
import { formatError } from './image-errors.js'
import { DECOMPRESSION_FLOOR, DECOMPRESSION_RATIO, defaultDecompressedLimit, IMAGE_LIMITS } from './limits.js'
import { indexTar, isTarHeader, normalizeEntryPath, TarError } from './tar-index.js'
import type { TarIndex } from './tar-index.js'
import { LinkResolver } from './tar-links.js'

/** Reads in the UnixFS chunk size: fewer syscalls, and the chunker need not join reads. */
const READ_CHUNK = 1024 * 1024

/** Read access to the files of an image tarball or image layout directory. */
export interface ImageArchive {
  /** Names the archive in errors, e.g. its file path. */
  readonly label: string
  /** Relative POSIX paths of regular files, links resolved; sorted. */
  list(): string[]
  has(path: string): boolean
  size(path: string): number
  /** Streams one file's bytes. */
  open(path: string): Readable
  /**
   * One file's bytes in chunks of the pool's size (the last may be shorter),
   * read into buffers taken from the pool: the caller gives them back.
   */
  chunks(path: string, options: ChunkOptions): AsyncGenerator<Uint8Array>
  /** Parses a small JSON file (default cap 16 MiB). */
  readJson(path: string, maxBytes?: number): Promise<unknown>
  /** Removes any temporary files the archive made. */
  close(): Promise<void>
}

export interface OpenArchiveOptions extends AbortOptions {
  /** The user-facing name of the input, for errors. */
  input: string
  /** Where a compressed tarball is decompressed to. */
  tempDir: string
  /** Bytes a compressed tarball may decompress to; default: defaultDecompressedLimit of its size. */
  maxDecompressedSize?: number
}

export interface ChunkOptions extends AbortOptions {
  pool: BufferPool
}

export const DEFAULT_JSON_LIMIT = 16 * 1024 * 1024

/**
 * Opens an image archive by its content: a directory, a tar file, or a
 * gzip/zstd-compressed tar file (decompressed to a file under tempDir).
 */
export async function openImageArchive (path: string, options: OpenArchiveOptions): Promise<ImageArchive> {
  const { input } = options
  throwIfAborted(options.signal)
  let stats
  try {
    stats = await stat(path)
  } catch (err: any) {
    throw new InputError(input, `cannot read '${path}': ${err.code ?? err.message}`, { cause: err })
  }
  if (stats.isDirectory()) return await openDirectory(path, input, options)
  if (!stats.isFile()) throw new InputError(input, `'${path}' is neither a file nor a directory`)

  const compression = detectCompression(await readHead(path))
  if (compression === 'none') return await openTar(path, path, input, undefined, options)
  if (compression === 'xz' || compression === 'bzip2') {
    throw new InputError(input, `'${path}' is ${compression}-compressed; only uncompressed, gzip or zstd tarballs are supported`)
  }

  const decompressor = createDecompressor(compression)
  if (decompressor == null) {
    throw new InputError(input, `'${path}' is zstd-compressed, which Node.js ${process.versions.node} cannot decompress; decompress it first (zstd -d)`)
  }
  const limit = options.maxDecompressedSize ?? defaultDecompressedLimit(stats.size)
  const dir = await mkdtemp(join(options.tempDir, 'ipcr-archive-'))
  registerTemporary(dir)
  const tarPath = join(dir, 'image.tar')
  try {
    await pipeline(createReadStream(path), decompressor, new DecompressionLimit(limit, isTarHeader), createWriteStream(tarPath), { signal: options.signal })
  } catch (err: any) {
    await removeTemporary(dir)
    throwIfAborted(options.signal)
    if (err instanceof DecompressionLimitError) {
      const how = options.maxDecompressedSize != null ? 'the limit set' : `the default limit, ${DECOMPRESSION_RATIO} times its compressed size and at least ${formatBytes(DECOMPRESSION_FLOOR)}`
      throw new InputError(input, text`'${path}' ${compression}-decompresses to more than ${formatBytes(limit)} (${how}); if the image is genuine, raise ${option('max-decompressed-size')}`)
    }
    if (err instanceof NotTarError) {
      throw new InputError(input, `'${path}' is ${compression}-compressed but ${err.message}; expected a tar archive of an image`)
    }
    throw new InputError(input, `cannot ${compression}-decompress '${path}': ${err.message}`, { cause: err })
  }
  return await openTar(path, tarPath, input, dir, options)
}

/** Reads a whole small file from an archive, refusing more than maxBytes. */
export async function readBytes (archive: ImageArchive, path: string, maxBytes: number, input: string): Promise<Uint8Array> {
  const size = archive.size(path)
  if (size > maxBytes) {
    throw formatError(input, `'${path}' in ${archive.label} is ${size} bytes, more than the ${maxBytes} allowed for metadata`)
  }
  const chunks: Buffer[] = []
  for await (const chunk of archive.open(path)) chunks.push(Buffer.from(chunk as Uint8Array))
  return new Uint8Array(Buffer.concat(chunks))
}

/** Parses JSON bytes, naming the file on failure. */
export function parseJson (bytes: Uint8Array, path: string, label: string, input: string): unknown {
  const wrong = checkJsonShape(bytes, { depth: IMAGE_LIMITS.jsonDepth, values: IMAGE_LIMITS.jsonValues })
  if (wrong != null) throw formatError(input, `'${path}' in ${label} ${wrong}`)
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (err: any) {
    throw formatError(input, `'${path}' in ${label} is not valid JSON: ${err.message}`, { cause: err })
  }
}

async function readHead (path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r')
  try {
    const head = Buffer.alloc(MAGIC_BYTES)
    const { bytesRead } = await handle.read(head, 0, MAGIC_BYTES, 0)
    return head.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

/** Where a file's bytes are: a byte range of a file on disk. */
interface Located {
  size: number
  file: string
  offset: number
}

/**
 * Reads a byte range into pooled buffers, a full one per chunk but the last,
 * which gets a buffer of its own size (so it, too, can move between threads whole).
 */
async function * readChunks (located: Located, options: ChunkOptions): AsyncGenerator<Uint8Array> {
  const { pool, signal } = options
  if (located.size === 0) return
  const handle = await open(located.file, 'r')
  try {
    let position = located.offset
    let left = located.size
    while (left > 0) {
      throwIfAborted(signal)
      const buffer = left >= pool.size ? pool.take() : new Uint8Array(left)
      const length = buffer.byteLength
      let filled = 0
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled)
        if (bytesRead === 0) {
          // The file shrank under us: hand over what there is; the digest check names the input.
          if (filled > 0) yield buffer.subarray(0, filled)
          return
        }
        filled += bytesRead
      }
      position += length
      left -= length
      yield buffer
    }
  } finally {
    await handle.close()
  }
}

/** list/has/size/readJson on top of a path lookup. */
abstract class BaseArchive implements ImageArchive {
  constructor (readonly label: string, protected readonly input: string) {}

  abstract list (): string[]
  protected abstract locate (path: string): Located | undefined

  has (path: string): boolean {
    return this.lookup(path) !== undefined
  }

  size (path: string): number {
    return this.get(path).size
  }

  open (path: string): Readable {
    const { size, file, offset } = this.get(path)
    if (size === 0) return Readable.from([])
    return createReadStream(file, { start: offset, end: offset + size - 1, highWaterMark: READ_CHUNK })
  }

  chunks (path: string, options: ChunkOptions): AsyncGenerator<Uint8Array> {
    return readChunks(this.get(path), options)
  }

  async readJson (path: string, maxBytes = DEFAULT_JSON_LIMIT): Promise<unknown> {
    return parseJson(await readBytes(this, path, maxBytes, this.input), path, this.label, this.input)
  }

  async close (): Promise<void> {}

  private lookup (path: string): Located | undefined {
    let normalized: string
    try {
      normalized = normalizeEntryPath(path)
    } catch {
      return undefined
    }
    return this.locate(normalized)
  }

  private get (path: string): Located {
    const found = this.lookup(path)
    if (found == null) throw formatError(this.input, `'${path}' is missing from ${this.label}`)
    return found
  }
}

class TarArchive extends BaseArchive {
  private readonly names: string[]
  private readonly resolver: LinkResolver

  constructor (label: string, input: string, private readonly tarPath: string, private readonly index: TarIndex, private readonly tempDir?: string) {
    super(label, input)
    this.resolver = new LinkResolver(index)
    this.names = [...index.files.keys(), ...this.resolver.resolvedLinks()].sort()
  }

  list (): string[] {
    return [...this.names]
  }

  protected locate (path: string): Located | undefined {
    const resolved = this.resolver.resolve(path)
    const entry = resolved === undefined ? undefined : this.index.files.get(resolved)
    if (entry == null) return undefined
    return { size: entry.size, file: this.tarPath, offset: entry.offset }
  }

  override async close (): Promise<void> {
    if (this.tempDir != null) await removeTemporary(this.tempDir)
  }
}

async function openTar (label: string, tarPath: string, input: string, tempDir: string | undefined, options: AbortOptions): Promise<ImageArchive> {
  try {
    const index = await indexTar(tarPath, options)
    return new TarArchive(label, input, tarPath, index, tempDir)
  } catch (err: any) {
    if (tempDir != null) await removeTemporary(tempDir)
    if (err instanceof TarError) {
      if (err.notTar) throw new InputError(input, `'${label}' is not a tar archive, a gzip or zstd tarball, or a directory: ${err.message}`)
      throw formatError(input, `${label}: ${err.message}`, { cause: err })
    }
    throw err
  }
}

interface DirFile {
  fullPath: string
  size: number
}

class DirectoryArchive extends BaseArchive {
  constructor (label: string, input: string, private readonly files: Map<string, DirFile>) {
    super(label, input)
  }

  list (): string[] {
    return [...this.files.keys()].sort()
  }

  protected locate (path: string): Located | undefined {
    const file = this.files.get(path)
    if (file == null) return undefined
    return { size: file.size, file: file.fullPath, offset: 0 }
  }
}

async function openDirectory (path: string, input: string, options: AbortOptions): Promise<ImageArchive> {
  const root = await realpath(path)
  const files = new Map<string, DirFile>()
  const walk = async (dir: string, prefix: string): Promise<void> => {
    throwIfAborted(options.signal)
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`
      const fullPath = join(dir, entry.name)
      if (entry.isDirectory()) {
        await walk(fullPath, name)
      } else if (entry.isFile()) {
        files.set(name, { fullPath, size: (await stat(fullPath)).size })
      } else if (entry.isSymbolicLink()) {
        let target: string
        try {
          target = await realpath(fullPath)
        } catch {
          continue // dangling link
        }
        const rel = relative(root, target)
        if (rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith(sep)) {
          throw formatError(input, `${path}: symlink '${name}' escapes the directory`)
        }
        const targetStats = await stat(target)
        // Links to folders are not followed: no loops.
        if (targetStats.isFile()) files.set(name, { fullPath: target, size: targetStats.size })
      }
    }
  }
  await walk(root, '')
  return new DirectoryArchive(path, input, files)
}
