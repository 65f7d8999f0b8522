import { ResponseTooLargeError } from '../errors.js'
import { readBody } from '../http.js'
import { KuboStatusError, type KuboRpc } from '../kubo/rpc.js'
import type { AbortOptions } from '../logger.js'
import { tooLargeRecord } from './http-records.js'
import type { IpnsName } from './name.js'
import { MAX_RECORD_BYTES } from './record.js'
import type { RecordStore } from './types.js'

/** Kubo's answer (HTTP 500, JSON message) to `routing/get` of a key no peer has a record for. */
const NOT_FOUND = 'routing: not found'

/** The JSON answer to routing/get: `{"ID":"","Type":5,"Responses":null,"Extra":"<base64 of the record>"}`. */
const MAX_ANSWER = Math.ceil((MAX_RECORD_BYTES + 1) / 3) * 4 + 1024

/** routing.Value, the type of the event that carries the record. */
const VALUE_EVENT = 5

const TOO_LARGE = Symbol('too large')

/**
 * A Kubo node's routing (DHT and whatever else it routes through, and its own
 * datastore): `routing/get` and `routing/put` of `/ipns/<name>`. Any valid
 * record is accepted by put; no key inside Kubo is needed.
 *
 * An offline node (`ipfs daemon --offline`) answers every routing/get with
 * "this action must be run in online mode": that is a failure, never "no record".
 */
export class KuboRecordStore implements RecordStore {
  readonly label: string

  constructor (readonly rpc: KuboRpc) {
    this.label = rpc.label
  }

  async get (name: IpnsName, options: AbortOptions = {}): Promise<Uint8Array | null> {
    const key = `/ipns/${name.text}`
    const answer = await this.rpc.call(`routing/get ${key}`, async (signal) => {
      let response: Response
      try {
        response = await this.rpc.post('routing/get', { args: [key], signal })
      } catch (err) {
        if (err instanceof KuboStatusError && err.status === 500 && err.fromKubo) {
          if (err.message.trim() === NOT_FOUND) return null
          if (/must be run in online mode/.test(err.message)) {
            throw new KuboStatusError(`${err.message} (an offline Kubo node cannot read IPNS records: start it without --offline)`, err.status, true)
          }
        }
        throw err
      }
      let body: Uint8Array
      try {
        body = await readBody(response, MAX_ANSWER, 'the answer to routing/get')
      } catch (err) {
        if (err instanceof ResponseTooLargeError) return TOO_LARGE
        throw err
      }
      return decodeValue(new TextDecoder().decode(body))
    }, options)
    if (answer === TOO_LARGE || (answer != null && answer.byteLength > MAX_RECORD_BYTES)) throw tooLargeRecord(name, this.label)
    return answer
  }

  async put (name: IpnsName, record: Uint8Array, options: AbortOptions = {}): Promise<void> {
    const form = new FormData()
    form.append('file', new Blob([record]), 'record')
    await this.rpc.json('routing/put', {
      args: [`/ipns/${name.text}`],
      params: { 'allow-offline': true },
      body: form
    }, { ...options, description: `routing/put /ipns/${name.text}` })
  }
}

/** The record bytes in routing/get's JSON event; anything else is Kubo answering unlike 0.43. */
function decodeValue (text: string): Uint8Array {
  let event: { Type?: unknown, Extra?: unknown }
  try {
    event = JSON.parse(text.trim().split('\n')[0] ?? '')
  } catch {
    throw new KuboStatusError('routing/get answered something that is not JSON', 502, true)
  }
  const extra = event?.Extra
  if (event?.Type !== VALUE_EVENT || typeof extra !== 'string' || extra === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(extra)) {
    throw new KuboStatusError(`routing/get answered an event without a value (type ${String(event?.Type).slice(0, 20)})`, 502, true)
  }
  return Buffer.from(extra, 'base64')
}
