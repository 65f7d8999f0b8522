import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../blocks/types.js'
import type { Destination, DestinationContext, DestinationReport } from '../destinations/types.js'
import { silentLogger, type Logger, type OperationOptions } from '../logger.js'
import { KuboBlockSource } from './block-source.js'
import { kuboConfig } from './config.js'
import { readMfsRoot, validateMfsPath, writeMfsRoot } from './mfs.js'
import { importCar, isPinned, pinNameOf, pinRecursive, pinsNamed, unpin } from './pins.js'
import { checkKubo } from './preflight.js'
import { KuboError, KuboRpc } from './rpc.js'
import { InputError } from '../errors.js'
import { hasControl } from '../escape.js'
import { remoteMessage } from '../redact.js'
import { DEFAULT_PIN_NAME } from '../destinations/defaults.js'

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
  /** The pins of pinName when this run began: the only ones cleanup may remove (a concurrent run's new pin is not among them). */
  private earlierPins: CID[] = []
  /** Roots this run pinned (more than one when its tags were re-applied onto a root another publish named). */
  private readonly ownPins: CID[] = []

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
    if (this.config.unpinPrevious !== false) this.earlierPins = await pinsNamed(this.rpc, this.pinName, options)
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
    this.ownPins.push(root)
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
    return this.config.pinName ?? DEFAULT_PIN_NAME
  }

  /**
   * Removes the pins named pinName that were there when this run began, but the new
   * root's: the previous root's, and any an earlier run left behind when it failed
   * after pinning. Pins made since (by a publish running at the same time) stay.
   */
  async cleanup (context: DestinationContext): Promise<void> {
    if (this.config.unpinPrevious === false) return
    const options = { signal: context.signal }
    const now = await pinsNamed(this.rpc, this.pinName, options)
    const removable = [...this.earlierPins, ...this.ownPins]
    const stale = now.filter((cid) => !cid.equals(context.root) && removable.some((e) => e.equals(cid)))
    const later = now.filter((cid) => !cid.equals(context.root) && !removable.some((e) => e.equals(cid)))
    if (later.length > 0) this.logger.info(`${this.label}: ${later.length} pin(s) named '${this.pinName}' made since this run began stay (another publish's): ${later.join(', ')}`)
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
