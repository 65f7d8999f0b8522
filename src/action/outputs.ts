import * as core from '@actions/core'
import { formatBytes, pullCommand, gatewayUrl, type PipelineResult } from '../core/index.js'

/** Sets every output of action.yml, in one place. */
export function setOutputs (result: PipelineResult, gateways: string[]): void {
  const pull = pullCommand(result)
  const url = gatewayUrl(result, gateways)
  core.setOutput('root-cid', result.rootCid)
  core.setOutput('image-cid', result.imageCid)
  core.setOutput('digest', result.digest)
  core.setOutput('car-path', result.car.path)
  core.setOutput('pull-command', pull)
  core.setOutput('gateway-url', url)
  core.setOutput('ipns-name', result.names.find((n) => n.kind.endsWith('ipns'))?.name ?? '')
  core.setOutput('metadata', JSON.stringify({ ...result, pullCommand: pull, gatewayUrl: url }))
}

export async function writeSummary (result: PipelineResult, gateways: string[]): Promise<void> {
  const rows = result.tags.map((t) => [`${result.name}:${t.tag}`, `<code>${t.cid}</code>`])
  await core.summary
    .addHeading(`Published ${result.name} to IPFS`, 3)
    .addTable([
      [{ data: 'What', header: true }, { data: 'Value', header: true }],
      ['Registry root', `<code>${result.rootCid}</code>`],
      ...rows,
      ['Digest', `<code>${result.digest}</code>`],
      ['Platforms', result.platforms.join(', ')],
      ['Image size', formatBytes(result.size)],
      ['Source format', result.sourceFormat],
      ['CAR', `${result.car.path} (${result.car.scope}: ${result.car.blocks} blocks, ${formatBytes(result.car.bytes)})`],
      ...(result.previousRoot != null ? [['Previous root', `<code>${result.previousRoot}</code>`], ['Blobs already in the previous root', String(result.reusedBlobs)]] : []),
      ...result.destinations.map((d) => [`Stored in ${d.label}`, Object.entries(d.details).map(([k, v]) => `${k}: ${String(v)}`).join(', ')]),
      ...result.names.map((n) => [n.label, `<code>/ipns/${n.name}</code> → <code>${n.value}</code>`])
    ])
    .addHeading('Pull', 4)
    .addCodeBlock(pullCommand(result), 'sh')
    .addLink('Open the tag folder on a gateway', gatewayUrl(result, gateways))
    .write()
}
