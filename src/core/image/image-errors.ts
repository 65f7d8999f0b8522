import { DigestMismatchError, ImageFormatError, inputMessage } from '../errors.js'

/** An ImageFormatError whose message starts with the input's name. */
export function formatError (input: string, message: string, options?: ErrorOptions): ImageFormatError {
  const [text, named] = inputMessage(input, message)
  return new ImageFormatError(text, { ...options, ...named })
}

/** A DigestMismatchError whose message starts with the input's name. */
export function mismatchError (input: string, message: string): DigestMismatchError {
  const [text, named] = inputMessage(input, message)
  return new DigestMismatchError(text, named)
}
