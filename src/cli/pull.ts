import { join, resolve } from 'node:path'
import { defaultCacheDir } from '../core/blocks/disk-cache.js'
import { InputError, escapeControl, formatBytes, option, text } from '../core/index.js'
import { openPullSources, pullImage, type PullSourceSpec } from '../core/pull/index.js'
import { registryResolver } from '../core/registry/resolve.js'
import { cliLogger } from './logger.js'
import { exportLimits, kuboFlags, list, lookupOptionsOf, str, type Out, type Value } from './values.js'

/** The block sources of `pull` and `serve`, in the order they are tried: the store, CARs, gateways, then Kubo. */
export function sourceSpecs (value: Value): PullSourceSpec[] {
  const store = str(value('store'))
  const kubo = kuboFlags(value)
  return [
    ...(store != null ? [{ kind: 'store' as const, dir: resolve(store) }] : []),
    ...list(value('cars')).map((path) => ({ kind: 'car' as const, path: resolve(path) })),
    ...list(value('gateways')).map((url) => ({ kind: 'gateway' as const, url })),
    ...(kubo != null ? [{ kind: 'kubo' as const, ...kubo }] : [])
  ]
}

/** IPNS names and DNSLink domains, looked up through the flags' Kubo, routers, gateways and resolver. */
export function resolverOf (value: Value, logger: ReturnType<typeof cliLogger>): ReturnType<typeof registryResolver> {
  return registryResolver({ ...lookupOptionsOf(value), logger })
}

/** `--cache`: the cache folder (blocks/ and blobs/ in it; default ~/.cache/ipcr), or null for `none`. */
export function cacheDirOf (value: Value): string | null {
  const cache = str(value('cache'))
  return cache === 'none' ? null : cache != null ? resolve(cache) : defaultCacheDir()
}

/** `ipcr pull REF`: the image, verified, as an OCI layout folder, a docker-archive tar, or a tar on stdout. */
export async function pullImageCommand (reference: string, value: Value, out: Out, signal?: AbortSignal): Promise<number> {
  const output = str(value('output'))
  if (output == null) throw new InputError('output', "expected where to write: a folder, a tar file (--output-format docker), or '-' for a tar on standard output")
  const format = str(value('output-format'))
  if (format != null && format !== 'oci' && format !== 'docker') throw new InputError('output-format', `'${format.slice(0, 40)}' is not an output format (expected oci or docker)`)
  const json = value('json') === true
  // With -o -, stdout carries the tar: everything else goes to stderr.
  const logger = cliLogger(value('quiet') === true, value('verbose') === true)
  const specs = sourceSpecs(value)
  if (specs.length === 0) throw new InputError('gateways', text`no block source: give ${option('gateways')}, ${option('kubo-rpc-url')}, ${option('cars')} or ${option('store')}`)
  const sources = await openPullSources(specs, { logger, signal })
  try {
    const platform = str(value('platform'))
    const cacheDir = cacheDirOf(value)
    const result = await pullImage({
      reference,
      sources,
      resolveRoot: resolverOf(value, logger),
      cacheDir: cacheDir != null ? join(cacheDir, 'blocks') : null,
      ...(platform != null ? { platform } : {}),
      output: output === '-' ? process.stdout : resolve(output),
      ...(format != null ? { outputFormat: format } : {}),
      ...exportLimits(value),
      inputs: { reference: 'REF', platform: 'platform', output: 'output' },
      logger,
      signal
    })
    if (json) {
      // With -o -, stdout carries the tar: the JSON goes to stderr.
      if (output === '-') process.stderr.write(`${JSON.stringify(result, null, 2)}\n`)
      else out(JSON.stringify(result, null, 2))
      return 0
    }
    // Names and digests come from the tree.
    const print: Out = output === '-' ? (line) => { logger.info(line) } : (line) => { out(escapeControl(line)) }
    print(`Pulled ${result.reference}${result.platform != null ? ` (${result.platform})` : ''}`)
    print(`  digest   ${result.digest}`)
    print(`  root     ${result.root}`)
    print(`  fetched  ${result.fetched.blocks} blocks, ${formatBytes(result.fetched.bytes)} (the rest from the cache)`)
    if (output !== '-') print(`  written  ${resolve(output)}${format === 'docker' ? '' : `: load it with 'tar -C ${output} -cf - . | docker load'`}`)
    return 0
  } finally {
    await sources.close()
  }
}
