import { mkdtemp } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { BlockCache, dagPbOnly } from './blocks/cache.js'
import { CarBlockSource } from './blocks/car-source.js'
import { FirstSource } from './blocks/multi.js'
import type { BlockSink, BlockSource } from './blocks/types.js'
import { CarFileWriter } from './car/writer.js'
import type { Destination, DestinationContext, DestinationReport, NamePublisher, NameReport, NameSource } from './destinations/types.js'
import { IpcrError, NameMovedError } from './errors.js'
import { registerTemporary, removeTemporary } from './interrupt.js'
import { silentLogger, type Logger } from './logger.js'
import { fanOut, publishWithPatch, sameRoot, type KeptCar, type PublishOptions, type PublishResult } from './publish.js'
import { applyPatch, hasTags, type RegistryPatch } from './registry/patch.js'
import { walkDag } from './unixfs/tree.js'
import { serveBlocks } from './pinning/serve.js'
import type { NetworkSettings } from './pinning/settings.js'

export interface PipelineOptions extends PublishOptions {
  destinations?: Destination[]
  names?: NamePublisher[]
  /** A name only read (no key to publish it): the previous root comes from it. */
  nameSource?: NameSource
  /** How destinations that fetch blocks over IPFS get them (pin-origins, pin-listen). */
  network?: NetworkSettings
  /** How many times this run's tags are re-applied onto a root another publish moved the name to; default 5. */
  maxRebases?: number
}

export interface PipelineResult extends PublishResult {
  destinations: DestinationReport[]
  names: NameReport[]
  /** Roots another publish moved the name to while this one ran, onto which this run's tags were re-applied. */
  rebasedOnto?: string[]
}

/** Required destinations failed to store the root (the others finished first); `reports` says how each did. */
export class StoreFailedError extends IpcrError {
  constructor (message: string, readonly reports: DestinationReport[]) {
    super('ERR_STORE_FAILED', message)
  }
}

/**
 * Stores the root in every destination at once and waits for all of them. A
 * failed destination that is not required is a report with ok: false; a
 * required one fails the run once every other destination finished (its own
 * error when it is the only one, else a StoreFailedError naming each).
 */
async function storeEverywhere (destinations: Destination[], context: DestinationContext): Promise<DestinationReport[]> {
  const logger = context.logger ?? silentLogger
  if (destinations.length === 0) return []
  const errors = new Map<string, unknown>()
  const one = async (d: Destination): Promise<DestinationReport> => {
    const started = Date.now()
    const required = d.required !== false
    try {
      const report = await d.store(context)
      return { ...report, ok: true, required, seconds: (Date.now() - started) / 1000 }
    } catch (err) {
      if (context.signal?.aborted === true) throw err
      errors.set(d.label, err)
      return { kind: d.kind, label: d.label, details: {}, ok: false, required, seconds: (Date.now() - started) / 1000, error: err instanceof Error ? err.message : String(err) }
    }
  }
  const reports = destinations.length === 1
    ? [await logger.group(`Store in ${(destinations[0] as Destination).label}`, async () => await one(destinations[0] as Destination))]
    : await logger.group(`Store in ${destinations.length} places at once: ${destinations.map((d) => d.label).join(', ')}`, async () => await Promise.all(destinations.map(one)))
  for (const r of reports) {
    if (r.ok === false && r.required === false) logger.warn(`${r.label} (not required) failed: ${r.error ?? ''}`)
  }
  const failed = reports.filter((r) => r.ok === false && r.required !== false)
  if (failed.length === 1 && reports.length === 1) throw errors.get((failed[0] as DestinationReport).label)
  if (failed.length > 0) {
    throw new StoreFailedError(`${failed.length} of ${reports.length} destinations failed, so no name moved: ${failed.map((r) => `${r.label}: ${r.error ?? ''}`).join('; ')}`, reports)
  }
  return reports
}

