import { InputError } from '../errors.js'
import { hasControl, quote } from '../escape.js'
import { addSecret } from '../redact.js'

/**
 * The `pinning-services` input: a list of `{name, endpoint, token, required}`,
 * as JSON or as a small, strict subset of YAML (a block sequence of maps of
 * scalars). Anything else is refused with a message naming the entry; values
 * are never echoed (a token may be among them).
 */

/** One Pinning Service API service (spec v1.0.0). */
export interface PinningServiceConfig {
  /** How the service is named in labels, reports and errors: plain text. */
  name: string
  /** Base URL of the API (the part before `/pins`). */
  endpoint: string
  /** Access token, sent as `Authorization: Bearer <token>`: a secret. */
  token: string
  /** Its failure fails the run; default true. */
  required?: boolean
  /** Names this registry's pins on the service (`<pinName> <repository>:<tags>`); default 'ipcr registry'. */
  pinName?: string
  /** How long to wait for `pinned` (pin-timeout); default 10 minutes. */
  timeoutMs?: number
  /** Retries of each request on network errors, 5xx and 429; default 4. */
  retries?: number
  /** The option key errors name; default 'pinning-services'. */
  input?: string
}

/** Largest `pinning-services` text read. */
export const MAX_SERVICES_TEXT = 64 * 1024
/** Most services in one list. */
export const MAX_SERVICES = 20

const KEYS = ['name', 'endpoint', 'token', 'required'] as const
type Key = typeof KEYS[number]
type Entry = Partial<Record<Key, string | boolean>>

export function parsePinningServices (text: string, input = 'pinning-services'): PinningServiceConfig[] {
  if (text.length > MAX_SERVICES_TEXT) throw new InputError(input, `is longer than ${MAX_SERVICES_TEXT / 1024} KiB`)
  const trimmed = text.trim()
  if (trimmed === '') return []
  const entries = trimmed.startsWith('[') ? jsonEntries(trimmed, input) : yamlEntries(text, input)
  if (entries.length > MAX_SERVICES) throw new InputError(input, `lists ${entries.length} services; at most ${MAX_SERVICES} are supported`)
  const names = new Set<string>()
  return entries.map((entry, i) => {
    const where = `entry ${i + 1}`
    for (const key of ['name', 'endpoint', 'token'] as const) {
      if (typeof entry[key] !== 'string' || (entry[key] as string).trim() === '') throw new InputError(input, `${where} has no '${key}' (each service needs name, endpoint and token)`)
    }
    const token = (entry.token as string).trim()
    addSecret(token)
    const name = (entry.name as string).trim()
    if (names.has(name)) throw new InputError(input, `${where}: the name ${quote(name, 80)} is given twice (each service needs its own name)`)
    names.add(name)
    const required = entry.required
    if (required != null && typeof required !== 'boolean') throw new InputError(input, `${where} (${quote(name, 80)}): 'required' must be true or false`)
    return { name, endpoint: (entry.endpoint as string).trim(), token, ...(required != null ? { required } : {}), input }
  })
}

function checkKey (key: string, entry: Entry, where: string, input: string): Key {
  if (!(KEYS as readonly string[]).includes(key)) throw new InputError(input, `${where}: unknown key ${quote(key, 40)} (expected ${KEYS.join(', ')})`)
  if (key in entry) throw new InputError(input, `${where}: '${key}' is given twice`)
  return key as Key
}

function jsonEntries (text: string, input: string): Entry[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new InputError(input, 'starts with [ but is not valid JSON')
  }
  if (!Array.isArray(value)) throw new InputError(input, 'expected a list of services')
  return value.map((item: unknown, i) => {
    const where = `entry ${i + 1}`
    if (typeof item !== 'object' || item == null || Array.isArray(item)) throw new InputError(input, `${where} is not an object with name, endpoint and token`)
    const entry: Entry = {}
    for (const [key, v] of Object.entries(item)) {
      const k = checkKey(key, entry, where, input)
      if (k === 'required' ? typeof v !== 'boolean' : typeof v !== 'string') throw new InputError(input, `${where}: '${k}' must be ${k === 'required' ? 'true or false' : 'a string'}`)
      entry[k] = v as string | boolean
    }
    return entry
  })
}

