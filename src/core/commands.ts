import type { PublishResult } from './publish.js'
import { ipfsPath } from './registry/layout.js'
import { registryPaths } from './registry/layout.js'
import { parseServiceUrl } from './url.js'

/** The original recipe, for the first published tag. */
export function pullCommand (result: PublishResult): string {
  const tag = result.tags[0]?.tag ?? 'latest'
  const dir = `${result.name.replace(/\//g, '_')}_${tag}`
  const path = ipfsPath(result.rootCid, registryPaths.tag(result.name, tag))
  return `ipfs get -o ${dir} ${path} && tar -C ${dir} -cf - . | docker load`
}

export const defaultGateway = 'https://ipfs.io'

export function gatewayUrl (result: PublishResult, gateways: string[]): string {
  const tag = result.tags[0]?.tag ?? 'latest'
  return `${parseServiceUrl(gateways[0] ?? defaultGateway, 'gateways').label}${ipfsPath(result.rootCid, registryPaths.tag(result.name, tag))}/`
}
