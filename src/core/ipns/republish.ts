import type { NameReport } from '../destinations/types.js'
import { InputError, IpnsRecordError, option, text } from '../errors.js'
import { KuboRpc } from '../kubo/rpc.js'
import { kuboConfig } from '../kubo/config.js'
import { acquireLock } from '../kubo/lock.js'
import { silentLogger, type OperationOptions } from '../logger.js'
import type { DestinationSettings } from '../destinations/settings.js'
import { signingKey } from './keys.js'
import { lookupName } from './lookup.js'
import { configName, putRecord } from './publisher.js'
import { ipnsDurations } from './settings.js'
import { resignRecord } from './record.js'
import { recordStores } from './stores.js'

/** What a scheduled republish did. */
export interface RepublishResult extends NameReport {
  /** True when the record was signed again (validity ended within ipns-refresh-within); false when the existing record was put again unchanged. */
  resigned: boolean
  /** One sentence for the log and summary: why it was or was not re-signed. */
  reason: string
}

export interface RepublishOptions extends OperationOptions {
  settings: DestinationSettings
  now?: number
}

function hours (ms: number): string {
  return `${(ms / 3_600_000).toFixed(1)} h`
}

/**
 * Fetches the name's current record and puts it again everywhere; re-signs the
 * same value with a new validity and sequence+1 when it expires within the
 * refresh threshold and the key is given. Never touches content.
 */
export async function republish (options: RepublishOptions): Promise<RepublishResult> {
  const logger = options.logger ?? silentLogger
  const settings = options.settings.ipns ?? {}
  const { name, key } = configName(settings)
  const { lifetimeMs, ttlMs, refreshMs } = ipnsDurations(settings)
  const kubo = options.settings.kubo != null ? new KuboRpc(kuboConfig(options.settings.kubo), logger) : undefined
  const stores = recordStores(settings, kubo)
  if (!stores.some((s) => s.put != null)) throw new InputError('ipns-routers', text`republishing needs somewhere to put the record: set ${option('kubo-rpc-url')} or ${option('ipns-routers')}`)
  const label = `IPNS /ipns/${name.text}`
  // A publish moving the name on the same node waits, and this waits for it: never a re-signed stale value over a new one.
  const release = kubo != null ? await acquireLock(kubo, name.text, { signal: options.signal, logger }) : async () => {}
  try {
    return await refresh()
  } finally {
    await release()
  }

  async function refresh (): Promise<RepublishResult> {
    const now = options.now ?? Date.now()
    const found = await logger.group(`Read ${label}`, async () => await lookupName(name, stores, { signal: options.signal, logger, now }))
    const record = found.current
    if (record == null) {
      throw new IpnsRecordError(`${label}: no valid record found at ${stores.map((s) => s.label).join(', ')}; nothing to republish (publish first, or the record expired: publish again with the key)`)
    }
    const left = record.validity.getTime() - now
    let resigned = false
    let reason: string
    let next = record
    if (left <= refreshMs && key != null) {
      const sequence = (found.highestSequence ?? record.sequence) + 1n
      next = await resignRecord(await signingKey(key), record, { sequence, lifetimeMs, ttlMs, now })
      resigned = true
      reason = `valid for ${hours(left)} more, within ipns-refresh-within (${hours(refreshMs)}): re-signed with sequence ${sequence}, valid until ${next.validity.toISOString()}`
    } else if (left <= refreshMs) {
      reason = `valid for ${hours(left)} more, within ipns-refresh-within, but no ipns-private-key was given: put again unchanged; it expires at ${record.validity.toISOString()}`
      logger.warn(`${label}: ${reason}`)
    } else {
      reason = `valid for ${hours(left)} more (re-signed only within ${hours(refreshMs)} of expiry): put again unchanged`
    }
    logger.info(`${label}: ${reason}`)
    const report = await logger.group(`Put ${label} everywhere`, async () =>
      await putRecord('ipns', label, next, { stores, ...(settings.recordPath != null ? { recordPath: settings.recordPath } : {}) }, options, logger))
    return { ...report, resigned, reason }
  }
}
