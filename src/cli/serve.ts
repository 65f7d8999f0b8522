import { join } from 'node:path'
import { treeBlocks } from '../core/blocks/cache.js'
import { CachedSource, DiskBlockCache } from '../core/blocks/disk-cache.js'
import { BlobFiles } from '../core/serve/blob-files.js'
import { FirstSource } from '../core/blocks/multi.js'
import { InputError, LocalStore, escapeControl, option, text } from '../core/index.js'
import { openPullSources } from '../core/pull/index.js'
import { parseRegistry, registryText } from '../core/registry/location.js'
import { DEFAULT_LISTEN, startRegistryServer } from '../core/serve/server.js'
import { cliLogger } from './logger.js'
import { cacheDirOf, resolverOf, sourceSpecs } from './pull.js'
import { str, type Out, type Value } from './values.js'

/** Waits until `signal` aborts (Ctrl-C, SIGTERM); forever without one. */
async function untilAborted (signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    if (signal?.aborted === true) resolve()
    signal?.addEventListener('abort', () => { resolve() }, { once: true })
  })
}

/**
 * `ipcr serve`: a read-only OCI registry on `--listen` over registry trees, with blocks from the
 * store, CARs, gateways and Kubo (each verified) kept in the verified disk cache `pull` uses;
 * names (IPNS, DNSLink) resolved and re-resolved after their TTL. Runs until interrupted.
 */
export async function serveCommand (value: Value, out: Out, signal?: AbortSignal): Promise<number> {
  const logger = cliLogger(value('quiet') === true, value('verbose') === true)
  const registry = str(value('registry'))
  let defaultRegistry = registry != null ? parseRegistry(registry, 'registry') : undefined
  const storeDir = str(value('store'))
  if (defaultRegistry == null && storeDir != null) {
    const root = await new LocalStore(storeDir).readRoot()
    if (root != null) defaultRegistry = { kind: 'ipfs', root }
  }
  const specs = sourceSpecs(value)
  if (specs.length === 0) throw new InputError('store', text`no block source: give ${option('store')}, ${option('cars')}, ${option('gateways')} or ${option('kubo-rpc-url')}`)
  const sources = await openPullSources(specs, { logger, signal })
  try {
    const cacheDir = cacheDirOf(value)
    const blocks = new FirstSource(sources.blocks)
    const server = await startRegistryServer({
      listen: str(value('listen')) ?? DEFAULT_LISTEN,
      // On disk: folders, file nodes and the small JSON files as blocks, content as whole blobs
      // (kept once served whole). `--cache none`: those blocks in memory only, content fetched each time.
      source: cacheDir === null ? blocks : new CachedSource(new DiskBlockCache(join(cacheDir, 'blocks'), logger), blocks, treeBlocks),
      files: sources.files,
      ...(cacheDir !== null ? { blobFiles: new BlobFiles(join(cacheDir, 'blobs')) } : {}),
      ...(defaultRegistry != null ? { defaultRegistry } : {}),
      resolveRoot: resolverOf(value, logger),
      logger
    })
    const print: Out = (line) => { out(escapeControl(line)) }
    print(`ipcr serve: a read-only registry at ${server.url} (Ctrl-C stops it)`)
    print(`  blocks from  ${sources.blocks.map((s) => s.label).join(', ')}; cache ${cacheDir === null ? 'in memory only' : cacheDir}`)
    if (defaultRegistry != null) print(`  default      ${registryText(defaultRegistry)}: docker pull ${server.address}/<name>:<tag>`)
    print(`  any tree     docker pull ${server.address}/ipfs/<cid>/<name>:<tag>`)
    print(`  by name      docker pull ${server.address}/ipns/<k51…>/<name>:<tag>, ${server.address}/<domain>/<name>:<tag>`)
    await untilAborted(signal)
    await server.close()
    return 0
  } finally {
    await sources.close()
  }
}
