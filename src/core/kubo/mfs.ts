import { CID } from 'multiformats/cid'
import { InputError } from '../errors.js'
import type { AbortOptions } from '../logger.js'
import { KuboError, type KuboRpc } from './rpc.js'

export function validateMfsPath (path: string, input = 'kubo-mfs-path'): string {
  if (!path.startsWith('/') || path === '/' || path.split('/').some((p) => p === '.' || p === '..')) {
    throw new InputError(input, `'${path}' is not an MFS folder path (expected an absolute path such as /ipcr, not /)`)
  }
  return path.replace(/\/+$/, '')
}

/** The CID at an MFS path, or null when nothing is there yet. */
export async function readMfsRoot (rpc: KuboRpc, path: string, options: AbortOptions = {}): Promise<CID | null> {
  try {
    const stat = await rpc.json<{ Hash?: unknown }>('files/stat', { args: [path] }, options)
    return CID.parse(String(stat.Hash))
  } catch (err) {
    // A 404 is no Kubo RPC API at all (e.g. a gateway), not an empty path.
    if (err instanceof KuboError && err.status !== 404 && /does not exist|not found/i.test(err.message)) return null
    throw err
  }
}

/**
 * Points an MFS path at `cid`, replacing what was there. `files cp` is lazy
 * (Kubo fetches nothing) and cannot overwrite a folder, so the new tree goes
 * to a sibling path first and is moved into place.
 */
export async function writeMfsRoot (rpc: KuboRpc, path: string, cid: CID, options: AbortOptions = {}): Promise<void> {
  const staging = `${path}.ipcr-new`
  await removeMfs(rpc, staging, options)
  await rpc.json('files/cp', { args: [`/ipfs/${cid}`, staging], params: { parents: true } }, options)
  await removeMfs(rpc, path, options)
  await rpc.json('files/mv', { args: [staging, path] }, options)
}

async function removeMfs (rpc: KuboRpc, path: string, options: AbortOptions): Promise<void> {
  await rpc.json('files/rm', { args: [path], params: { recursive: true, force: true } }, options)
}
