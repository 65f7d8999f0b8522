import { randomBytes } from 'node:crypto'
import { silentLogger, type OperationOptions } from '../logger.js'
import { remoteMessage } from '../redact.js'
import { sleep } from '../retry.js'
import { KuboError, type KuboRpc } from './rpc.js'

/** MFS folder of the locks: beside, never inside, a registry's kubo-mfs-path. */
export const LOCKS_PATH = '/.ipcr-locks'

export interface LockOptions extends OperationOptions {
  /** How long a lock is honoured; a waiter breaks one older than this (its holder died). Default 5 minutes. */
  expiresAfterMs?: number
  /** How long to wait for another holder; default 10 minutes. */
  waitMs?: number
}

export type Release = () => Promise<void>

function exists (err: unknown): boolean {
  return err instanceof KuboError && /already exists/i.test(err.message)
}

function gone (err: unknown): boolean {
  return err instanceof KuboError && /does not exist|not found/i.test(err.message)
}

/**
 * A lock on a Kubo node, for publishes that share it: `files mkdir` of one
 * MFS folder succeeds for exactly one caller. Inside it, a folder named by the
 * holder's expiry and a random id says who holds it and until when.
 */
export async function acquireLock (rpc: KuboRpc, key: string, options: LockOptions = {}): Promise<Release> {
  const logger = options.logger ?? silentLogger
  const { signal } = options
  const path = `${LOCKS_PATH}/${key}`
  const expiresAfterMs = options.expiresAfterMs ?? 5 * 60_000
  const waitMs = options.waitMs ?? 10 * 60_000
  const marker = `${Date.now() + expiresAfterMs}-${randomBytes(8).toString('hex')}`
  const call = async (command: string, args: string[], params: Record<string, boolean> = {}): Promise<unknown> =>
    await rpc.json(command, { args, params }, { signal, description: `${command} ${args.join(' ')}` })
  await call('files/mkdir', [LOCKS_PATH], { parents: true })
  const started = Date.now()
  let emptySince: number | undefined
  for (let attempt = 0; ; attempt++) {
    try {
      await call('files/mkdir', [path])
      await call('files/mkdir', [`${path}/${marker}`])
      return async () => {
        // Only our own lock is removed (a waiter may have broken it as expired).
        if ((await holders(rpc, path, signal)).includes(marker)) await call('files/rm', [path], { recursive: true, force: true })
      }
    } catch (err) {
      if (!exists(err)) throw err
    }
    const held = await holders(rpc, path, signal)
    const holder = held[0]
    const now = Date.now()
    // No marker yet: its holder is between its two mkdirs, or died there.
    if (holder == null) emptySince ??= now
    else emptySince = undefined
    const expiry = holder != null ? Number(holder.split('-')[0]) : (emptySince as number) + expiresAfterMs
    if (Number.isFinite(expiry) && expiry < now) {
      logger.warn(`${rpc.label}: breaking the lock ${path}, expired at ${new Date(expiry).toISOString()} (its holder stopped without releasing it)`)
      const broken = `${path}.broken-${randomBytes(4).toString('hex')}`
      try {
        await call('files/mv', [path, broken])
        await call('files/rm', [broken], { recursive: true, force: true })
      } catch (err) {
        if (!gone(err)) throw err
      }
      continue
    }
    if (now - started > waitMs) {
      throw new KuboError(`${rpc.label}: another publish holds the lock ${path} (until ${Number.isFinite(expiry) ? new Date(expiry).toISOString() : remoteMessage(holder ?? '', 40)}); waited ${Math.round(waitMs / 1000)} s. If no publish is running, remove it: ipfs files rm -r ${path}`)
    }
    if (attempt === 0) logger.info(`${rpc.label}: waiting for another publish of the same name (lock ${path})`)
    await sleep(Math.min(1000, 25 * 1.5 ** Math.min(attempt, 12)), signal)
  }
}

/** The marker folders inside a lock ([] when it is gone or being taken). */
async function holders (rpc: KuboRpc, path: string, signal?: AbortSignal): Promise<string[]> {
  try {
    const answer = await rpc.json<{ Entries?: Array<{ Name?: unknown }> | null }>('files/ls', { args: [path] }, { signal, description: `files/ls ${path}` })
    return (answer?.Entries ?? []).map((e) => String(e?.Name))
  } catch (err) {
    if (gone(err)) return []
    throw err
  }
}
