import { InputError, IpcrError, option, renderMessage, text } from '../core/errors.js'
import { quote } from '../core/escape.js'
import { parseDuration } from '../core/ipns/duration.js'
import type { RunMode } from '../core/ipns/settings.js'

/** What the user set: `given(key)` says whether an option was set, `value(key)` its text (for the rules that compare values). */
export type Given = (key: string) => boolean
export type GivenValue = (key: string) => string | undefined

/** The defaults of the IPNS durations, as definitions.ts shows them. */
export const IPNS_DEFAULTS = { lifetime: '48h', ttl: '5m', refreshWithin: '24h' } as const

/**
 * The rules between options, the same in both shells. `mode` is the action's
 * `mode` input (the CLI's command: push is `publish`, republish is `republish`).
 */
export function checkOptionRules (given: Given, value: GivenValue = () => undefined, mode: RunMode = 'publish'): void {
  const hasKey = given('ipns-private-key') || given('ipns-key')
  if (mode === 'publish' && !given('image') && !given('image-file')) {
    throw new InputError('image', text`set ${option('image')} (a local image reference) or ${option('image-file')} (an image tarball or OCI layout directory), or both to choose one image of an archive that holds several`)
  }
  if (given('kubo-rpc-headers') && !given('kubo-rpc-url')) {
    throw new InputError('kubo-rpc-headers', text`set ${option('kubo-rpc-url')} too (headers are sent to that endpoint)`)
  }
  if (given('ipns-key') && !given('kubo-rpc-url')) {
    throw new InputError('ipns-key', text`a key in Kubo's keystore needs ${option('kubo-rpc-url')} (to sign records without a daemon, give ${option('ipns-private-key')} alone)`)
  }
  if (mode === 'republish') {
    if (!hasKey && !given('ipns-name')) {
      throw new InputError('ipns-name', text`republish needs a name: set ${option('ipns-name')}, ${option('ipns-private-key')} (its name) or ${option('ipns-key')}`)
    }
    if (!given('kubo-rpc-url') && !given('ipns-routers')) {
      throw new InputError('ipns-routers', text`republish needs somewhere to read and put records: set ${option('kubo-rpc-url')} or ${option('ipns-routers')} (gateways are read-only)`)
    }
  }
  if (given('ipns-private-key') && !given('ipns-key') && !given('kubo-rpc-url') && !given('ipns-routers')) {
    throw new InputError('ipns-private-key', text`records signed here need somewhere to go: set ${option('kubo-rpc-url')} (routing put) or ${option('ipns-routers')} (or ${option('ipns-key')} to sign inside Kubo's keystore)`)
  }
  for (const key of ['ipns-ttl', 'ipns-refresh-within']) {
    if (given(key) && !hasKey) throw new InputError(key, text`${option(key)} applies to records signed with a key: set ${option('ipns-private-key')} or ${option('ipns-key')} too`)
  }
  checkIpnsDurations(value)
}

/** The IPNS durations are Go durations; ipns-refresh-within is never more than ipns-lifetime. */
function checkIpnsDurations (value: GivenValue): void {
  const lifetimeText = value('ipns-lifetime')
  const lifetime = parseDuration(lifetimeText ?? IPNS_DEFAULTS.lifetime, 'ipns-lifetime')
  const ttl = value('ipns-ttl')
  if (ttl != null) parseDuration(ttl, 'ipns-ttl')
  const refreshText = value('ipns-refresh-within')
  if (refreshText == null) return
  const refresh = parseDuration(refreshText, 'ipns-refresh-within')
  if (refresh > lifetime) {
    throw new InputError('ipns-refresh-within', text`${quote(refreshText, 40)} is longer than ${option('ipns-lifetime')} (${lifetimeText ?? IPNS_DEFAULTS.lifetime}): a record would be re-signed on every run; give at most the lifetime`)
  }
}

/** The action's `mode` input. */
export function parseMode (value: string | undefined): RunMode {
  const mode = value ?? 'publish'
  if (mode !== 'publish' && mode !== 'republish') throw new InputError('mode', `${quote(mode, 40)} is not a mode (expected publish or republish)`)
  return mode
}

export function parseCarScope (value: string | undefined): 'new' | 'full' {
  const scope = value ?? 'new'
  if (scope !== 'new' && scope !== 'full') throw new InputError('car-scope', `'${scope}' is not a CAR scope (expected new or full)`)
  return scope
}

export function parseSeconds (value: string, key: string): number {
  const seconds = Number(value)
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) throw new InputError(key, `'${value}' is not a positive number of seconds`)
  return seconds
}

/** What @actions/core's getBooleanInput accepts (YAML 1.2 core schema booleans). */
export function parseBoolean (value: string, key: string): boolean {
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  throw new InputError(key, `'${value}' is not a boolean (expected true or false; True, TRUE, False and FALSE work too)`)
}

/** An error as one shell says it: the option by `label`, options named inside the message by `name`. */
export function describeError (err: unknown, label: (key: string) => string, name: (key: string) => string): string {
  if (err instanceof IpcrError && err.input != null && err.reason != null) return `${label(err.input)}: ${renderMessage(err.reason, name)}`
  return err instanceof Error ? err.message : String(err)
}
