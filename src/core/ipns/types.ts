import type { AbortOptions } from '../logger.js'
import type { IpnsName } from './name.js'

/**
 * A place IPNS records are read from and (when it can) written to: a Kubo
 * node's routing, a Delegated Routing V1 HTTP endpoint, a trustless gateway.
 * It moves bytes only; callers check every record with inspectRecord.
 */
export interface RecordStore {
  /** e.g. `router https://example.org`, `Kubo http://127.0.0.1:5001`: for messages and the summary. */
  readonly label: string
  /** The record this place holds for the name (at most MAX_RECORD_BYTES), or null when it has none. Throws on any other failure. */
  get(name: IpnsName, options?: AbortOptions): Promise<Uint8Array | null>
  /** Stores a record; absent where records cannot be written (gateways). */
  put?(name: IpnsName, record: Uint8Array, options?: AbortOptions): Promise<void>
}