/** The name moved under this run more often than it may retry. */
export class ConcurrentPublishError extends IpcrError {
  constructor (message: string) {
    super('ERR_CONCURRENT_PUBLISH', message)
  }
}

const MAX_REBASES = 5

/**
 * The whole job: check every destination, build the CAR, store it everywhere,
 * then move pointers (MFS, IPNS), then release earlier roots. A failure
 * at any step leaves every later step undone, so names never point at a root
 * that is not stored; the next successful run releases what it left pinned.
 * Without `carPath`, a destination that needs a CAR gets a temporary one in
 * `tempDir`, removed at the end (the result's `car` then has no `path`).
 *
 * With a name that can be read back (IPNS), no concurrent publish loses its
 * tags: just before the name moves, it is read again; when another publish
 * moved it since this run read it, this run's tags are re-applied onto that
 * root (a few directory blocks), stored, and checked again. After the name
 * moves it is read back, and the same happens when the root it holds lacks
 * this run's tags.
 */
export async function runPipeline (options: PipelineOptions & { carPath: string }): Promise<PipelineResult & KeptCar>
export async function runPipeline (options: PipelineOptions): Promise<PipelineResult>
export async function runPipeline (options: PipelineOptions): Promise<PipelineResult> {
  const logger = options.logger ?? silentLogger
  const { signal } = options
  const names = options.names ?? []
  /** Destinations not required whose check failed: left out of this run, each a report. */
  const skipped: DestinationReport[] = []
  const destinations: Destination[] = []
  if ((options.destinations ?? []).length + names.length > 0) {
    await logger.group('Check destinations', async () => {
      for (const d of options.destinations ?? []) {
        try {
          await d.preflight({ signal, logger })
          destinations.push(d)
        } catch (err) {
          if (d.required !== false || signal?.aborted === true) throw err
          const error = err instanceof Error ? err.message : String(err)
          logger.warn(`${d.label} (not required) is left out of this run: ${error}`)
          skipped.push({ kind: d.kind, label: d.label, details: {}, ok: false, required: false, seconds: 0, error: `check failed: ${error}` })
        }
      }
      for (const n of names) await n.preflight({ signal, logger })
    })
  }
  const nameSource: NameSource | undefined = names.find((n) => n.source != null)?.source

  const explicit = options.sources ?? []
  let previousRoot = options.previousRoot ?? null
  if (previousRoot == null && explicit.length === 0) {
    for (const d of destinations) {
      previousRoot = await d.previousRoot?.({ signal, logger }) ?? null
      if (previousRoot != null) break
    }
  }
  /** The root the name held when this run read it: a different one later means another publish moved it. */
  let seen: CID | null = null
  const readFrom = nameSource ?? options.nameSource
  if (readFrom != null) {
    seen = await logger.group(`Read the current root from ${readFrom.label}`, async () => await readFrom.current({ signal, logger }))
    if (previousRoot == null) {
      previousRoot = seen
      logger.info(seen == null ? `${readFrom.label} has no record yet: starting a new registry` : `previous root ${seen.toString()} from ${readFrom.label}`)
    }
  }
  const sources: BlockSource[] = [...explicit, ...destinations.flatMap((d) => d.sources?.() ?? [])]

  // Blocks served to pinning services come from the CAR too.
  const needsCar = destinations.some((d) => d.needsCar === true || d.needsNetwork === true)
  const needsNetwork = destinations.some((d) => d.needsNetwork === true)
  const temporary = (options.carPath == null && needsCar) || nameSource != null
    ? await mkdtemp(join(options.tempDir, 'ipcr-car-'))
    : undefined
  if (temporary != null) registerTemporary(temporary)
  try {
    let carPath = options.carPath ?? (needsCar && temporary != null ? join(temporary, 'registry.car') : undefined)
    const published = await publishWithPatch({ ...options, ...(carPath != null ? { carPath } : {}), previousRoot, sources })
    let result: PublishResult = published.result
    const patch = published.patch
    let root = CID.parse(result.rootCid)
    /** The root this run's tags were applied onto. */
    let base = previousRoot
    const rebasedOnto: string[] = []
    /** Every CAR of this run: the first, then one per re-apply. */
    const cars: string[] = []
    const maxRebases = options.maxRebases ?? MAX_REBASES

    const stored: DestinationReport[] = []
    const moved: NameReport[] = []
    /** Other runs' roots, read for the read-back checks, the re-applies and the kept CAR: one cache for the run. */
    const others: BlockSource = new BlockCache(new FirstSource(sources), { keep: dagPbOnly })
    /** The root to re-apply this run's tags onto when the name holds one without them; null when it holds them. */
    const lostTo = async (when: string): Promise<CID | null> => {
      if (nameSource == null) return null
      const after = await nameSource.current({ signal, logger })
      if (sameRoot(after, root)) return null
      if (after == null) throw new ConcurrentPublishError(`${nameSource.label}: no record found ${when} (this run published ${root.toString()})`)
      if (await hasTags(after, patch, others, { signal })) {
        logger.info(`${nameSource.label} holds ${after.toString()} ${when}: another publish's root that includes this run's tags`)
        return null
      }
      logger.info(`${nameSource.label} holds ${after.toString()} ${when}, without this run's tags (another publish that read the name earlier overwrote it): re-applying them onto it`)
      return after
    }
    /** Moves every name; returns the root another publish moved the name to instead, if one did. */
    const moveNames = async (context: DestinationContext): Promise<CID | null> => {
      // From the last check to the read-back, publishes of this name that share a lock take turns.
      const releases: Array<() => Promise<void>> = []
      try {
        for (const n of names) if (n.lock != null) releases.push(await n.lock({ signal, logger }))
        return await checkAndPublish(context)
      } finally {
        for (const release of releases.reverse()) await release()
      }
    }
    const checkAndPublish = async (context: DestinationContext): Promise<CID | null> => {
      // Read again just before the name moves: did another publish move it?
      const now = nameSource != null ? await nameSource.current({ signal, logger }) : null
      if (nameSource != null && now != null && !sameRoot(now, seen) && !sameRoot(now, root)) {
        logger.info(`${nameSource.label} moved to ${now.toString()} while this run published (another publish): re-applying this run's tags onto it`)
        return now
      }
      try {
        moved.length = 0
        for (const n of names) {
          const expected = n.source != null ? { nameExpected: now } : {}
          // Each name sees the ones moved before it (DNSLink writes the IPNS name published just now).
          const earlier = [...moved]
          moved.push(await logger.group(`Publish ${n.label}`, async () => await n.publish({ ...context, ...expected, names: earlier })))
        }
      } catch (err) {
        if (!(err instanceof NameMovedError) || err.current == null) throw err
        logger.info(`${err.message}: re-applying this run's tags onto ${err.current.toString()}`)
        return err.current
      }
      // Read back: a publish that read the name before this one moved it may have overwritten it.
      return await lostTo('right after publishing')
    }

    for (let attempt = 0; ; attempt++) {
      const context: DestinationContext = { result, root, previousRoot: base, signal, logger, ...(carPath != null ? { carPath } : {}) }
      if (carPath != null && !cars.includes(carPath)) cars.push(carPath)
      // Served only while destinations store: from the CARs of this run (the last one after a re-apply) and its sources.
      const served = needsNetwork ? await serveBlocks(cars, sources, options.network, { signal, logger }) : undefined
      try {
        stored.splice(0, stored.length, ...skipped, ...await storeEverywhere(destinations, served != null ? { ...context, network: served.network } : context))
      } finally {
        await served?.stop()
      }
      for (const d of destinations) await d.point?.(context)
      let onto = await moveNames(context)
      if (onto == null) {
        for (const d of destinations) await d.cleanup?.(context)
        // Once more, later: a put that was on its way when this run read back has landed by now.
        onto = await lostTo('after the cleanup')
        if (onto == null) break
      }
      if (attempt >= maxRebases) {
        throw new ConcurrentPublishError(`${nameSource?.label ?? 'the name'} moved ${attempt + 1} time${attempt === 0 ? '' : 's'} while this run published (other publishes to the same registry at the same time); this run's tags are in ${root.toString()}, which is stored but not what the name holds. Run again, or give each registry a workflow concurrency group so its publishes take turns.`)
      }
      const rebased = await rebase(patch, onto, { attempt, sources: sources.length > 0 ? [others] : [], temporary: temporary as string, sinks: options.sinks ?? [], signal, logger })
      rebasedOnto.push(onto.toString())
      base = onto
      seen = onto
      root = rebased.root
      carPath = rebased.carPath
      result = { ...result, rootCid: root.toString(), previousRoot: onto.toString() }
    }
    const extra = rebasedOnto.length > 0 ? { rebasedOnto } : {}
    if (rebasedOnto.length > 0 && options.carPath != null) {
      result = { ...result, car: await rewriteKeptCar(options.carPath, carPath as string, root, result, others, { signal, logger }) }
    }
    if (temporary != null) {
      await removeTemporary(temporary)
      if (options.carPath == null && needsCar) {
        logger.info('Removed the temporary CAR once stored (no CAR path was given, so none is kept)')
        const { path: _, ...car } = result.car
        return { ...result, car, destinations: stored, names: moved, ...extra }
      }
    }
    return { ...result, destinations: stored, names: moved, ...extra }
  } finally {
    // Idempotent: also on failure.
    if (temporary != null) await removeTemporary(temporary)
  }
}

