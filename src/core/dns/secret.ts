import { InputError } from '../errors.js'
import { addSecret } from '../redact.js'

/**
 * An API token or key from configuration: one word of printable ASCII,
 * masked from then on. `what` says whose it is (`PowerDNS needs an API key`).
 */
export function secretWord (value: unknown, input: string, what: string): string {
  const word = typeof value === 'string' ? value.trim() : ''
  if (word !== '') addSecret(word)
  if (word === '') throw new InputError(input, `${what} is required`)
  if (!/^[\x21-\x7e]+$/.test(word)) throw new InputError(input, `${what} is one word of printable ASCII characters (no spaces or line breaks)`)
  return word
}
