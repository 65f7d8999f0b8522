import { InputError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { parseServiceUrl, redactUrl, urlUnder } from '../url.js'
import { IPNS_RECORD_TYPE, readRecordBody, requestRecord, type HttpEndpoint, type HttpRecordOptions } from './http-records.js'
import type { IpnsName } from './name.js'
import type { RecordStore } from './types.js'

export interface DelegatedRouterOptions extends HttpRecordOptions {
  /** The option the URL came from, for errors; default ipns-routers. */
  input?: string
}

/**
 * A Delegated Routing V1 HTTP API endpoint (IPIP-379): `GET` and `PUT
 * /routing/v1/ipns/{name}` with the raw record. "No record" is a 404 or,
 * since IPIP-513 (Kubo 0.39+, boxo), a 200 whose Content-Type is not an IPNS record.
 */
export class DelegatedRouterStore implements RecordStore {
  readonly label: string
  private readonly base: URL
  private readonly endpoint: HttpEndpoint

  constructor (url: string, private readonly options: DelegatedRouterOptions = {}) {
    const input = options.input ?? 'ipns-routers'
    const service = parseServiceUrl(url, input)
    if (url.includes('#')) throw new InputError(input, `'${redactUrl(url.trim())}' has a fragment (#…); give the router's base URL, e.g. https://router.example`)
    if (service.url.search !== '') throw new InputError(input, `'${redactUrl(url.trim())}' has a query (?…); give the router's base URL, e.g. https://router.example (ipcr adds /routing/v1/ipns/{name})`)
    this.base = service.url
    this.label = `router ${service.label}`
    this.endpoint = { label: this.label, headers: service.authorization != null ? { authorization: service.authorization } : {}, anonymous: false }
  }

  private url (name: IpnsName): URL {
    const url = urlUnder(this.base, `/routing/v1/ipns/${name.text}`)
    return url
  }

  async get (name: IpnsName, options: AbortOptions = {}): Promise<Uint8Array | null> {
    return await requestRecord<Uint8Array | null>(this.endpoint, this.url(name), { method: 'GET', headers: { accept: IPNS_RECORD_TYPE }, what: `GET /routing/v1/ipns/${name.text}` }, async (response) => {
      const isRecord = (response.headers.get('content-type') ?? '').toLowerCase().includes(IPNS_RECORD_TYPE)
      if (response.status === 404 || (response.status === 200 && !isRecord)) {
        await response.body?.cancel().catch(() => {})
        return { value: null }
      }
      if (response.status === 200) return { value: await readRecordBody(response, name, this.label) }
      return { error: true }
    }, this.options, options)
  }

  async put (name: IpnsName, record: Uint8Array, options: AbortOptions = {}): Promise<void> {
    await requestRecord<undefined>(this.endpoint, this.url(name), { method: 'PUT', body: record, headers: { 'content-type': IPNS_RECORD_TYPE }, what: `PUT /routing/v1/ipns/${name.text}` }, async (response) => {
      if (!response.ok) return { error: true }
      await response.body?.cancel().catch(() => {})
      return { value: undefined }
    }, this.options, options)
  }
}
