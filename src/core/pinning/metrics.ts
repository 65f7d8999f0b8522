/**
 * A minimal libp2p `Metrics` for the bitswap server: counters registered by name are kept
 * (bitswap counts the blocks and bytes it sends in 'helia_bitswap_sent_blocks_total' and
 * 'helia_bitswap_sent_data_bytes_total'); everything else is accepted and dropped.
 */
export interface CountingMetrics {
  counter(name: string): number
}

export function countingMetrics(): CountingMetrics & Record<string, unknown> {
  const counters = new Map<string, number>()
  const noop = (): void => {}
  const sink = { update: noop, increment: noop, decrement: noop, reset: noop, observe: noop, timer: () => noop }
  return {
    counter: (name: string) => counters.get(name) ?? 0,
    registerCounter: (name: string, options?: { calculate?: unknown }) => {
      if (options?.calculate != null) return
      return {
        increment: (value = 1) => { counters.set(name, (counters.get(name) ?? 0) + value) },
        reset: () => { counters.set(name, 0) }
      }
    },
    registerMetric: () => sink,
    registerMetricGroup: () => sink,
    registerCounterGroup: () => sink,
    registerHistogram: () => sink,
    registerHistogramGroup: () => sink,
    registerSummary: () => sink,
    registerSummaryGroup: () => sink,
    trackMultiaddrConnection: noop,
    trackProtocolStream: noop,
    createTrace: () => undefined,
    traceFunction: (_name: string, fn: unknown) => fn
  }
}
