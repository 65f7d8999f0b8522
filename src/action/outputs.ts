import * as core from '@actions/core'
import { describeReport, formatBytes, gatewayUrl, gatewayUrlFor, htmlText, isStored, pullCommandFor, type DestinationReport, type NameReport, type PipelineResult } from '../core/index.js'
import type { RepublishResult } from '../core/ipns/republish.js'

/** Sets every output of action.yml, in one place. */
export function setOutputs (result: PipelineResult, gateways: string[]): void {
  const pull = pullCommandFor(result)
  const url = gatewayUrlFor(result, gateways)
  core.setOutput('root-cid', result.rootCid)
  core.setOutput('image-cid', result.imageCid)
  core.setOutput('digest', result.digest)
  core.setOutput('imageid', result.imageId)
  core.setOutput('car-path', result.car.path)
  core.setOutput('pull-command', pull)
  core.setOutput('gateway-url', url)
  setIpnsOutputs(ipnsReport(result.names))
  const dnslink = result.names.find((n) => n.kind === 'dnslink')
  core.setOutput('dnslink-record', dnslink?.value ?? '')
  core.setOutput('dnslink-changed', dnslink != null ? String(dnslink.changed === true) : '')
  core.setOutput('metadata', JSON.stringify({ ...result, stored: isStored(result), pullCommand: pull, gatewayUrl: url }))
}

/** The IPNS name report the outputs come from: the one signed here ('ipns'), else the keystore's ('kubo-ipns'). */
export function ipnsReport (names: readonly NameReport[]): NameReport | undefined {
  return names.find((n) => n.kind === 'ipns') ?? names.find((n) => n.kind === 'kubo-ipns')
}

/** ipns-name, ipns-sequence, ipns-expires, ipns-record-path: empty when no IPNS name moved. */
function setIpnsOutputs (report: NameReport | undefined): void {
  core.setOutput('ipns-name', report?.name ?? '')
  core.setOutput('ipns-sequence', report?.sequence ?? '')
  core.setOutput('ipns-expires', report?.expires ?? '')
  core.setOutput('ipns-record-path', report?.recordPath ?? '')
}

/** The outputs of `mode: republish`. */
export function setRepublishOutputs (result: RepublishResult): void {
  setIpnsOutputs(result)
  core.setOutput('metadata', JSON.stringify(result))
}

/** Inline code in a summary cell. */
function code (text: string): string {
  return `<code>${htmlText(text)}</code>`
}

const sourceFormats: Record<string, string> = {
  'docker-archive': 'docker save archive',
  'docker-oci-archive': 'docker save archive (Docker 25+, OCI layout inside)',
  'oci-layout': 'OCI image layout'
}

function stored (d: DestinationReport): string {
  return htmlText(describeReport(d))
}

function carText (result: PipelineResult): string {
  const { car } = result
  const what = car.scope === 'full' ? 'the whole registry' : result.previousRoot != null ? 'only the blocks this publish added' : 'the whole registry (a new one)'
  return `${car.path}: ${what}, ${car.blocks} blocks, ${formatBytes(car.bytes)}`
}

/** A name's rows: the name and its value, its sequence and expiry, then one row per place it was written to. */
function nameRows (n: NameReport): string[][] {
  const shown = n.kind === 'dnslink' ? n.name : `/ipns/${n.name}`
  const change = n.changed != null ? htmlText(n.changed ? ' (changed)' : ' (unchanged: it already held this)') : ''
  const rows = [[htmlText(n.label), `${code(shown)} → ${code(n.value)}${change}`]]
  const record = [n.sequence != null ? `sequence ${n.sequence}` : '', n.expires != null ? `valid until ${n.expires}` : ''].filter((p) => p !== '')
  if (record.length > 0) rows.push([htmlText(`${n.label}: record`), htmlText(record.join(', '))])
  if (n.recordPath != null) rows.push([htmlText(`${n.label}: record file`), code(n.recordPath)])
  for (const t of n.targets ?? []) rows.push([htmlText(`${n.label} → ${t.label}`), htmlText(`${t.ok ? 'ok' : 'failed'}: ${t.detail}`)])
  return rows
}

