import { CID } from 'multiformats/cid'
import type { DestinationContext, NamePublisher, NameReport, NameSource } from '../destinations/types.js'
import { InputError, IpnsRecordError, option, text } from '../errors.js'
import { ensureKey, findKey, publishName } from '../kubo/ipns.js'
import { acquireLock, type Release } from '../kubo/lock.js'
import { KuboError, type KuboRpc } from '../kubo/rpc.js'
import { remoteMessage } from '../redact.js'
import { silentLogger, type Logger, type OperationOptions } from '../logger.js'
import { parseDuration } from './duration.js'
import { parsePrivateKey, type PrivateKeyFile } from './keys.js'
import { KuboRecordStore } from './kubo-routing.js'
import { putEverywhere } from './lookup.js'
import { parseIpnsName, type IpnsName } from './name.js'
import { inspectRecord } from './record.js'
import type { RecordStore } from './types.js'

export interface KuboIpnsConfig {
  /** Name of the key in Kubo's keystore. */
  key: string
  /** Imported under `key` when the keystore lacks it: PEM PKCS#8 or base64 libp2p protobuf. */
  privateKey?: string | Uint8Array
  /** Record lifetime in Go duration syntax (`48h`, `1h30m`); checked in the constructor. */
  lifetime?: string
}

/** IPNS through Kubo's keystore: `name publish --key`. */
export class KuboIpnsPublisher implements NamePublisher {
  readonly kind = 'kubo-ipns'
  readonly label: string
  private readonly privateKey?: PrivateKeyFile
  private readonly lifetime?: string

  /** Set by preflight, once the key's name is known. */
  source?: KuboNameSource

  /** `routers`: stores the record Kubo signed is also put to (delegated routers). */
  constructor (private readonly rpc: KuboRpc, private readonly config: KuboIpnsConfig, private readonly routers: RecordStore[] = [], private readonly logger: Logger = silentLogger) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(config.key)) throw new InputError('ipns-key', `'${config.key}' is not a key name (expected letters, digits, '.', '_' or '-')`)
    if (config.key === 'self') throw new InputError('ipns-key', "'self' is the node's identity; use a dedicated key for the registry")
    if (config.lifetime != null) {
      parseDuration(config.lifetime, 'ipns-lifetime')
      this.lifetime = config.lifetime.trim()
    }
    if (config.privateKey != null) this.privateKey = parsePrivateKey(config.privateKey)
    this.label = `IPNS key '${config.key}' on ${rpc.label}`
  }

  async preflight (options: OperationOptions): Promise<void> {
    const id = this.privateKey != null
      ? await ensureKey(this.rpc, this.config.key, this.privateKey, options)
      : await findKey(this.rpc, this.config.key, options)
    if (id == null) {
      throw new InputError('ipns-key', text`${this.rpc.label} has no key named '${this.config.key}' (create it with 'ipfs key gen ${this.config.key}' or give ${option('ipns-private-key')})`)
    }
    this.source = new KuboNameSource(this.rpc, parseIpnsName(id, 'ipns-key'))
  }

  /** Publishes of this key's name on this node take turns. */
  async lock (options: OperationOptions): Promise<Release> {
    const name = this.source?.name.text ?? this.config.key
    return await acquireLock(this.rpc, name, { ...options, logger: options.logger ?? this.logger })
  }

  async publish (context: DestinationContext): Promise<NameReport> {
    const name = await publishName(this.rpc, this.config.key, context.root, { signal: context.signal, lifetime: this.lifetime })
    this.logger.info(`IPNS /ipns/${name} → /ipfs/${context.root}`)
    const report: NameReport = { kind: this.kind, label: this.label, name, value: `/ipfs/${context.root}`, targets: [{ label: this.rpc.label, ok: true, detail: 'name publish' }] }
    if (this.routers.length === 0) return report
    // The record Kubo signed also goes to the routers.
    const ipnsName = parseIpnsName(name, 'ipns-key')
    const bytes = await new KuboRecordStore(this.rpc).get(ipnsName, context)
    if (bytes == null) throw new InputError('ipns-key', `${this.rpc.label} published /ipns/${name} but routing get does not return its record`)
    const record = await inspectRecord(ipnsName, bytes, { source: this.rpc.label })
    const targets = await putEverywhere(ipnsName, record, this.routers, context)
    const failed = targets.filter((t) => !t.ok)
    if (failed.length > 0) throw new InputError('ipns-routers', `the record of /ipns/${name} was not accepted by ${failed.map((t) => `${t.label} (${t.detail})`).join('; ')}`)
    return { ...report, sequence: record.sequence.toString(), expires: record.validity.toISOString(), targets: [...(report.targets ?? []), ...targets] }
  }
}

/**
 * The root a keystore name holds, as the node itself resolves it from its own
 * records (`name resolve --offline --nocache`: works on an offline node too).
 */
export class KuboNameSource implements NameSource {
  readonly label: string
  constructor (private readonly rpc: KuboRpc, readonly name: IpnsName) {
    this.label = `IPNS /ipns/${name.text} on ${rpc.label}`
  }

  async current (options: OperationOptions = {}): Promise<CID | null> {
    let answer: { Path?: unknown }
    try {
      answer = await this.rpc.json<{ Path?: unknown }>('name/resolve', {
        args: [`/ipns/${this.name.text}`],
        params: { offline: true, nocache: true, recursive: false }
      }, { signal: options.signal, description: 'name/resolve --offline' })
    } catch (err) {
      // Kubo's answer for a name it has no record of.
      if (err instanceof KuboError && /could not resolve name|not found/i.test(err.message)) return null
      throw err
    }
    const path = String(answer?.Path)
    const match = /^\/ipfs\/([A-Za-z0-9]+)$/.exec(path)
    if (match == null) throw new IpnsRecordError(`${this.label} holds ${remoteMessage(path, 120)}, not /ipfs/<cid>: it is not a registry root ipcr can update`)
    try {
      return CID.parse(match[1] as string)
    } catch {
      throw new IpnsRecordError(`${this.label} holds ${remoteMessage(path, 120)}, which is not a CID`)
    }
  }
}
