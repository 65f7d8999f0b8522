import * as core from '@actions/core'
import { formatBytes, htmlText, pullCommand, gatewayUrl, type PipelineResult } from '../core/index.js'

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

/** Inline code in a summary cell. */
function code (text: string): string {
  return `<code>${htmlText(text)}</code>`
}

/**
 * The job summary. Names, descriptions, platforms and destination details
 * come from images, previous roots and remote services: every piece of text
 * is escaped here (HTML and Markdown), and only this function adds markup.
 */
export async function writeSummary (result: PipelineResult, gateways: string[]): Promise<void> {
  const text = htmlText
  const rows = result.tags.map((t) => [text(`${result.name}:${t.tag}`), code(t.cid)])
  await core.summary
    .addHeading(`Published ${text(result.name)} to IPFS`, 3)
    .addTable([
      [{ data: 'What', header: true }, { data: 'Value', header: true }],
      ['Registry root', code(result.rootCid)],
      ...rows,
      ...(result.description != null ? [['Description', text(result.description)]] : []),
      ['Digest', code(result.digest)],
      ['Platforms', text(result.platforms.join(', '))],
      ['Image size', text(formatBytes(result.size))],
      ['Source format', text(result.sourceFormat)],
      ['CAR', text(`${result.car.path} (${result.car.scope}: ${result.car.blocks} blocks, ${formatBytes(result.car.bytes)})`)],
      ...(result.previousRoot != null ? [['Previous root', code(result.previousRoot)], ['Blobs already in the previous root', text(String(result.reusedBlobs))]] : []),
      ...result.destinations.map((d) => [text(`Stored in ${d.label}`), text(Object.entries(d.details).map(([k, v]) => `${k}: ${String(v)}`).join(', '))]),
      ...result.names.map((n) => [text(n.label), `${code(`/ipns/${n.name}`)} → ${code(n.value)}`])
    ])
    .addHeading('Pull', 4)
    .addCodeBlock(text(pullCommand(result)), 'sh')
    .addLink('Open the tag folder on a gateway', text(gatewayUrl(result, gateways)))
    .write()
}
