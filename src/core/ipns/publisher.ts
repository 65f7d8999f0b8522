import type { PrivateKey } from '@libp2p/interface'
import { writeFile, mkdir, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { CID } from 'multiformats/cid'
import type { DestinationContext, NamePublisher, NameReport, NameSource } from '../destinations/types.js'
import { InputError, IpnsRecordError, NameMovedError, option, text } from '../errors.js'
import { silentLogger, type Logger, type OperationOptions } from '../logger.js'
import { ipnsDurations } from './settings.js'
import { KuboRecordStore } from './kubo-routing.js'
import { acquireLock, type Release } from '../kubo/lock.js'
import { ipnsNameOf, parsePrivateKey, signingKey, type PrivateKeyFile } from './keys.js'
import { lookupName, putEverywhere, type NameLookup } from './lookup.js'
import { parseIpnsName, type IpnsName } from './name.js'
import { signRecord, type IpnsRecordInfo } from './record.js'
import type { RecordStore } from './types.js'
import { sameRoot } from '../publish.js'

export interface IpnsNameConfig {
  /** The key records are signed with (secret); absent: the name is only read. */
  privateKey?: string | Uint8Array
  /** The name, when no key gives it (or to check the key against). */
  name?: string
  lifetime?: string
  ttl?: string
  /** Where records are read from and put to; gateways are read only. */
  stores: RecordStore[]
  /** Where the signed record is written. */
  recordPath?: string
}

/** The name of a config: the given name, else the key's; a key of another name is refused. */
export function configName (config: { privateKey?: string | Uint8Array, name?: string }): { name: IpnsName, key?: PrivateKeyFile } {
  const key = config.privateKey != null ? parsePrivateKey(config.privateKey) : undefined
  const fromKey = key != null ? parseIpnsName(ipnsNameOf(key), 'ipns-private-key') : undefined
  const given = config.name != null ? parseIpnsName(config.name) : undefined
  if (given != null && fromKey != null && given.text !== fromKey.text) {
    throw new InputError('ipns-name', text`${given.text} is not the name of ${option('ipns-private-key')} (its name is ${fromKey.text})`)
  }
  const name = given ?? fromKey
  if (name == null) throw new InputError('ipns-name', text`no IPNS name: give ${option('ipns-name')} or ${option('ipns-private-key')}`)
  return { name, ...(key != null ? { key } : {}) }
}

/** Reads the root an IPNS name holds, from every store at once; records are checked against the name. */
export class IpnsNameSource implements NameSource {
  readonly label: string
  readonly name: IpnsName
  constructor (readonly stores: RecordStore[], name: IpnsName, private readonly logger: Logger = silentLogger) {
    this.name = name
    this.label = `IPNS /ipns/${name.text}`
  }

  async lookup (options: OperationOptions = {}): Promise<NameLookup> {
    return await lookupName(this.name, this.stores, { signal: options.signal, logger: options.logger ?? this.logger })
  }

  async current (options: OperationOptions = {}): Promise<CID | null> {
    const found = await this.lookup(options)
    const record = found.current
    if (record == null) return null
    if (record.root == null) throw new IpnsRecordError(`${this.label} holds ${record.value}, not /ipfs/<cid>: it is not a registry root ipcr can update`)
    return record.root
  }
}

/**
 * IPNS without a daemon: records are signed here with the user's key and put
 * into every store that takes records (Kubo's routing, delegated routers).
 * The sequence is one more than the highest authentic record any store holds.
 */
export class IpnsPublisher implements NamePublisher {
  readonly kind = 'ipns'
  readonly label: string
  readonly source: IpnsNameSource
  private readonly key: PrivateKeyFile
  private readonly lifetimeMs: number
  private readonly ttlMs: number
  private signer?: PrivateKey

  constructor (private readonly config: IpnsNameConfig, private readonly logger: Logger = silentLogger) {
    const { name, key } = configName(config)
    if (key == null) throw new InputError('ipns-private-key', 'signing IPNS records here needs the key')
    this.key = key
    const { lifetimeMs, ttlMs } = ipnsDurations(config)
    this.lifetimeMs = lifetimeMs
    this.ttlMs = ttlMs
    if (!config.stores.some((s) => s.put != null)) {
      throw new InputError('ipns-private-key', text`a record signed here needs somewhere to go: set ${option('kubo-rpc-url')} or ${option('ipns-routers')}`)
    }
    this.source = new IpnsNameSource(config.stores, name, logger)
    this.label = `IPNS /ipns/${name.text}`
  }

  /** On the first Kubo node among the stores: publishes of this name that share it take turns. */
  async lock (options: OperationOptions): Promise<Release> {
    const kubo = this.config.stores.find((s): s is KuboRecordStore => s instanceof KuboRecordStore)
    if (kubo == null) return async () => {}
    return await acquireLock(kubo.rpc, this.source.name.text, { ...options, logger: options.logger ?? this.logger })
  }

  async preflight (options: OperationOptions): Promise<void> {
    // The key is read now, so a key that cannot sign fails before any work.
    this.signer = await signingKey(this.key)
    for (const store of this.config.stores) this.logger.info(`${this.label}: ${store.put != null ? 'read from and written to' : 'read from'} ${store.label}`)
  }

  async publish (context: DestinationContext): Promise<NameReport> {
    const signer = this.signer ?? await signingKey(this.key)
    const found = await this.source.lookup(context)
    const holds = found.current?.root ?? null
    if (context.nameExpected !== undefined && !sameRoot(holds, context.nameExpected)) {
      throw new NameMovedError(`${this.label} moved to ${holds?.toString() ?? 'nothing'} while this run published`, holds)
    }
    const sequence = (found.highestSequence ?? -1n) + 1n
    const record = await signRecord(signer, this.source.name, context.root, { sequence, lifetimeMs: this.lifetimeMs, ttlMs: this.ttlMs })
    return await putRecord(this.kind, this.label, record, this.config, context, this.logger)
  }
}

/** Writes the record file (when asked) and puts the record everywhere; fails unless every store took it. */
export async function putRecord (kind: string, label: string, record: IpnsRecordInfo, config: { stores: RecordStore[], recordPath?: string }, options: OperationOptions, logger: Logger): Promise<NameReport> {
  if (config.recordPath != null) await writeRecordFile(config.recordPath, record.bytes)
  const targets = await putEverywhere(record.name, record, config.stores, options)
  for (const t of targets) {
    if (t.ok) logger.info(`${label}: ${t.label}: ${t.detail}`)
    else logger.warn(`${label}: ${t.label}: ${t.detail}`)
  }
  const failed = targets.filter((t) => !t.ok)
  if (failed.length > 0) {
    const took = targets.filter((t) => t.ok).map((t) => t.label)
    throw new IpnsRecordError(`${label}: sequence ${record.sequence} was not accepted by ${failed.map((t) => `${t.label} (${t.detail})`).join('; ')}${took.length > 0 ? `; accepted by ${took.join(', ')}` : ''}`)
  }
  logger.info(`${label} → ${record.value} (sequence ${record.sequence}, valid until ${record.validity.toISOString()})`)
  return {
    kind,
    label,
    name: record.name.text,
    value: record.value,
    sequence: record.sequence.toString(),
    expires: record.validity.toISOString(),
    ...(config.recordPath != null ? { recordPath: config.recordPath } : {}),
    targets
  }
}

/** Written beside and renamed into place: a reader never sees half a record. */
async function writeRecordFile (path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const partial = `${path}.partial`
  await writeFile(partial, bytes)
  await rename(partial, path)
}
