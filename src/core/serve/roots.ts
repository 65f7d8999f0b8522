import type { CID } from 'multiformats/cid'
import { NameNotFoundError } from '../errors.js'
import { remoteMessage } from '../redact.js'
import { RegistryError } from './errors.js'
import type { NamedRegistry, RootResolver } from '../registry/resolve.js'
import { trimOldest } from './bounded.js'
import { SharedCalls } from '../shared-calls.js'

/** Least time a resolved root is kept, so a TTL of 0 does not mean a lookup per request. */
export const MIN_ROOT_TTL_MS = 1000
/** Most time a resolved root is kept, whatever TTL the name gives. */
export const MAX_ROOT_TTL_MS = 60 * 60 * 1000
/** Names kept at once. */
const MAX_NAMES = 1000

function keyOf (registry: NamedRegistry): string {
  return registry.kind === 'ipns' ? `ipns/${registry.name}` : registry.domain
}

/**
 * Roots of named registries, each kept for its TTL (bounded by MIN/MAX_ROOT_TTL_MS) and looked
 * up again after it, so a new publish shows up without a restart. Concurrent requests for one
 * name share one lookup; a failed lookup is not kept.
 */
export class RootCache {
  private readonly roots = new Map<string, { root: CID, expires: number }>()
  private readonly lookups = new SharedCalls<CID>()

  constructor (private readonly resolve: RootResolver | undefined, private readonly now: () => number = Date.now) {}

  /** The root `registry` names now. The lookup is shared, so no one request's signal stops it. */
  async get (registry: NamedRegistry): Promise<CID> {
    const key = keyOf(registry)
    const kept = this.roots.get(key)
    if (kept != null && kept.expires > this.now()) return kept.root
    const resolve = this.resolve
    if (resolve == null) throw new RegistryError(404, 'NAME_UNKNOWN', 'this server resolves no IPNS names or DNSLink domains', { name: key })
    return await this.lookups.run(key, async () => {
      const { root, ttlMs } = await resolve(registry, {}).catch((err: unknown) => {
        if (err instanceof RegistryError) throw err
        if (err instanceof NameNotFoundError) throw new RegistryError(404, 'NAME_UNKNOWN', err.message, { name: key })
        throw new RegistryError(503, 'UNAVAILABLE', `${key} could not be resolved: ${remoteMessage(err instanceof Error ? err.message : String(err), 200)}`, { name: key })
      })
      const ttl = Math.min(MAX_ROOT_TTL_MS, Math.max(MIN_ROOT_TTL_MS, Number.isFinite(ttlMs) ? ttlMs : 0))
      this.roots.delete(key)
      this.roots.set(key, { root, expires: this.now() + ttl })
      trimOldest(this.roots, MAX_NAMES)
      return root
    })
  }
}
