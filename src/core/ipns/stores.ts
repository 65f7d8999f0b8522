import { kuboConfig } from '../kubo/config.js'
import { KuboRpc } from '../kubo/rpc.js'
import type { Logger } from '../logger.js'
import { DelegatedRouterStore } from './delegated-router.js'
import { GatewayRecordStore } from './gateway-records.js'
import { KuboRecordStore } from './kubo-routing.js'
import type { IpnsSettings } from './settings.js'
import type { RecordStore } from './types.js'

/** Where a registry's IPNS records are read and put: the Kubo node, the routers, then (read only) the gateways. */
export function recordStores (settings: Pick<IpnsSettings, 'routers' | 'gateways'>, kubo?: KuboRpc): RecordStore[] {
  return [
    ...(kubo != null ? [new KuboRecordStore(kubo)] : []),
    ...(settings.routers ?? []).map((url) => new DelegatedRouterStore(url)),
    ...(settings.gateways ?? []).map((url) => new GatewayRecordStore(url))
  ]
}

/** Where names are read from, as the pull side names them: a Kubo node to connect to, routers, gateways. */
export interface NameStoreOptions {
  kubo?: { url: string, headers?: Record<string, string>, timeoutMs?: number }
  routers?: string[]
  gateways?: string[]
}

/** recordStores of a Kubo node given by URL (no Kubo destination at hand). */
export function nameStores (options: NameStoreOptions, logger?: Logger): RecordStore[] {
  const kubo = options.kubo != null ? new KuboRpc(kuboConfig(options.kubo), logger) : undefined
  return recordStores({ routers: options.routers ?? [], gateways: options.gateways ?? [] }, kubo)
}
