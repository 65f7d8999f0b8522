import type { KuboRpc } from '../kubo/rpc.js'
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
