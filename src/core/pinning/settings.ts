import { InputError, option, text as message } from '../errors.js'
import { parseServiceUrl } from '../url.js'
import type { ClusterConfig } from './cluster.js'
import { parsePinningServices, type PinningServiceConfig } from './services.js'
import type { W3upConfig } from './w3up.js'

/** Where pinning services fetch this run's blocks from. */
export interface NetworkSettings {
  /** Multiaddrs of peers that have the blocks (e.g. a Kubo node): no embedded node then. */
  origins?: string[]
  /** Where the embedded node listens; default /ip4/0.0.0.0/tcp/0. */
  listen?: string[]
}

/** The remote pinning options, as both shells read them. */
export interface PinningSettings {
  pinningServices?: PinningServiceConfig[]
  cluster?: ClusterConfig
  w3up?: W3upConfig
  network?: NetworkSettings
}

/** An integer count as the cluster takes it: -1 (every peer) or 1 and more. */
function replication (value: string | undefined, key: string): number | undefined {
  if (value == null) return undefined
  const n = Number(value.trim())
  if (!/^-?\d+$/.test(value.trim()) || !(n === -1 || n >= 1)) throw new InputError(key, `'${value}' is not a replication factor (expected -1 for every peer, or 1 or more)`)
  return n
}

/**
 * Reads the pinning options through a shell's readers: `text(key)` an option's text (secrets
 * included, already masked by the shell), `list(key)` its items; `timeoutMs` is pin-timeout.
 */
export function pinningSettingsOf (text: (key: string) => string | undefined, list: (key: string) => string[], timeoutMs?: number): PinningSettings {
  const settings: PinningSettings = {}
  const pinName = text('pin-name')
  const common = { ...(pinName != null ? { pinName } : {}), ...(timeoutMs != null ? { timeoutMs } : {}) }
  const services: PinningServiceConfig[] = []
  const endpoint = text('pinning-service-endpoint')
  const token = text('pinning-service-token')
  if (endpoint != null || token != null) {
    if (endpoint == null) throw new InputError('pinning-service-token', message`set ${option('pinning-service-endpoint')} too (the token is sent there)`)
    if (token == null) throw new InputError('pinning-service-endpoint', message`set ${option('pinning-service-token')} too (a pinning service needs its access token)`)
    services.push({ name: parseServiceUrl(endpoint, 'pinning-service-endpoint').url.hostname, endpoint, token, input: 'pinning-service-endpoint', ...common })
  }
  const many = text('pinning-services')
  if (many != null) services.push(...parsePinningServices(many, 'pinning-services').map((s) => ({ ...common, ...s })))
  const names = new Set<string>()
  for (const s of services) {
    if (names.has(s.name)) throw new InputError('pinning-services', `two pinning services are named '${s.name}' (give each its own name)`)
    names.add(s.name)
  }
  if (services.length > 0) settings.pinningServices = services
  const clusterUrl = text('cluster-api-url')
  const clusterAuth = text('cluster-api-auth')
  const min = replication(text('cluster-replication-min'), 'cluster-replication-min')
  const max = replication(text('cluster-replication-max'), 'cluster-replication-max')
  if (clusterUrl == null && (clusterAuth != null || min != null || max != null)) {
    throw new InputError('cluster-api-url', message`${option('cluster-api-auth')} and the replication factors need ${option('cluster-api-url')}`)
  }
  if (clusterUrl != null) {
    settings.cluster = { url: clusterUrl, ...(clusterAuth != null ? { auth: clusterAuth } : {}), ...(min != null ? { replicationMin: min } : {}), ...(max != null ? { replicationMax: max } : {}), ...common }
  }
  const key = text('w3up-key')
  const proof = text('w3up-proof')
  const serviceUrl = text('w3up-service-url')
  const serviceDid = text('w3up-service-did')
  if (key != null || proof != null || serviceUrl != null || serviceDid != null) {
    if (key == null || proof == null) throw new InputError(key == null ? 'w3up-key' : 'w3up-proof', message`w3up needs both ${option('w3up-key')} (the agent) and ${option('w3up-proof')} (its delegation)`)
    settings.w3up = { key, proof, ...(serviceUrl != null ? { serviceUrl } : {}), ...(serviceDid != null ? { serviceDid } : {}), ...(timeoutMs != null ? { timeoutMs } : {}) }
  }
  const origins = list('pin-origins')
  const listen = list('pin-listen')
  if (origins.length > 0 || listen.length > 0) settings.network = { ...(origins.length > 0 ? { origins } : {}), ...(listen.length > 0 ? { listen } : {}) }
  return settings
}
