import { CID } from 'multiformats/cid'
import type { BlockSource } from './blocks/types.js'
import type { Destination, DestinationReport, NamePublisher, NameReport } from './destinations/types.js'
import { silentLogger } from './logger.js'
import { publish, type PublishOptions, type PublishResult } from './publish.js'

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
 * then move pointers (MFS, IPNS), then release the previous root. A failure
 * at any step leaves every later step undone, so names never point at a root
 * that is not stored.
 */
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

  const result = await publish({ ...options, previousRoot, sources })
  const context = { result, root: CID.parse(result.rootCid), previousRoot, signal, logger }

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
  return { ...result, destinations: stored, names: published }
}
