import { InputError } from './errors.js'
import { addHeaderSecret, addUserinfoSecret } from './redact.js'

/** An HTTP service endpoint with any userinfo moved out of the URL. */
export interface ServiceUrl {
  /** The URL without userinfo or fragment. */
  url: URL
  /** Origin and path: safe for logs, errors and outputs. */
  label: string
  /** `Basic …` built from userinfo in the URL, if there was any. */
  authorization?: string
}

/** Removes anything that looks like userinfo from text that may hold a URL. */
export function redactUrl (text: string): string {
  return text.replace(/\/\/[^/@\s]*@/g, '//')
}

export function parseServiceUrl (value: string, input: string): ServiceUrl {
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    throw new InputError(input, `'${redactUrl(value)}' is not a URL (expected e.g. http://127.0.0.1:5001 or https://host.example)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(input, `'${redactUrl(value)}' must be an http:// or https:// URL`)
  }
  let authorization: string | undefined
  if (url.username !== '' || url.password !== '') {
    const user = decodeURIComponent(url.username)
    const password = decodeURIComponent(url.password)
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
    addUserinfoSecret(url.username, url.password)
    addHeaderSecret(authorization)
    url.username = ''
    url.password = ''
  }
  url.hash = ''
  return { url, label: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, authorization }
}
