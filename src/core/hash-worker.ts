import { Worker } from 'node:worker_threads'

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
    parentPort.postMessage({ id: m.id, leaf: createHash('sha256').update(m.chunk).digest() })
    return
  }
  blobs.delete(m.id)
  if (m.digest === true) parentPort.postMessage({ id: m.id, hex: blob.digest('hex') })
})`

interface Reply { id: number, leaf?: Uint8Array, hex?: string, error?: string }

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
  private readonly leaves: Array<{ resolve: (digest: Uint8Array) => void, reject: (err: Error) => void }> = []
  private result: { resolve: (hex: string) => void, reject: (err: Error) => void } | undefined
  private closed = false

  constructor () {
    if (open++ === 0) this.worker.ref()
    sessions.set(this.id, (reply) => {
      if (reply.error != null) {
        const err = new Error(`hash worker failed: ${reply.error}`)
        for (const leaf of this.leaves.splice(0)) leaf.reject(err)
        this.result?.reject(err)
      } else if (reply.leaf != null) {
        this.leaves.shift()?.resolve(reply.leaf)
      } else if (reply.hex != null) {
        this.result?.resolve(reply.hex)
      }
    })
  }

  /** The chunk's sha256; also feeds the blob digest, so call it in blob order. */
  readonly hashChunk = async (chunk: Uint8Array): Promise<Uint8Array> => {
    const leaf = new Promise<Uint8Array>((resolve, reject) => { this.leaves.push({ resolve, reject }) })
    this.worker.postMessage({ id: this.id, chunk })
    return await leaf
  }

  /** Hex sha256 of every chunk hashed, in order. */
  async digest (): Promise<string> {
    const hex = new Promise<string>((resolve, reject) => { this.result = { resolve, reject } })
    this.worker.postMessage({ id: this.id, digest: true })
    return await hex
  }

  /** Frees the session; the process may exit once no session is open. */
  close (): void {
    if (this.closed) return
    this.closed = true
    if (this.result == null) this.worker.postMessage({ id: this.id })
    sessions.delete(this.id)
    if (--open === 0) this.worker.unref()
  }
}
