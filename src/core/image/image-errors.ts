import { DigestMismatchError, ImageFormatError } from '../errors.js'

/** An ImageFormatError whose message starts with the input's name. */
export function formatError (input: string, message: string, options?: ErrorOptions): ImageFormatError {
  return new ImageFormatError(`Input '${input}': ${message}`, options)
}

/** A DigestMismatchError whose message starts with the input's name. */
export function mismatchError (input: string, message: string): DigestMismatchError {
  return new DigestMismatchError(`Input '${input}': ${message}`)
}