/** A YAML scalar on one line: plain, 'single' or "double" quoted; refused when it is anything else. */
function scalar (raw: string, where: string, input: string): string | boolean {
  const text = raw.trim()
  if (text.startsWith('"')) {
    const end = closingQuote(text)
    if (end < 0 || text.slice(end + 1).trim().replace(/^#.*/, '') !== '') throw new InputError(input, `${where}: unterminated or malformed "double-quoted" value`)
    try {
      return JSON.parse(text.slice(0, end + 1)) as string
    } catch {
      throw new InputError(input, `${where}: a "double-quoted" value with an escape ipcr does not read (use \\", \\\\, \\n, \\t or \\uXXXX)`)
    }
  }
  if (text.startsWith("'")) {
    const match = /^'((?:[^']|'')*)'\s*(#.*)?$/.exec(text)
    if (match == null) throw new InputError(input, `${where}: unterminated or malformed 'single-quoted' value`)
    return (match[1] as string).replaceAll("''", "'")
  }
  const plain = text.replace(/\s+#.*$/, '')
  if (plain === '') throw new InputError(input, `${where}: empty value (nested lists and maps are not supported: each key takes one value on its line)`)
  if (/^[[\]{}|>&*!%@`]/.test(plain)) throw new InputError(input, `${where}: only plain or quoted one-line values are supported (flow collections, block scalars, anchors and tags are not)`)
  if (/:\s/.test(plain)) throw new InputError(input, `${where}: a plain value may not hold ': ' (quote it)`)
  if (plain === 'true' || plain === 'false') return plain === 'true'
  return plain
}

function closingQuote (text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i
  }
  return -1
}

function yamlEntries (text: string, input: string): Entry[] {
  const entries: Entry[] = []
  let current: Entry | undefined
  let keyIndent = -1
  const lines = text.split(/\r?\n/)
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`
    if (/^\s*(#.*)?$/.test(line) || (index === 0 && line.trim() === '---')) return
    if (hasControl(line.replace(/\t/g, ' '))) throw new InputError(input, `${where}: control characters are not allowed`)
    if (/^ *\t/.test(line)) throw new InputError(input, `${where}: indent with spaces, not tabs`)
    const item = /^( *)- +(.*)$/.exec(line)
    let body: string
    let indent: number
    if (item != null) {
      current = {}
      entries.push(current)
      if (entries.length > MAX_SERVICES) throw new InputError(input, `lists more than ${MAX_SERVICES} services`)
      body = item[2] as string
      indent = line.length - body.length
      keyIndent = indent
    } else {
      indent = line.length - line.trimStart().length
      body = line.trim()
      if (current == null || indent !== keyIndent) {
        throw new InputError(input, `${where}: expected a list of services, each '- name: …' followed by its keys indented to the same column`)
      }
    }
    const where2 = `entry ${entries.length} (${where})`
    const match = /^([A-Za-z][\w-]*):(?:\s+(.*))?$/.exec(body)
    if (match == null) throw new InputError(input, `${where2}: expected 'key: value'`)
    const key = checkKey(match[1] as string, current as Entry, where2, input)
    const value = scalar(match[2] ?? '', where2, input)
    if (key === 'required' ? typeof value !== 'boolean' : typeof value !== 'string') {
      throw new InputError(input, `${where2}: '${key}' must be ${key === 'required' ? 'true or false' : 'text (quote it)'}`)
    }
    ;(current as Entry)[key] = value
  })
  if (entries.length === 0) throw new InputError(input, "expected a list of services ('- name: …' lines, or a JSON list)")
  return entries
}
