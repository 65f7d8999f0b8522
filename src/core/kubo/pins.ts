import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CID } from 'multiformats/cid'
import type { AbortOptions, OperationOptions } from '../logger.js'
import { Progress } from '../progress.js'
import { KuboError, type KuboRpc } from './rpc.js'

export interface ImportedRoot {
  cid: CID
  /** Why Kubo could not pin the root on import (e.g. blocks it does not have yet), if it could not. */
  pinError?: string
}

/**
 * `dag import` of a CAR file, streamed. Kubo reports (and pins) the roots it
 * read from the CAR header; the caller checks them against its own root.
 */
export async function importCar (rpc: KuboRpc, path: string, options: OperationOptions = {}): Promise<ImportedRoot[]> {
  const { size } = await stat(path)
  return await rpc.call('dag/import', async (signal) => {
    const progress = options.logger != null ? new Progress(options.logger, `sent to ${rpc.label}`, size) : undefined
    return await postCar(rpc, path, size, signal, progress)
  }, options)
}

/**
 * POSTs the CAR as a multipart body piped through node:http(s). Not kubo-rpc-client's
 * dag.import nor fetch(): Node 20's fetch keeps every chunk of a streamed request body
 * until the request ends, so a 300 MiB CAR held 300 MiB of memory; a piped request lets
 * each chunk go once written, and waits while Kubo does not read. Socket errors are
 * reported as fetch() reports them (TypeError 'fetch failed', cause: the socket error)
 * and HTTP errors with a `response`, so KuboRpc.call maps and retries them as any other call.
 */
async function postCar (rpc: KuboRpc, path: string, size: number, signal: AbortSignal, progress?: Progress): Promise<ImportedRoot[]> {
  const url = new URL(`${rpc.config.url.href.replace(/\/+$/, '')}/api/v0/dag/import`)
  url.searchParams.set('pin-roots', 'true')
  const boundary = `ipcr-${randomBytes(12).toString('hex')}`
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="registry.car"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
    method: 'POST',
    signal,
    headers: { ...rpc.config.headers, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(head.length + size + tail.length) }
  })
  const body = Readable.from((async function * () {
    yield head
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
      progress?.add(chunk.byteLength)
      yield chunk
    }
    progress?.finish()
    yield tail
  })())
  const sent = pipeline(body, request)
  sent.catch(() => {}) // a refused request ends the upload early: the response says why
  let response: IncomingMessage
  try {
    response = await new Promise<IncomingMessage>((resolve, reject) => {
      request.once('response', resolve)
      request.once('error', reject)
    })
  } catch (err: any) {
    throw signal.aborted || err?.name === 'AbortError' ? err : new TypeError('fetch failed', { cause: err })
  }
  let text = ''
  try {
    response.setEncoding('utf8')
    for await (const chunk of response) text += chunk as string
    if (response.statusCode === 200) await sent
  } catch (err: any) {
    throw signal.aborted || err?.name === 'AbortError' ? err : new TypeError('fetch failed', { cause: err })
  }
  const status = response.statusCode ?? 0
  const contentType = String(response.headers['content-type'] ?? '')
  const lines = text.split('\n').filter((l) => l.trim() !== '').map((l) => { try { return JSON.parse(l) } catch { return { Message: l } } })
  const streamError = response.trailers['x-stream-error'] ?? lines.find((l) => l?.Type === 'error')?.Message
  if (status !== 200 || streamError != null) {
    const error: any = new Error(String(streamError ?? lines[0]?.Message ?? (text.slice(0, 300) || response.statusMessage)))
    error.response = { status: status === 200 ? 500 : status, headers: new Headers({ 'content-type': contentType }) }
    throw error
  }
  return lines.filter((l) => l?.Root != null).map(({ Root }) => {
    const pinError = typeof Root.PinErrorMsg === 'string' && Root.PinErrorMsg !== '' ? Root.PinErrorMsg as string : undefined
    return { cid: CID.parse(String(Root.Cid?.['/'])), ...(pinError != null ? { pinError } : {}) }
  })
}

/** Pins `cid` recursively under `name`; the pin holds when this returns. */
export async function pinRecursive (rpc: KuboRpc, cid: CID, name: string, options: AbortOptions = {}): Promise<void> {
  await rpc.call(`pin/add ${cid}`, async (signal) => {
    await rpc.client.pin.add(cid, { recursive: true, name, signal })
  }, options)
}

export async function isPinned (rpc: KuboRpc, cid: CID, options: AbortOptions = {}): Promise<boolean> {
  try {
    return await rpc.call(`pin/ls ${cid}`, async (signal) => {
      for await (const pin of rpc.client.pin.ls({ paths: [cid], type: 'recursive', signal })) {
        if (pin.cid.toString() === cid.toString()) return true
      }
      return false
    }, options)
  } catch (err) {
    if (err instanceof KuboError && /not pinned/.test(err.message)) return false
    throw err
  }
}

/** Removes a recursive pin; a pin that is already gone is not an error. */
export async function unpin (rpc: KuboRpc, cid: CID, options: AbortOptions = {}): Promise<boolean> {
  try {
    await rpc.call(`pin/rm ${cid}`, async (signal) => { await rpc.client.pin.rm(cid, { signal }) }, options)
    return true
  } catch (err) {
    if (err instanceof KuboError && /not pinned/.test(err.message)) return false
    throw err
  }
}
