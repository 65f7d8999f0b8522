import type { AbortOptions } from '../logger.js'
import { remoteMessage } from '../redact.js'
import { KuboError, type KuboRpc } from './rpc.js'

/** Kubo 0.40 added the unixfs-v1-2025 profile (IPIP-499) that ipcr builds trees with. */
export const MIN_KUBO_VERSION = [0, 40, 0] as const

function parseVersion (version: string): number[] {
  return version.split('-')[0]!.split('.').map((n) => Number.parseInt(n, 10))
}

export function versionAtLeast (version: string, min: readonly number[]): boolean {
  const parts = parseVersion(version)
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0
    const b = min[i] ?? 0
    if (Number.isNaN(a)) return false
    if (a !== b) return a > b
  }
  return true
}

/** Checks that the endpoint answers, accepts the credentials and is new enough. Returns its version. */
export async function checkKubo (rpc: KuboRpc, options: AbortOptions = {}): Promise<string> {
  const answer = await rpc.json<{ Version?: unknown }>('version', {}, options)
  const version = String(answer.Version ?? '')
  if (!versionAtLeast(version, MIN_KUBO_VERSION)) {
    throw new KuboError(`${rpc.label}: Kubo ${remoteMessage(version, 40)} is too old: ipcr needs Kubo ${MIN_KUBO_VERSION.join('.')} or newer (the unixfs-v1-2025 profile)`)
  }
  return version
}
