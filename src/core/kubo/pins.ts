import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { CID } from 'multiformats/cid'
import type { AbortOptions, OperationOptions } from '../logger.js'
import { Progress } from '../progress.js'
import { KuboError, type KuboRpc } from './rpc.js'

async function * carBytes (path: string, progress?: Progress): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    progress?.add(chunk.byteLength)
    yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  }
  progress?.finish()
}

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
    const roots: ImportedRoot[] = []
    const progress = options.logger != null ? new Progress(options.logger, `sent to ${rpc.label}`, size) : undefined
    for await (const { root } of rpc.client.dag.import([carBytes(path, progress)], { pinRoots: true, signal })) {
      const pinError = root.pinErrorMsg != null && root.pinErrorMsg !== '' ? root.pinErrorMsg : undefined
      roots.push({ cid: CID.parse(root.cid.toString()), ...(pinError != null ? { pinError } : {}) })
    }
    return roots
  }, options)
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
