import type { PipelineResult } from './pipeline.js'
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

/** True when a destination (a Kubo node, …) stored the new root; else the content is only in the CAR. */
export function isStored (result: PublishResult & Partial<PipelineResult>): boolean {
  return (result.destinations ?? []).length > 0
}

/** A word for a POSIX shell: left bare when safe, else single-quoted. */
export function shellWord (text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`
}

/** The pull command for a run; when no node holds the root, it imports the run's CAR into the local node first. */
export function pullCommandFor (result: PublishResult & Partial<PipelineResult>): string {
  const pull = pullCommand(result)
  return isStored(result) || result.car.path == null ? pull : `ipfs dag import ${shellWord(result.car.path)} && ${pull}`
}

/** The tag folder on a gateway, or '' while no node holds the root (no gateway could serve it). */
export function gatewayUrlFor (result: PublishResult & Partial<PipelineResult>, gateways: string[]): string {
  return isStored(result) ? gatewayUrl(result, gateways) : ''
}
