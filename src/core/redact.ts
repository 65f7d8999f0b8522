/**
 * The run's secret values (header values, tokens, URL userinfo, private keys)
 * and their removal from any text before it is printed. Each secret is also
 * known in the encodings it may be echoed in (base64, base64url, URL-encoded,
 * JSON-escaped, hex), and a prefix of any of them is redacted too: a message
 * cut short may end with part of a token.
 */
import { cutText, foldLine } from './escape.js'

/** Shortest prefix of a secret (in any encoding) that is redacted on its own. */
export const MIN_SECRET_PREFIX = 8
/** Secrets shorter than this are not redacted (they would mangle ordinary words). */
const MIN_SECRET_LENGTH = 4
/** What a redacted secret becomes. */
export const REDACTED = '***'

const forms = new Set<string>()
let sorted: string[] = []

function addForm (form: string): void {
  if (form.length < MIN_SECRET_LENGTH || forms.has(form)) return
  forms.add(form)
  sorted = [...forms].sort((a, b) => b.length - a.length)
}

function addBytes (bytes: Uint8Array): void {
  const buffer = Buffer.from(bytes)
  addForm(buffer.toString('base64'))
  addForm(buffer.toString('base64url'))
  const hex = buffer.toString('hex')
  addForm(hex)
  addForm(hex.toUpperCase())
}

/** Registers a secret value (text or key bytes) for the rest of the run. */
export function addSecret (value: string | Uint8Array): void {
  if (typeof value !== 'string') {
    addBytes(value)
    return
  }
  const text = value.trim()
  if (text.length < MIN_SECRET_LENGTH) return
  addForm(text)
  addForm(encodeURIComponent(text))
  addForm(JSON.stringify(text).slice(1, -1))
  addBytes(Buffer.from(text))
}

/**
 * Registers an HTTP header value: the whole value and, for `Scheme token`
 * (Bearer, Basic, Token, …), the token; for Basic also `user:password` and the password.
 */
export function addHeaderSecret (value: string): void {
  addSecret(value)
  const match = /^\s*([A-Za-z][\w-]*)\s+(\S+)\s*$/.exec(value)
  if (match == null) return
  const token = match[2] as string
  addSecret(token)
  if (match[1]?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(token, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon >= 0) {
      addSecret(decoded)
      addSecret(decoded.slice(colon + 1))
    }
  }
}

/** Registers the userinfo of a URL given as `https://user:password@host`. */
export function addUserinfoSecret (username: string, password: string): void {
  const user = safeDecode(username)
  const pass = safeDecode(password)
  if (pass !== '') {
    addSecret(pass)
    addSecret(`${user}:${pass}`)
  } else if (user !== '') {
    addSecret(user)
  }
}

function safeDecode (text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** `text` with every known secret, in every known encoding, and every prefix of MIN_SECRET_PREFIX or more characters replaced. */
export function redact (text: string): string {
  let out = text
  for (const form of sorted) {
    const head = form.slice(0, Math.min(MIN_SECRET_PREFIX, form.length))
    let from = 0
    for (let at = out.indexOf(head, from); at >= 0; at = out.indexOf(head, from)) {
      let length = head.length
      while (length < form.length && out[at + length] === form[length]) length++
      out = `${out.slice(0, at)}${REDACTED}${out.slice(at + length)}`
      from = at + REDACTED.length
    }
  }
  return out
}

/** Longest summary of a remote service's message put into an error. */
export const MAX_REMOTE_MESSAGE = 300

/**
 * A message from a remote service (an error body, a status text) made safe for
 * an error: secrets redacted before anything is cut, one line, no control
 * characters, at most `max` characters.
 */
export function remoteMessage (text: string, max = MAX_REMOTE_MESSAGE): string {
  return redact(cutText(foldLine(redact(text)), max))
}

/** Forgets every registered secret (for tests that need a clean slate). */
export function clearSecrets (): void {
  forms.clear()
  sorted = []
}
