import { stat } from 'node:fs/promises'
import { CID } from 'multiformats/cid'
import type { AbortOptions, Logger, OperationOptions } from '../logger.js'
import { RedirectError, ResponseTooLargeError } from '../errors.js'
import { remoteMessage } from '../redact.js'
import { postFile, type UploadAnswer } from '../upload.js'
import { KuboError, KuboStatusError, type KuboRpc } from './rpc.js'

export interface ImportedRoot {
  cid: CID
  /** Why Kubo could not pin the root on import (e.g. blocks it does not have yet), if it could not. */
  pinError?: string
}

export interface ImportOptions extends OperationOptions {
  /**
   * Pin the CAR's roots (unnamed) and report them; default true. False leaves
   * pinning to a named `pin add`, so a failure in between leaves no unnamed pin.
   */
  pinRoots?: boolean
}

/**
 * `dag import` of a CAR file, streamed. With pinRoots, Kubo reports (and pins)
 * the roots it read from the CAR header; the caller checks them against its own root.
 */
export async function importCar (rpc: KuboRpc, path: string, options: ImportOptions = {}): Promise<ImportedRoot[]> {
  const { size } = await stat(path)
  return await rpc.call('dag/import', async (signal) => await postCar(rpc, path, size, signal, options.pinRoots ?? true, options.logger), options)
}

/**
 * POSTs the CAR as a multipart body piped through node:http(s) (upload.ts postFile). Not
 * kubo-rpc-client's dag.import nor fetch(): Node 20's fetch keeps every chunk of a streamed
 * request body until the request ends, so a 300 MiB CAR held 300 MiB of memory. Socket
 * errors are reported as fetch() reports them (TypeError 'fetch failed', cause: the socket
 * error) and HTTP errors as KuboStatusError, so KuboRpc.call maps and retries them as any other call.
 */
async function postCar (rpc: KuboRpc, path: string, size: number, signal: AbortSignal, pinRoots: boolean, logger?: Logger): Promise<ImportedRoot[]> {
  const url = rpc.commandUrl('dag/import', [], { 'pin-roots': pinRoots })
  let answer: UploadAnswer
  try {
    answer = await postFile(url, size, { label: rpc.label, headers: rpc.config.headers, path, filename: 'registry.car', maxBytes: MAX_IMPORT_ANSWER, signal, ...(logger != null ? { logger } : {}) })
  } catch (err: any) {
    throw signal.aborted || err?.name === 'AbortError' || err instanceof ResponseTooLargeError || err instanceof RedirectError ? err : new TypeError('fetch failed', { cause: err })
  }
  const trailer = answer.trailers['x-stream-error']
  return parseImport({
    status: answer.status,
    contentType: String(answer.headers['content-type'] ?? ''),
    text: answer.text,
    ...(trailer != null ? { trailer } : {}),
    ...(answer.statusMessage != null ? { statusMessage: answer.statusMessage } : {})
  })
}

interface ImportAnswer { status: number, contentType: string, text: string, trailer?: string, statusMessage?: string }

/** Largest dag/import answer read (one line per root, and stats). */
const MAX_IMPORT_ANSWER = 1024 * 1024

function parseImport ({ status, contentType, text, trailer, statusMessage }: ImportAnswer): ImportedRoot[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '').map((l) => { try { return JSON.parse(l) } catch { return { Message: l } } })
  const streamError = trailer ?? lines.find((l) => l?.Type === 'error')?.Message
  if (status !== 200 || streamError != null) {
    const message = String(streamError ?? lines[0]?.Message ?? (text !== '' ? text : statusMessage ?? ''))
    throw new KuboStatusError(remoteMessage(message), status === 200 ? 500 : status, contentType.startsWith('application/json'))
  }
  return lines.filter((l) => l?.Root != null).map(({ Root }) => {
    const pinError = typeof Root.PinErrorMsg === 'string' && Root.PinErrorMsg !== '' ? remoteMessage(Root.PinErrorMsg) : undefined
    return { cid: CID.parse(String(Root.Cid?.['/'])), ...(pinError != null ? { pinError } : {}) }
  })
}

/** Pins `cid` recursively under `name`; the pin holds when this returns. */
export async function pinRecursive (rpc: KuboRpc, cid: CID, name: string, options: AbortOptions = {}): Promise<void> {
  await rpc.json('pin/add', { args: [cid.toString()], params: { recursive: true, name } }, options)
}

export async function isPinned (rpc: KuboRpc, cid: CID, options: AbortOptions = {}): Promise<boolean> {
  try {
    const answer = await rpc.json<{ Keys?: Record<string, unknown> }>('pin/ls', { args: [cid.toString()], params: { type: 'recursive' } }, options)
    return Object.keys(answer?.Keys ?? {}).some((key) => {
      try {
        return CID.parse(key).equals(cid)
      } catch {
        return false
      }
    })
  } catch (err) {
    if (err instanceof KuboError && /not pinned/.test(err.message)) return false
    throw err
  }
}

/** Removes a recursive pin; a pin that is already gone is not an error. */
export async function unpin (rpc: KuboRpc, cid: CID, options: AbortOptions = {}): Promise<boolean> {
  try {
    await rpc.json('pin/rm', { args: [cid.toString()] }, options)
    return true
  } catch (err) {
    if (err instanceof KuboError && /not pinned/.test(err.message)) return false
    throw err
  }
}

/** The recursive pins named exactly `name` (Kubo's `--name` filter matches substrings). */
export async function pinsNamed (rpc: KuboRpc, name: string, options: AbortOptions = {}): Promise<CID[]> {
  const answer = await rpc.json<{ Keys?: Record<string, { Name?: unknown } | undefined> }>('pin/ls', { params: { type: 'recursive', names: true, name } }, { ...options, description: `pin/ls --name='${name}'` })
  const found: CID[] = []
  for (const [key, pin] of Object.entries(answer?.Keys ?? {})) {
    if (pin?.Name !== name) continue
    try {
      found.push(CID.parse(key))
    } catch {
      throw new KuboError(`${rpc.label}: pin/ls answered with something that is not a CID: ${remoteMessage(key, 80)}`)
    }
  }
  return found
}

/** The name of `cid`'s recursive pin ('' when unnamed), or undefined when it has none. */
export async function pinNameOf (rpc: KuboRpc, cid: CID, options: AbortOptions = {}): Promise<string | undefined> {
  try {
    const answer = await rpc.json<{ Keys?: Record<string, { Name?: unknown } | undefined> }>('pin/ls', { args: [cid.toString()], params: { type: 'recursive', names: true } }, options)
    const entry = Object.entries(answer?.Keys ?? {}).find(([key]) => {
      try {
        return CID.parse(key).equals(cid)
      } catch {
        return false
      }
    })
    return entry != null ? String(entry[1]?.Name ?? '') : undefined
  } catch (err) {
    if (err instanceof KuboError && /not pinned/.test(err.message)) return undefined
    throw err
  }
}
