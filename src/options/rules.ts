import { InputError, IpcrError, option, renderMessage, text } from '../core/errors.js'
import { quote } from '../core/escape.js'
import { ipnsDurations, type RunMode } from '../core/ipns/settings.js'

/** What the user set: `given(key)` says whether an option was set, `value(key)` its text (for the rules that compare values). */
export type Given = (key: string) => boolean
export type GivenValue = (key: string) => string | undefined

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
  if (given('ipns-ttl') && !hasKey) throw new InputError('ipns-ttl', text`${option('ipns-ttl')} applies to records signed with a key: set ${option('ipns-private-key')} or ${option('ipns-key')} too`)
  // Without a key, republish only warns when the record expires within ipns-refresh-within.
  if (given('ipns-refresh-within') && !hasKey && mode !== 'republish') {
    throw new InputError('ipns-refresh-within', text`${option('ipns-refresh-within')} applies to republish (mode: republish, ipcr republish) and to records signed with a key: set ${option('ipns-private-key')} or ${option('ipns-key')} too`)
  }
  ipnsDurations({ lifetime: value('ipns-lifetime'), ttl: value('ipns-ttl'), refreshWithin: value('ipns-refresh-within') })
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
