import { Worker } from 'node:worker_threads'
import { throwIfAborted } from './errors.js'

// Runs as CommonJS in the worker, so it needs no file of its own in dist/.
// Per chunk of a blob: feed the blob's running sha256 and answer with the chunk's own sha256.
const workerSource = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const blobs = new Map()
parentPort.on('message', (m) => {
  let blob = blobs.get(m.id)
  if (blob == null) { blob = createHash('sha256'); blobs.set(m.id, blob) }
  if (m.chunk != null) {
    blob.update(m.chunk)
    const leaf = createHash('sha256').update(m.chunk).digest()
    // A transferred chunk goes back the same way: no copy in either direction.
    parentPort.postMessage({ id: m.id, leaf, chunk: m.transferred ? m.chunk : undefined }, m.transferred ? [m.chunk.buffer] : [])
    return
  }
  blobs.delete(m.id)
  if (m.digest === true) parentPort.postMessage({ id: m.id, hex: blob.digest('hex') })
})`

interface Reply { id: number, leaf?: Uint8Array, chunk?: Uint8Array, hex?: string, error?: string }

export interface HashedChunk {
  /** sha256 of the chunk. */
  digest: Uint8Array
  /** The chunk's bytes: the same object, or the same memory moved back from the worker. */
  bytes: Uint8Array
}

let worker: Worker | undefined
let nextId = 0
let open = 0
const sessions = new Map<number, (reply: Reply) => void>()

function getWorker (): Worker {
  if (worker == null) {
    const w = new Worker(workerSource, { eval: true })
    w.unref()
    w.on('message', (m: Reply) => sessions.get(m.id)?.(m))
    w.on('error', (err) => {
      worker = undefined
      for (const [id, handler] of sessions) handler({ id, error: err.message })
    })
    worker = w
  }
  return worker
}

/**
 * Hashes one blob on a worker thread, in one pass: each 1 MiB leaf's sha256
 * (its CID) and the whole blob's sha256 (its digest). The main thread only
 * moves bytes; each chunk crosses to the worker once.
 */
export class BlobHasher {
  private readonly id = nextId++
  private readonly worker = getWorker()
  private readonly leaves: Array<{ resolve: (reply: Reply) => void, reject: (err: Error) => void }> = []
  private result: { resolve: (hex: string) => void, reject: (err: Error) => void } | undefined
  private closed = false
  private readonly onAbort = (): void => { this.fail(this.signal?.reason) }

  /**
   * `moveChunks`: the caller keeps no reference to the chunks, so whole-buffer chunks may be moved, not copied.
   * `signal`: aborting it fails the pending hashes at once; the worker is stopped when no other blob uses it.
   */
  constructor (private readonly moveChunks = false, private readonly signal?: AbortSignal) {
    throwIfAborted(signal)
    if (open++ === 0) this.worker.ref()
    signal?.addEventListener('abort', this.onAbort, { once: true })
    sessions.set(this.id, (reply) => {
      if (reply.error != null) {
        this.fail(new Error(`hash worker failed: ${reply.error}`))
      } else if (reply.leaf != null) {
        this.leaves.shift()?.resolve(reply)
      } else if (reply.hex != null) {
        this.result?.resolve(reply.hex)
      }
    })
  }

  /**
   * The chunk's sha256; also feeds the blob digest, so call it in blob order.
   * With `moveChunks`, a chunk that owns its whole ArrayBuffer is moved to the
   * worker and back instead of copied: use the returned `bytes`, as `chunk`
   * is then detached.
   */
  readonly hashChunk = async (chunk: Uint8Array): Promise<HashedChunk> => {
    throwIfAborted(this.signal)
    const reply = new Promise<Reply>((resolve, reject) => { this.leaves.push({ resolve, reject }) })
    const movable = this.moveChunks && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.byteLength > 0 && !(chunk.buffer instanceof SharedArrayBuffer)
    this.worker.postMessage({ id: this.id, chunk, transferred: movable }, movable ? [chunk.buffer as ArrayBuffer] : [])
    const { leaf, chunk: back } = await reply
    return { digest: leaf as Uint8Array, bytes: back ?? chunk }
  }

  /** Hex sha256 of every chunk hashed, in order. */
  async digest (): Promise<string> {
    throwIfAborted(this.signal)
    const hex = new Promise<string>((resolve, reject) => { this.result = { resolve, reject } })
    this.worker.postMessage({ id: this.id, digest: true })
    return await hex
  }

  /** Frees the session; the process may exit once no session is open. */
  close (): void {
    if (this.closed) return
    this.closed = true
    this.signal?.removeEventListener('abort', this.onAbort)
    sessions.delete(this.id)
    if (--open > 0) {
      if (this.result == null) this.worker.postMessage({ id: this.id })
    } else if (this.signal?.aborted === true && worker === this.worker) {
      // Cancelled: drop whatever the worker still has queued.
      worker = undefined
      void this.worker.terminate()
    } else {
      if (this.result == null) this.worker.postMessage({ id: this.id })
      this.worker.unref()
    }
  }

  private fail (err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err))
    for (const leaf of this.leaves.splice(0)) leaf.reject(error)
    this.result?.reject(error)
  }
}
