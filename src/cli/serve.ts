import { resolve } from 'node:path'
import { FirstSource } from '../core/blocks/multi.js'
import { InputError, closeSources, escapeControl, openSources, option, parseHeaderLines, text, LocalStore, type BlockSource } from '../core/index.js'
import { KuboBlockSource } from '../core/kubo/block-source.js'
import { kuboConfig } from '../core/kubo/config.js'
import { KuboRpc } from '../core/kubo/rpc.js'
import { registryResolver } from '../core/registry/resolve.js'
import { parseRegistry, registryText } from '../core/serve/route.js'
import { DEFAULT_LISTEN, startRegistryServer } from '../core/serve/server.js'
import { cliLogger } from './logger.js'
import { list, str, type Out, type Value } from './values.js'

/** Waits until `signal` aborts (Ctrl-C, SIGTERM); forever without one. */
async function untilAborted (signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    if (signal?.aborted === true) resolve()
    signal?.addEventListener('abort', () => { resolve() }, { once: true })
  })
}

/**
 * `ipcr serve`: a read-only OCI registry on `--listen` over registry trees, with blocks from the
 * store, CARs, gateways and Kubo (each verified); names (IPNS, DNSLink) resolved and re-resolved
 * after their TTL. Runs until interrupted.
 */
export async function serveCommand (value: Value, out: Out, signal?: AbortSignal): Promise<number> {
  const logger = cliLogger(value('quiet') === true, value('verbose') === true)
  const storeDir = str(value('store'))
  const store = storeDir != null ? new LocalStore(resolve(storeDir)) : undefined
  const gateways = list(value('gateways'))
  const url = str(value('kubo-rpc-url'))
  const headers = parseHeaderLines([...list(value('kubo-rpc-headers')), ...(process.env.IPCR_KUBO_RPC_HEADERS ?? '').split('\n')].join('\n'), 'kubo-rpc-headers')
  const kubo = url != null ? { url, headers } : undefined
  const registry = str(value('registry'))
  let defaultRegistry = registry != null ? parseRegistry(registry, 'registry') : undefined
  if (defaultRegistry == null && store != null) {
    const root = await store.readRoot()
    if (root != null) defaultRegistry = { kind: 'ipfs', root }
  }
  const sources: BlockSource[] = [
    ...(store != null ? [store.blocks] : []),
    ...await openSources({ gateways, cars: list(value('cars')), carsInput: 'cars' }, logger, { signal }),
    ...(kubo != null ? [new KuboBlockSource(new KuboRpc(kuboConfig(kubo), logger))] : [])
  ]
  try {
    if (sources.length === 0) throw new InputError('store', text`no block source: give ${option('store')}, ${option('cars')}, ${option('gateways')} or ${option('kubo-rpc-url')}`)
    const resolver = str(value('dns-resolver'))
    const server = await startRegistryServer({
      listen: str(value('listen')) ?? DEFAULT_LISTEN,
      source: new FirstSource(sources),
      ...(defaultRegistry != null ? { defaultRegistry } : {}),
      resolveRoot: registryResolver({ ...(resolver != null ? { resolver } : {}), ...(kubo != null ? { kubo } : {}), routers: list(value('ipns-routers')), gateways, logger }),
      logger
    })
    const print: Out = (line) => { out(escapeControl(line)) }
    print(`ipcr serve: a read-only registry at ${server.url} (Ctrl-C stops it)`)
    print(`  blocks from  ${sources.map((s) => s.label).join(', ')}`)
    if (defaultRegistry != null) print(`  default      ${registryText(defaultRegistry)}: docker pull ${server.address}/<name>:<tag>`)
    print(`  any tree     docker pull ${server.address}/ipfs/<cid>/<name>:<tag>`)
    print(`  by name      docker pull ${server.address}/ipns/<k51…>/<name>:<tag>, ${server.address}/<domain>/<name>:<tag>`)
    await untilAborted(signal)
    await server.close()
    return 0
  } finally {
    await closeSources(sources)
  }
}
