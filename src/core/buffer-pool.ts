/**
 * Equal-size buffers that are taken, filled, and given back once nothing reads
 * them any more. Reusing them spares a large import from allocating (and the
 * kernel from faulting in) fresh memory for every chunk, and the garbage
 * collector from the matching pressure. An empty pool allocates; a full pool
 * drops what it is given, so a buffer never given back costs only itself.
 */
export class BufferPool {
  private readonly free: Uint8Array[] = []

  /** `size`: bytes per buffer; `keep`: how many free buffers the pool holds on to. */
  constructor (readonly size: number, readonly keep: number) {}

  /** A buffer of `size` bytes whose contents are undefined. */
  take (): Uint8Array {
    return this.free.pop() ?? new Uint8Array(this.size)
  }

  /**
   * Hands a buffer back. Only whole buffers of this pool's size are kept; a
   * buffer given back must have no other reader (it may be the same memory
   * under a new view, e.g. after a round trip to a worker thread).
   */
  give (buffer: Uint8Array): void {
    if (this.free.length >= this.keep) return
    if (buffer.byteOffset !== 0 || buffer.byteLength !== this.size || buffer.buffer.byteLength !== this.size) return
    if (buffer.buffer instanceof SharedArrayBuffer) return
    this.free.push(buffer)
  }

  /** Free buffers held now. */
  get held (): number {
    return this.free.length
  }
}
