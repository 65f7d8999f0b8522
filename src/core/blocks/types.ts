import type { CID } from 'multiformats/cid'
import type { AbortOptions } from '../logger.js'

/** Largest block any block source accepts by default (gateways, Kubo, CAR files): importers write at most 1 MiB, bitswap carries 2 MiB. */
export const MAX_BLOCK_BYTES = 4 * 1024 * 1024

/** Somewhere blocks can be read from. Every implementation verifies bytes against the CID. */
export interface BlockSource {
  /** A short description for logs and errors; never contains credentials. */
  readonly label: string
  /** Returns the block's bytes, verified against `cid`; throws BlockNotFoundError when absent. */
  get(cid: CID, options?: AbortOptions): Promise<Uint8Array>
  /** Releases files or connections, where the source holds any. */
  close?(): Promise<void>
}

export interface PutOptions extends AbortOptions {
  /**
   * Lets the caller reuse `bytes`. A sink that supports it calls it once, when
   * it will read `bytes` no more (at once for a block it already has); a sink
   * that keeps the bytes, or fails to write them, never calls it.
   */
  onWritten?: () => void
}

/** Somewhere blocks can be written to. */
export interface BlockSink {
  put(cid: CID, bytes: Uint8Array, options?: PutOptions): Promise<void>
}

export interface BlockStore extends BlockSource, BlockSink {
  has(cid: CID, options?: AbortOptions): Promise<boolean>
}