/** The job summary of `mode: republish`: the name, its value, whether it was re-signed and why, and each place it went. */
export async function writeRepublishSummary (result: RepublishResult): Promise<void> {
  const text = htmlText
  await core.summary
    .addHeading(`Republished ${text(`/ipns/${result.name}`)}`, 3)
    .addRaw(`<p>${text(result.reason)}</p>`, true)
    .addTable([
      [{ data: 'What', header: true }, { data: 'Value', header: true }],
      ['Name', code(`/ipns/${result.name}`)],
      ['Value', code(result.value)],
      ['Re-signed', text(result.resigned ? 'yes' : 'no: the existing record was put again unchanged')],
      ...(result.sequence != null ? [['Sequence', text(result.sequence)]] : []),
      ...(result.expires != null ? [['Valid until', text(result.expires)]] : []),
      ...(result.recordPath != null ? [['Record file', code(result.recordPath)]] : []),
      ...(result.targets ?? []).map((t) => [text(t.label), text(`${t.ok ? 'ok' : 'failed'}: ${t.detail}`)])
    ])
    .write()
}

/**
 * The job summary. Names, descriptions, platforms and destination details
 * come from images, previous roots and remote services: every piece of text
 * is escaped here (HTML and Markdown), and only this function adds markup.
 */
export async function writeSummary (result: PipelineResult, gateways: string[]): Promise<void> {
  const text = htmlText
  const rows = result.tags.map((t) => [text(`${result.name}:${t.tag}`), code(t.cid)])
  const partial = result.car.scope === 'new' && result.reusedBlobs > 0
  const where = isStored(result)
    ? result.destinations.map((d) => [text(`${d.ok === false ? 'Not stored in' : 'Stored in'} ${d.label}`), stored(d)])
    : [['Stored in', text('nothing yet: the content is only in the CAR')]]
  const summary = core.summary
    .addHeading(`Published ${text(result.name)} to IPFS`, 3)
  if (!isStored(result)) {
    summary.addRaw(`<p>${text(`Nothing stored this root: the content is only in the CAR at ${result.car.path}${partial ? `, and ${result.reusedBlobs} blobs it shares with the previous root are in that root's CAR or node` : ''}. No IPFS node or gateway has it until the CAR is imported into a node (ipfs dag import) or uploaded to a pinning service; keep it (actions/cache or upload-artifact) to update the registry in the next run (previous-car).`)}</p>`, true)
  }
  summary.addTable([
    [{ data: 'What', header: true }, { data: 'Value', header: true }],
    ['Registry root', code(result.rootCid)],
    ...rows,
    ...(result.description != null ? [['Description', text(result.description)]] : []),
    ['Image ID', code(result.imageId)],
    ['Digest', code(result.digest)],
    ['Platforms', text(result.platforms.join(', '))],
    ['Image size', text(formatBytes(result.size))],
    ['Read from', text(sourceFormats[result.sourceFormat] ?? result.sourceFormat)],
    ['CAR', text(carText(result))],
    ...(result.previousRoot != null ? [['Previous root', code(result.previousRoot)], ['Blobs reused from the previous root', text(String(result.reusedBlobs))]] : []),
    ...where,
    ...result.names.flatMap(nameRows)
  ])
    .addHeading('Pull', 4)
    .addCodeBlock(text(pullCommandFor(result)), 'sh')
  if (isStored(result)) {
    summary.addLink('Open the tag folder on a gateway', text(gatewayUrl(result, gateways)))
  } else {
    summary.addRaw(`<p>${text('Gateway link: not available yet (no node holds this root).')}</p>`, true)
  }
  await summary.write()
}

/** When required destinations failed: one row per destination, so the summary says which and how the others did. */
export async function writeStoreFailure (reports: DestinationReport[]): Promise<void> {
  await core.summary
    .addHeading('Not published: a required destination failed', 3)
    .addRaw(`<p>${htmlText('No name moved. Every destination finished first; each one:')}</p>`, true)
    .addTable([
      [{ data: 'Destination', header: true }, { data: 'Outcome', header: true }],
      ...reports.map((d) => [htmlText(d.label), stored(d)])
    ])
    .write()
}
