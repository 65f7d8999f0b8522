import type { NameReport } from '../destinations/types.js'
import type { OperationOptions } from '../logger.js'
import type { DestinationSettings } from '../destinations/settings.js'

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

/**
 * Fetches the name's current record and puts it again everywhere; re-signs the
 * same value with a new validity and sequence+1 when it expires within the
 * refresh threshold and the key is given. Never touches content.
 */
export async function republish (_options: RepublishOptions): Promise<RepublishResult> {
  throw new Error('republish: not implemented yet')
}
