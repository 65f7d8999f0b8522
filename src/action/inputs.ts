import * as core from '@actions/core'
import { join } from 'node:path'
import { addHeaderSecret, addSecret, parseCid, parseHeaderLines, parseTagList, validateGatewayUrl, validateName, type CarScope, type DestinationSettings } from '../core/index.js'
import type { CID } from 'multiformats/cid'
import { parseSize } from '../core/size.js'
import { actionInputs, definition } from '../options/definitions.js'
import { containerCli } from '../options/container-cli.js'
import { checkOptionRules, parseBoolean, parseCarScope, parseMode, parseSeconds } from '../options/rules.js'
import { ipnsSettingsOf } from '../core/ipns/settings.js'
import { pinningSettingsOf } from '../core/pinning/settings.js'
import { dnsLinkSettingsOf } from '../core/dns/settings.js'
import type { IpnsSettings, RunMode } from '../core/ipns/settings.js'

/** Every input of action.yml, read and checked in one place. */
export interface ActionInputs {
  /** `publish` (default) or `republish` (no image: keep the IPNS name alive). */
  mode: RunMode
  image?: string
  /** The command that exports `image`: docker or podman. */
  containerCli?: string
  imageFile?: string
  name?: string
  tags: string[]
  description?: string
  previousRoot?: CID
  gateways: string[]
  previousCars: string[]
  carPath: string
  carScope: CarScope
  revision?: string
  summary: boolean
  tempDir: string
  maxDecompressedSize?: number
  destinations: DestinationSettings
}

function list (value: string): string[] {
  return value.split(/[\n,]/).map((s) => s.trim()).filter((s) => s.length > 0)
}

/** Credentials in a URL (https://user:token@host) are secrets: mask them before anything logs. */
function maskUrlCredentials (value: string): string {
  try {
    const url = new URL(value)
    if (url.password !== '') core.setSecret(decodeURIComponent(url.password))
    if (url.username !== '' && url.password === '') core.setSecret(decodeURIComponent(url.username))
  } catch {}
  return value
}

function boolean (name: string, fallback: boolean): boolean {
  const value = core.getInput(name).trim()
  return value === '' ? fallback : parseBoolean(value, name)
}

/**
 * Secret inputs: masked before anything else can print them, whole and line by line; with
 * `headers`, each line's value after `Name:` too (header lines, PEM blocks). A secret that is a
 * list of settings (the option's `settingsList`) is masked whole, and its tokens once parsed.
 */
function secret (name: string, lines: 'headers' | 'each' | 'whole' = 'headers'): string | undefined {
  const value = core.getInput(name)
  if (value.trim() === '') return undefined
  core.setSecret(value.trim())
  addSecret(value)
  if (lines === 'whole') return value
  for (const line of value.split(/\r?\n/)) {
    if (line.trim() === '') continue
    // A one-line value is masked above already.
    if (line.trim() !== value.trim()) core.setSecret(line.trim())
    if (lines === 'each') addSecret(line.trim())
    else if (!line.startsWith('-----')) addHeaderSecret(line.replace(/^[^:\s]+:\s*/, ''))
  }
  return value
}

