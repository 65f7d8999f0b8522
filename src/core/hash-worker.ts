import { Worker } from 'node:worker_threads'

// Runs as CommonJS in the worker, so it needs no file of its own in dist/.
const workerSource = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const hashes = new Map()
parentPort.on('message', (m) => {
  let h = hashes.get(m.id)
  if (h == null) { h = createHash('sha256'); hashes.set(m.id, h) }
  if (m.chunk != null) {
    h.update(m.chunk)
    parentPort.postMessage({ id: m.id, acked: m.chunk.byteLength })
  } else {
    hashes.delete(m.id)
    parentPort.postMessage({ id: m.id, hex: h.digest('hex') })
  }
})`

/** Bytes sent but not yet hashed before update() waits: bounds the worker's queue. */
const MAX_IN_FLIGHT = 16 * 1024 * 1024

let worker: Worker | undefined
let nextId = 0
let active = 0
const listeners = new Map<number, (message: { acked?: number, hex?: string }) => void>()

function getWorker (): Worker {
  if (worker == null) {
    worker = new Worker(workerSource, { eval: true })
    worker.unref()
    worker.on('message', (m: { id: number, acked?: number, hex?: string }) => listeners.get(m.id)?.(m))
    worker.on('error', (err) => {
      for (const listener of listeners.values()) listener({ hex: `error:${err.message}` })
    })
  }
  return worker
}

/**
 * SHA-256 computed on a worker thread, so hashing a blob overlaps with the
 * main thread's own work (chunking, CIDs, writing the CAR).
 */
export class OffThreadSha256 {
  private readonly id = nextId++
  private inFlight = 0
  private wake: (() => void) | undefined
  private result: ((hex: string) => void) | undefined
  private readonly worker = getWorker()
  private disposed = false

  constructor () {
    if (active++ === 0) this.worker.ref()
    listeners.set(this.id, (m) => {
      if (m.acked != null) {
        this.inFlight -= m.acked
        if (this.inFlight <= MAX_IN_FLIGHT / 2) this.wake?.()
      } else if (m.hex != null) {
        this.result?.(m.hex)
      }
    })
  }

  async update (chunk: Uint8Array): Promise<void> {
    this.worker.postMessage({ id: this.id, chunk })
    this.inFlight += chunk.byteLength
    if (this.inFlight > MAX_IN_FLIGHT) {
      await new Promise<void>((resolve) => { this.wake = resolve })
      this.wake = undefined
    }
  }

  /** The hex digest; the instance is done after this. */
  async digest (): Promise<string> {
    try {
      const hex = await new Promise<string>((resolve) => {
        this.result = resolve
        this.worker.postMessage({ id: this.id })
      })
      if (hex.startsWith('error:')) throw new Error(`hash worker failed: ${hex.slice(6)}`)
      return hex
    } finally {
      this.dispose()
    }
  }

  /** Stops tracking this hash; lets the process exit once no hash is active. */
  dispose (): void {
    if (this.disposed) return
    this.disposed = true
    listeners.delete(this.id)
    if (--active === 0) this.worker.unref()
  }
}
