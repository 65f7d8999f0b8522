import { mkdtemp } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import type { BlockSource } from './blocks/types.js'
import type { Destination, DestinationReport, NamePublisher, NameReport } from './destinations/types.js'
import { registerTemporary, removeTemporary } from './interrupt.js'
import { silentLogger } from './logger.js'
import { publish, type KeptCar, type PublishOptions, type PublishResult } from './publish.js'

export interface PipelineOptions extends PublishOptions {
  destinations?: Destination[]
  names?: NamePublisher[]
}

export interface PipelineResult extends PublishResult {
  destinations: DestinationReport[]
  names: NameReport[]
}

/**
 * The whole job: check every destination, build the CAR, store it everywhere,
 * then move pointers (MFS, IPNS), then release earlier roots. A failure
 * at any step leaves every later step undone, so names never point at a root
 * that is not stored; the next successful run releases what it left pinned.
 * Without `carPath`, a destination that needs a CAR gets a temporary one in
 * `tempDir`, removed at the end (the result's `car` then has no `path`).
 */
export async function runPipeline (options: PipelineOptions & { carPath: string }): Promise<PipelineResult & KeptCar>
export async function runPipeline (options: PipelineOptions): Promise<PipelineResult>
export async function runPipeline (options: PipelineOptions): Promise<PipelineResult> {
  const logger = options.logger ?? silentLogger
  const { signal } = options
  const destinations = options.destinations ?? []
  const names = options.names ?? []
  if (destinations.length + names.length > 0) {
    await logger.group('Check destinations', async () => {
      for (const d of destinations) await d.preflight({ signal, logger })
      for (const n of names) await n.preflight({ signal, logger })
    })
  }

  const explicit = options.sources ?? []
  let previousRoot = options.previousRoot ?? null
  if (previousRoot == null && explicit.length === 0) {
    for (const d of destinations) {
      previousRoot = await d.previousRoot?.({ signal, logger }) ?? null
      if (previousRoot != null) break
    }
  }
  const sources: BlockSource[] = [...explicit, ...destinations.flatMap((d) => d.sources?.() ?? [])]

  const temporary = options.carPath == null && destinations.some((d) => d.needsCar === true)
    ? await mkdtemp(join(options.tempDir, 'ipcr-car-'))
    : undefined
  if (temporary != null) registerTemporary(temporary)
  try {
    const carPath = options.carPath ?? (temporary != null ? join(temporary, 'registry.car') : undefined)
    const result = await publish({ ...options, ...(carPath != null ? { carPath } : {}), previousRoot, sources })
    const context = { result, root: CID.parse(result.rootCid), previousRoot, signal, logger, ...(carPath != null ? { carPath } : {}) }

    const stored: DestinationReport[] = []
    for (const d of destinations) {
      stored.push(await logger.group(`Store in ${d.label}`, async () => await d.store(context)))
    }
    for (const d of destinations) await d.point?.(context)
    const published: NameReport[] = []
    for (const n of names) {
      published.push(await logger.group(`Publish ${n.label}`, async () => await n.publish(context)))
    }
    for (const d of destinations) await d.cleanup?.(context)
    if (temporary != null) {
      await removeTemporary(temporary)
      logger.info('Removed the temporary CAR once stored (no CAR path was given, so none is kept)')
      const { path: _, ...car } = result.car
      return { ...result, car, destinations: stored, names: published }
    }
    return { ...result, destinations: stored, names: published }
  } finally {
    // Idempotent: also on failure.
    if (temporary != null) await removeTemporary(temporary)
  }
}
