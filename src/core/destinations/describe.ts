import type { DestinationReport } from './types.js'

/** "importedBlocks" → "imported blocks". */
function words (key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase()
}

/** One detail as a phrase; a key without its own wording reads as "some key: value". */
function phrase (key: string, value: string | number | boolean): string {
  switch (key) {
    case 'version': return `version ${String(value)}`
    case 'pinned': return `pinned ${String(value)}`
    case 'pinName': return `pin name “${String(value)}”`
    case 'importedBlocks': return `${String(value)} blocks imported`
  }
  if (typeof value === 'boolean') return value ? words(key) : `not ${words(key)}`
  return `${words(key)}: ${String(value)}`
}

/** What a destination did, for people: "version 0.40.0; pinned bafy…; pin name “ipcr registry”; 16 blocks imported". Plain text, not escaped. */
export function describeDetails (details: DestinationReport['details']): string {
  return Object.entries(details).map(([k, v]) => phrase(k, v)).join('; ')
}

/** A destination's outcome for people: "12.3 s: pinned bafy…; …", or "failed after 3.1 s (not required): why". Plain text, not escaped. */
export function describeReport (report: DestinationReport): string {
  const time = report.seconds != null ? `${report.seconds.toFixed(1)} s` : ''
  if (report.ok === false) {
    return `failed${time !== '' ? ` after ${time}` : ''}${report.required === false ? ' (not required)' : ''}: ${report.error ?? 'no reason given'}`
  }
  const details = describeDetails(report.details)
  return time !== '' ? `${time}: ${details}` : details
}
