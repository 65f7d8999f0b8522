import { IpnsRecordError, inputMessage, option, renderMessage, text, throwIfAborted } from '../errors.js'
import { silentLogger, type AbortOptions, type Logger } from '../logger.js'
import { remoteMessage } from '../redact.js'
import type { IpnsName } from './name.js'
import { inspectRecord, newer, type IpnsRecordInfo } from './record.js'
import type { RecordStore } from './types.js'
import type { NameTarget } from '../destinations/types.js'

export interface SourceOutcome {
  label: string
  /** found: a valid record; none: no record there; refused: a record not accepted (forged, other name, corrupted, too large, expired); failed: no answer. */
  outcome: 'found' | 'none' | 'refused' | 'failed'
  detail: string
}

export interface NameLookup {
  /** The newest valid record (see newer()), or null when every place answered that it has none (a new name). */
  current: IpnsRecordInfo | null
  /** The highest sequence among records signed by the name's key, expired ones included. */
  highestSequence: bigint | null
  sources: SourceOutcome[]
}

export interface LookupOptions extends AbortOptions {
  logger?: Logger
  now?: number
}

interface Seen {
  source: SourceOutcome
  /** An authentic record (valid or expired). */
  record?: IpnsRecordInfo
  valid: boolean
}

/**
 * Asks every store for the name's record at once and checks each with
 * inspectRecord. A refused record is warned about (naming where it came from)
 * and ignored. Without a valid record, the lookup throws when any store failed
 * or refused: only when every store answered "none" is the name new, so a
 * transient failure never starts an empty registry.
 */
export async function lookupName (name: IpnsName, stores: RecordStore[], options: LookupOptions = {}): Promise<NameLookup> {
  const logger = options.logger ?? silentLogger
  const now = options.now ?? Date.now()
  const seen = await Promise.all(stores.map(async (store) => await ask(store, name, now, options)))
  throwIfAborted(options.signal)
  let current: IpnsRecordInfo | null = null
  let highestSequence: bigint | null = null
  for (const { source, record, valid } of seen) {
    if (record != null && (highestSequence == null || record.sequence > highestSequence)) highestSequence = record.sequence
    if (record != null && valid) current = current == null ? record : newer(current, record)
    if (source.outcome === 'refused') logger.warn(`IPNS record for /ipns/${name.text} from ${source.label} refused: ${source.detail}`)
    if (source.outcome === 'failed') logger.warn(`IPNS record for /ipns/${name.text} not read from ${source.label}: ${source.detail}`)
  }
  const sources = seen.map((s) => s.source)
  if (current == null && sources.some((s) => s.outcome === 'refused' || s.outcome === 'failed')) {
    const list = sources.map((s) => `${s.label}: ${s.outcome} (${s.detail})`).join('; ')
    // An authentic record that only expired names the root the registry had: say so, so the user can continue from it.
    const expired = seen.filter((s) => s.record != null).map((s) => s.record as IpnsRecordInfo).reduce<IpnsRecordInfo | null>((a, b) => a == null ? b : newer(a, b), null)
    const reason = text`No valid IPNS record for /ipns/${name.text}, and not every place answered that it has none, so it is not treated as a new name: ${list}`
    if (expired?.root == null) throw new IpnsRecordError(renderMessage(reason))
    throw new IpnsRecordError(...inputMessage('ipns-name', [...reason, ...text`. The newest authentic record (sequence ${expired.sequence.toString()}) expired at ${expired.validity.toISOString()}; to continue from the root it names, give ${option('previous-root')} ${expired.root.toString()}`]))
  }
  if (current == null && sources.length === 0) {
    throw new IpnsRecordError(`No place to look up /ipns/${name.text} in`)
  }
  return { current, highestSequence, sources }
}

async function ask (store: RecordStore, name: IpnsName, now: number, options: AbortOptions): Promise<Seen> {
  const source = (outcome: SourceOutcome['outcome'], detail: string): SourceOutcome => ({ label: store.label, outcome, detail })
  let bytes: Uint8Array | null
  try {
    bytes = await store.get(name, options)
  } catch (err) {
    const message = remoteMessage(String((err as Error)?.message ?? err))
    return { source: source(err instanceof IpnsRecordError ? 'refused' : 'failed', message), valid: false }
  }
  if (bytes == null) return { source: source('none', 'no record'), valid: false }
  let record: IpnsRecordInfo
  try {
    record = await inspectRecord(name, bytes, { source: store.label, now, allowExpired: true })
  } catch (err) {
    return { source: source('refused', remoteMessage(String((err as Error)?.message ?? err))), valid: false }
  }
  if (record.validity.getTime() <= now) {
    return { source: source('refused', `sequence ${record.sequence}, expired at ${record.validity.toISOString()}`), record, valid: false }
  }
  return { source: source('found', `sequence ${record.sequence}, ${remoteMessage(record.value, 120)}, valid until ${record.validity.toISOString()}`), record, valid: true }
}

/** One store's outcome of a put: a row of the name's report. */
export type PutResult = NameTarget

/** Puts the record to every store that takes records, at once; one store's failure is its row, never a throw. */
export async function putEverywhere (name: IpnsName, record: IpnsRecordInfo, stores: RecordStore[], options: AbortOptions = {}): Promise<PutResult[]> {
  if (record.name.text !== name.text) throw new IpnsRecordError(`the record of /ipns/${record.name.text} cannot be put under /ipns/${name.text}`)
  const results = await Promise.all(stores.filter((store) => store.put != null).map(async (store): Promise<PutResult> => {
    try {
      await store.put?.(name, record.bytes, options)
      return { label: store.label, ok: true, detail: `stored sequence ${record.sequence}` }
    } catch (err) {
      return { label: store.label, ok: false, detail: remoteMessage(String((err as Error)?.message ?? err)) }
    }
  }))
  throwIfAborted(options.signal)
  return results
}
