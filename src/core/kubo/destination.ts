import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../blocks/types.js'
import type { Destination, DestinationContext, DestinationReport, NamePublisher, NameReport } from '../destinations/types.js'
import { silentLogger, type Logger, type OperationOptions } from '../logger.js'
import { KuboBlockSource } from './block-source.js'
import { kuboConfig } from './config.js'
import { ensureKey, findKey, publishName } from './ipns.js'
import { parseDuration } from '../ipns/duration.js'
import { parsePrivateKey, type PrivateKeyFile } from '../ipns/keys.js'
import { readMfsRoot, validateMfsPath, writeMfsRoot } from './mfs.js'
import { importCar, isPinned, pinNameOf, pinRecursive, pinsNamed, unpin } from './pins.js'
import { checkKubo } from './preflight.js'
import { KuboError, KuboRpc } from './rpc.js'
import { InputError, option, text } from '../errors.js'
import { hasControl } from '../escape.js'
import { remoteMessage } from '../redact.js'

export interface KuboDestinationConfig {
  url: string
  headers?: Record<string, string>
  /**
   * Pin name; default `ipcr registry`. It names this registry on the node: after a
   * successful run every other pin of this name is removed, so give each registry
   * sharing a node its own pin name.
   */
  pinName?: string
  /** Remove the other pins of pinName (earlier roots) once the new root is pinned and every name moved; default true. */
  unpinPrevious?: boolean
  /** MFS folder that holds the registry root, as the original recipe's `.ipcr` folder. */
  mfsPath?: string
  timeoutMs?: number
  retries?: number
  retryDelayMs?: number
}

/** A Kubo node (local daemon or remote RPC endpoint) as destination and block source. */
export class KuboDestination implements Destination {
  readonly kind = 'kubo'
  /** Kubo takes the new blocks as a CAR (`dag import`). */
  readonly needsCar = true
  readonly label: string
  readonly rpc: KuboRpc
  private readonly mfsPath?: string
  private version = ''

  constructor (private readonly config: KuboDestinationConfig, private readonly logger: Logger = silentLogger) {
    this.rpc = new KuboRpc(kuboConfig(config), logger)
    this.label = this.rpc.label
    if (config.mfsPath != null) this.mfsPath = validateMfsPath(config.mfsPath)
    if (config.pinName != null && (config.pinName.trim() === '' || config.pinName.length > 255 || hasControl(config.pinName))) {
      // Every other pin of this name is removed after a run: an empty name would match unnamed pins.
      throw new InputError('kubo-pin-name', 'expected a name of 1 to 255 characters, without control characters')
    }
  }

  async preflight (options: OperationOptions): Promise<void> {
    this.version = await checkKubo(this.rpc, options)
    this.logger.info(`${this.label}: Kubo ${this.version}`)
  }

  sources (): BlockSource[] {
    return [new KuboBlockSource(this.rpc)]
  }

  async previousRoot (options: OperationOptions): Promise<CID | null> {
    if (this.mfsPath == null) return null
    const root = await readMfsRoot(this.rpc, this.mfsPath, options)
    this.logger.info(root == null ? `${this.label}: ${this.mfsPath} is empty: starting a new registry` : `${this.label}: previous root ${root} from MFS ${this.mfsPath}`)
    return root
  }

  async store (context: DestinationContext): Promise<DestinationReport> {
    const { root, result } = context
    const options = { signal: context.signal }
    if (context.carPath == null) throw new Error(`${this.label}: no CAR to import (the pipeline writes one for destinations that need it)`)
    // Not pinned on import (that pin would have no name, and a failure before the named
    // pin below would leave it for ever): `pin add` pins the root under the pin name.
    await importCar(this.rpc, context.carPath, { ...options, logger: this.logger, pinRoots: false })
    // Returns once the whole DAG is pinned (blocks of a previous root the CAR leaves out are fetched).
    const pinName = this.pinName
    await pinRecursive(this.rpc, root, pinName, options)
    if (!(await isPinned(this.rpc, root, options))) {
      throw new KuboError(`${this.label}: pin add returned but ${root} is not pinned`)
    }
    const blocks = result.car.blocks
    this.logger.info(`${this.label}: imported ${blocks} blocks and pinned ${root} as '${pinName}'`)
    return { kind: this.kind, label: this.label, details: { version: this.version, pinned: root.toString(), pinName, importedBlocks: blocks } }
  }

  async point (context: DestinationContext): Promise<void> {
    if (this.mfsPath == null) return
    await writeMfsRoot(this.rpc, this.mfsPath, context.root, { signal: context.signal })
    this.logger.info(`${this.label}: MFS ${this.mfsPath} → ${context.root}`)
  }

  private get pinName (): string {
    return this.config.pinName ?? 'ipcr registry'
  }

  /**
   * Removes every pin named pinName but the new root's: the previous root's, and
   * any an earlier run left behind when it failed after pinning.
   */
  async cleanup (context: DestinationContext): Promise<void> {
    if (this.config.unpinPrevious === false) return
    const options = { signal: context.signal }
    const stale = (await pinsNamed(this.rpc, this.pinName, options)).filter((cid) => !cid.equals(context.root))
    const removed: CID[] = []
    for (const cid of stale) if (await unpin(this.rpc, cid, options)) removed.push(cid)
    this.logger.info(removed.length === 0
      ? `${this.label}: no other pin named '${this.pinName}' to remove`
      : `${this.label}: removed ${removed.length} earlier pin(s) named '${this.pinName}': ${removed.join(', ')}`)
    const previous = context.previousRoot
    if (previous != null && !previous.equals(context.root) && !stale.some((cid) => cid.equals(previous))) {
      const other = await pinNameOf(this.rpc, previous, options)
      if (other != null) this.logger.info(`${this.label}: the previous root ${previous} stays pinned: its pin is named '${remoteMessage(other, 80)}', not '${this.pinName}'`)
    }
  }
}

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

  constructor (private readonly rpc: KuboRpc, private readonly config: KuboIpnsConfig, private readonly logger: Logger = silentLogger) {
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
    if (this.privateKey != null) {
      await ensureKey(this.rpc, this.config.key, this.privateKey, options)
      return
    }
    if ((await findKey(this.rpc, this.config.key, options)) == null) {
      throw new InputError('ipns-key', text`${this.rpc.label} has no key named '${this.config.key}' (create it with 'ipfs key gen ${this.config.key}' or give ${option('ipns-private-key')})`)
    }
  }

  async publish (context: DestinationContext): Promise<NameReport> {
    const name = await publishName(this.rpc, this.config.key, context.root, { signal: context.signal, lifetime: this.lifetime })
    this.logger.info(`IPNS /ipns/${name} → /ipfs/${context.root}`)
    return { kind: this.kind, label: this.label, name, value: `/ipfs/${context.root}` }
  }
}