function destinationSettings (tempDir: string): DestinationSettings {
  const settings: DestinationSettings = {}
  const headersText = secret('kubo-rpc-headers')
  const headers = headersText != null ? parseHeaderLines(headersText) : {}
  for (const value of Object.values(headers)) {
    core.setSecret(value)
    const token = value.split(/\s+/)[1]
    if (token != null) core.setSecret(token)
  }
  const url = optional('kubo-rpc-url')
  if (url != null) {
    maskUrlCredentials(url)
    const timeout = optional('kubo-timeout')
    const timeoutSeconds = timeout != null ? parseSeconds(timeout, 'kubo-timeout') : undefined
    settings.kubo = {
      url,
      headers,
      pinName: optional('kubo-pin-name'),
      unpinPrevious: boolean('unpin-previous', true),
      mfsPath: optional('kubo-mfs-path'),
      ...(timeoutSeconds != null ? { timeoutMs: timeoutSeconds * 1000 } : {})
    }
  }
  const ipns = ipnsSettings(tempDir)
  if (ipns != null) settings.ipns = ipns
  // Secret inputs are masked before they are read as settings.
  const secrets = new Set(actionInputs().filter((d) => d.type === 'secret').map((d) => d.key))
  const pinTimeout = optional('pin-timeout')
  const pinning = pinningSettingsOf(
    (key) => secrets.has(key) ? secret(key, definition(key)?.settingsList === true ? 'whole' : 'each')?.trim() : optional(key),
    (key) => list(core.getInput(key)).map(maskUrlCredentials),
    pinTimeout != null ? parseSeconds(pinTimeout, 'pin-timeout') * 1000 : undefined)
  // Tokens inside the pinning-services list are masked one by one too.
  for (const service of pinning.pinningServices ?? []) core.setSecret(service.token)
  const tsig = optional('rfc2136-tsig')
  if (tsig != null) core.setSecret(tsig.split(':').pop() as string)
  const dnslink = dnsLinkSettingsOf(
    (key) => secrets.has(key) ? secret(key, 'each')?.trim() : optional(key),
    (key) => optional(key) != null ? boolean(key, false) : undefined,
    (key) => list(core.getInput(key)).map(maskUrlCredentials))
  return { ...settings, ...pinning, ...(dnslink != null ? { dnslink } : {}) }
}

/**
 * The IPNS inputs; undefined when none names a key or a name. The signed record
 * is written to $RUNNER_TEMP/ipcr/ipns-record.bin unless ipns-record-path says where.
 */
function ipnsSettings (tempDir: string): IpnsSettings | undefined {
  const privateKey = secret('ipns-private-key')
  const recordPath = optional('ipns-record-path') ?? join(tempDir, 'ipcr', 'ipns-record.bin')
  return ipnsSettingsOf(privateKey, optional, (key) => list(core.getInput(key)).map(maskUrlCredentials), recordPath)}

function optional (name: string): string | undefined {
  const value = core.getInput(name).trim()
  return value === '' ? undefined : value
}

export function getInputs (env: NodeJS.ProcessEnv = process.env): ActionInputs {
  // Only the inputs of the option table (src/options/definitions.ts) are read.
  const known = new Set(actionInputs().map((d) => d.key))
  const given = (key: string): string | undefined => known.has(key) ? optional(key) : undefined
  const mode = parseMode(optional('mode'))
  checkOptionRules((key) => given(key) != null, given, mode)
  const tempDir = env.RUNNER_TEMP ?? env.TMPDIR ?? '/tmp'
  const destinations = destinationSettings(tempDir)
  const gateways = list(core.getInput('gateways')).map((g) => validateGatewayUrl(maskUrlCredentials(g)))
  if (mode === 'republish') {
    // No image: only the name, where its records are, and whether to summarise.
    return { mode, tags: [], gateways, previousCars: [], carPath: '', carScope: 'new', summary: boolean('summary', true), destinations, tempDir }
  }
  const image = optional('image')
  const imageFile = optional('image-file')
  const parsedTags = parseTagList(core.getInput('tags'))
  const carScope = parseCarScope(optional('car-scope'))
  const previous = optional('previous-root')
  const maxDecompressed = optional('max-decompressed-size')
  return {
    mode,
    ...(image != null ? { image, containerCli: containerCli(optional('container-cli'), env.PATH) } : {}),
    ...(imageFile != null ? { imageFile } : {}),
    name: optional('name') ?? (parsedTags.path != null ? validateName(parsedTags.path, 'tags') : undefined),
    tags: parsedTags.tags,
    description: optional('description'),
    ...(previous != null ? { previousRoot: parseCid(previous, 'previous-root') } : {}),
    gateways,
    previousCars: list(core.getInput('previous-car')),
    carPath: optional('car-path') ?? join(tempDir, 'ipcr', 'registry.car'),
    carScope,
    revision: optional('revision') ?? env.GITHUB_SHA,
    summary: boolean('summary', true),
    destinations,
    tempDir,
    ...(maxDecompressed != null ? { maxDecompressedSize: parseSize(maxDecompressed, 'max-decompressed-size') } : {})
  }
}
