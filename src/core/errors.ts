import type { CID } from 'multiformats/cid'

/** An option named inside a message (by its key in src/options); each shell prints it under its own name. */
export interface OptionRef { option: string }
export type MessagePart = string | OptionRef

export function option (key: string): OptionRef {
  return { option: key }
}

/** A message naming options: `` text`give ${option('ipns-key')} too` ``; other values become plain text. */
export function text (strings: TemplateStringsArray, ...values: unknown[]): MessagePart[] {
  const parts: MessagePart[] = []
  strings.forEach((s, i) => {
    parts.push(s)
    if (i < values.length) {
      const value = values[i]
      parts.push(typeof value === 'object' && value != null && 'option' in value ? value as OptionRef : String(value))
    }
  })
  return parts
}

/** The parts as text, each option named by `name` (by default its key, quoted). */
export function renderMessage (parts: readonly MessagePart[], name: (key: string) => string = (key) => `'${key}'`): string {
  return parts.map((p) => typeof p === 'string' ? p : name(p.option)).join('')
}

export interface IpcrErrorOptions extends ErrorOptions {
  /** The option the error is about, and the message without it: shells print them in their own words. */
  input?: string
  reason?: readonly MessagePart[]
}

/** Base of every error the core throws on purpose; `code` is stable for callers. */
export class IpcrError extends Error {
  readonly code: string
  readonly input?: string
  readonly reason?: readonly MessagePart[]
  constructor(code: string, message: string, options?: IpcrErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    if (options?.input != null) this.input = options.input
    if (options?.reason != null) this.reason = options.reason
  }
}

/** `Input 'key': reason`: the message a library caller sees; shells print input and reason their own way. */
export function inputMessage (input: string, reason: string | readonly MessagePart[]): [string, IpcrErrorOptions] {
  const parts = typeof reason === 'string' ? [reason] : reason
  return [`Input '${input}': ${renderMessage(parts)}`, { input, reason: parts }]
}

/** A user-supplied input is wrong; names the input (an option key) and what was expected. */
export class InputError extends IpcrError {
  declare readonly input: string
  constructor(input: string, reason: string | readonly MessagePart[], options?: ErrorOptions) {
    const [message, named] = inputMessage(input, reason)
    super('ERR_INPUT', message, { ...options, ...named })
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

/** An IPNS record was refused (forged, expired, for another name, malformed), or no usable one was found; says where it came from. */
export class IpnsRecordError extends IpcrError {
  constructor(message: string, options?: IpcrErrorOptions) {
    super('ERR_IPNS_RECORD', message, options)
  }
}

/** A name no longer holds the root a publish expected (another publish moved it); `current` is what it holds now. */
export class NameMovedError extends IpcrError {
  constructor(message: string, readonly current: CID | null) {
    super('ERR_NAME_MOVED', message)
  }
}

/** A registry name (IPNS, DNSLink) that holds no root: no record, no DNSLink. */
export class NameNotFoundError extends IpcrError {
  constructor(message: string) {
    super('ERR_NAME_NOT_FOUND', message)
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted === true) {
    throw signal.reason instanceof Error ? signal.reason : new IpcrError('ERR_ABORTED', 'Operation aborted')
  }
}