interface RebaseOptions {
  attempt: number
  sources: BlockSource[]
  temporary: string
  sinks: BlockSink[]
  signal?: AbortSignal
  logger: Logger
}

/** Re-applies this run's patch onto `onto`; the new blocks (a few directories and the catalog) go into a new CAR and the sinks. */
async function rebase (patch: RegistryPatch, onto: CID, options: RebaseOptions): Promise<{ root: CID, carPath: string }> {
  const path = join(options.temporary, `rebase-${options.attempt + 1}.car`)
  const car = await CarFileWriter.create(path)
  try {
    const { root } = await applyPatch(patch, onto, { sources: options.sources, sink: fanOut([car, ...options.sinks]), signal: options.signal, logger: options.logger })
    // applyPatch has said what it applied onto which root, and how many new blocks.
    await car.close(root)
    return { root, carPath: path }
  } catch (err) {
    await car.abort()
    throw err
  }
}

/**
 * After a rebase, the kept CAR is rewritten for the final root: its own blocks and the
 * rebase's (scope new), or the whole final registry (scope full, the rest read through `others`).
 */
async function rewriteKeptCar (keptPath: string, rebasedPath: string, root: CID, result: PublishResult, others: BlockSource, options: { signal?: AbortSignal, logger: Logger }): Promise<PublishResult['car']> {
  const kept = await CarBlockSource.open(keptPath)
  const rebased = await CarBlockSource.open(rebasedPath)
  const out = await CarFileWriter.create(keptPath)
  try {
    if (result.car.scope === 'full') {
      const all = new FirstSource([rebased, kept, others])
      for await (const block of walkDag(root, all, { signal: options.signal })) await out.put(block.cid, block.bytes)
    } else {
      for (const from of [kept, rebased]) {
        for (const cid of from.cids()) if (!out.has(cid)) await out.put(cid, await from.get(cid))
      }
    }
    const written = await out.close(root)
    options.logger.info(`CAR rewritten for the final root ${root.toString()}: ${written.path} (${written.blocks} blocks)`)
    return { path: written.path, scope: result.car.scope, blocks: written.blocks, bytes: written.bytes }
  } catch (err) {
    await out.abort()
    throw err
  } finally {
    await kept.close()
    await rebased.close()
  }
}
