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

/**
 * The URL of a multiaddr as Kubo prints and takes them (its `api` file,
 * `Addresses.API`): /ip4|ip6|dns|dns4|dns6/HOST/tcp/PORT, then optionally
 * /http, /https or /tls/http. Returns undefined when `value` is not one.
 */
export function multiaddrToUrl (value: string): string | undefined {
  const parts = value.trim().replace(/\/+$/, '').split('/')
  if (parts[0] !== '' || parts.length < 5 || parts[3] !== 'tcp') return undefined
  const [, protocol, host = '', , port = ''] = parts
  const rest = parts.slice(5).join('/')
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535 || host === '') return undefined
  let hostname: string
  if (protocol === 'ip4' && /^\d{1,3}(\.\d{1,3}){3}$/.test(host)) hostname = host
  else if (protocol === 'ip6' && /^[0-9A-Fa-f:.]+$/.test(host) && host.includes(':')) hostname = `[${host}]`
  else if ((protocol === 'dns' || protocol === 'dns4' || protocol === 'dns6') && /^[A-Za-z0-9.-]+$/.test(host)) hostname = host
  else return undefined
  const scheme = rest === '' || rest === 'http' ? 'http' : rest === 'https' || rest === 'tls/http' ? 'https' : undefined
  if (scheme == null) return undefined
  return `${scheme}://${hostname}:${port}`
}

export function parseServiceUrl (value: string, input: string): ServiceUrl {
  let url: URL
  const text = value.trim()
  const fromMultiaddr = text.startsWith('/') ? multiaddrToUrl(text) : undefined
  if (text.startsWith('/') && fromMultiaddr == null) {
    throw new InputError(input, `'${redactUrl(value)}' is not a URL nor a multiaddr ipcr can reach (expected e.g. http://127.0.0.1:5001, /ip4/127.0.0.1/tcp/5001 or /dns4/host.example/tcp/443/https)`)
  }
  try {
    url = new URL(fromMultiaddr ?? text)
  } catch {
    throw new InputError(input, `'${redactUrl(value)}' is not a URL (expected e.g. http://127.0.0.1:5001, /ip4/127.0.0.1/tcp/5001 or https://host.example)`)
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

/** `base` with `path` appended to its path (the base's trailing slashes dropped first); its query kept. */
export function urlUnder (base: URL | string, path: string): URL {
  const url = new URL(base)
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`
  return url
}
