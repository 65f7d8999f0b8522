import { InputError, IpcrError, option, renderMessage, text } from '../core/errors.js'

/** The rules between options, the same in both shells: `given(key)` says whether the user set an option. */
export function checkOptionRules (given: (key: string) => boolean): void {
  if (!given('image') && !given('image-file')) {
    throw new InputError('image', text`set ${option('image')} (a local image reference) or ${option('image-file')} (an image tarball or OCI layout directory), or both to choose one image of an archive that holds several`)
  }
  if (given('kubo-rpc-headers') && !given('kubo-rpc-url')) {
    throw new InputError('kubo-rpc-headers', text`set ${option('kubo-rpc-url')} too (headers are sent to that endpoint)`)
  }
  if (given('ipns-private-key') && !given('ipns-key')) {
    throw new InputError('ipns-key', text`${option('ipns-private-key')} is set: also name the key (${option('ipns-key')}) it is stored under in the keystore`)
  }
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
