/** Base of every error the core throws on purpose; `code` is stable for callers. */
export class IpcrError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** A user-supplied input is wrong; names the input and what was expected. */
export class InputError extends IpcrError {
  readonly input: string
  constructor(input: string, message: string, options?: ErrorOptions) {
    super('ERR_INPUT', `Input '${input}': ${message}`, options)
    this.input = input
  }
}

/** The image archive or layout is malformed or unsafe. */
export class ImageFormatError extends IpcrError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_IMAGE_FORMAT', message, options)
  }
}

/** Content did not hash to the digest or CID that names it. */
export class DigestMismatchError extends IpcrError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_DIGEST_MISMATCH', message, options)
  }
}

/** No configured block source could supply a block. */
export class BlockNotFoundError extends IpcrError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_BLOCK_NOT_FOUND', message, options)
  }
}

/** The registry tree does not have the expected shape. */
export class TreeError extends IpcrError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TREE', message, options)
  }
}

/** A network request was refused by ipcr's HTTP policy (a redirect to another origin, too many redirects). */
export class RedirectError extends IpcrError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_REDIRECT', message, options)
  }
}

/** A response body was larger than the limit for what it carries. */
export class ResponseTooLargeError extends IpcrError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_RESPONSE_TOO_LARGE', message, options)
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted === true) {
    throw signal.reason instanceof Error ? signal.reason : new IpcrError('ERR_ABORTED', 'Operation aborted')
  }
}
