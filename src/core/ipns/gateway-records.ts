import { quote } from '../escape.js'
import { readText } from '../http.js'
import type { AbortOptions } from '../logger.js'
import { validateGatewayUrl } from '../sources.js'
import { parseServiceUrl, urlUnder } from '../url.js'
import { IPNS_RECORD_TYPE, MAX_ERROR_TEXT, readRecordBody, requestRecord, storeError, type HttpEndpoint, type HttpRecordOptions } from './http-records.js'
import type { IpnsName } from './name.js'
import type { RecordStore } from './types.js'

/** What Kubo's (boxo's) gateway answers, with HTTP 500, for a name the routing system has no record of. */
const ROUTING_NOT_FOUND = 'routing: not found'

export interface GatewayRecordOptions extends HttpRecordOptions {
  /** The option the URL came from, for errors; default gateways. */
  input?: string
}

/**
 * A trustless gateway's records (`GET /ipns/{name}?format=ipns-record`):
 * read-only. No record is a 404, or a 500 whose body is exactly boxo's
 * `routing: not found` (what Kubo 0.43's gateway answers for an unknown name).
 */
export class GatewayRecordStore implements RecordStore {
  readonly label: string
  private readonly base: URL
  private readonly endpoint: HttpEndpoint

  constructor (url: string, private readonly options: GatewayRecordOptions = {}) {
    const service = parseServiceUrl(validateGatewayUrl(url, options.input ?? 'gateways'), options.input ?? 'gateways')
    this.base = service.url
    this.label = `gateway ${service.label}`
    // As for blocks: without credentials, a redirect to another origin (a subdomain gateway) may be followed.
    this.endpoint = { label: this.label, headers: service.authorization != null ? { authorization: service.authorization } : {}, anonymous: service.authorization == null }
  }

  async get (name: IpnsName, options: AbortOptions = {}): Promise<Uint8Array | null> {
    const url = urlUnder(this.base, `/ipns/${name.text}`)
    url.searchParams.set('format', 'ipns-record')
    const what = `GET /ipns/${name.text}?format=ipns-record`
    return await requestRecord<Uint8Array | null>(this.endpoint, url, { method: 'GET', headers: { accept: IPNS_RECORD_TYPE }, what }, async (response) => {
      if (response.status === 404) {
        await response.body?.cancel().catch(() => {})
        return { value: null }
      }
      if (response.status === 500) {
        const text = await readText(response, MAX_ERROR_TEXT)
        return text.trim() === ROUTING_NOT_FOUND ? { value: null } : { error: true, text }
      }
      if (response.status !== 200) return { error: true }
      const type = response.headers.get('content-type') ?? ''
      if (!type.toLowerCase().includes(IPNS_RECORD_TYPE)) {
        await response.body?.cancel().catch(() => {})
        throw storeError(this.label, `${what} answered ${type === '' ? 'no Content-Type' : `Content-Type ${quote(type, 80)}`}, not an IPNS record (the gateway does not serve ?format=ipns-record)`)
      }
      return { value: await readRecordBody(response, name, this.label) }
    }, this.options, options)
  }
}
