import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { CID } from 'multiformats/cid'
import {
  InputError, LocalStore, redact, closeSources, createProviders, escapeControl, openSources, parseCid, parseHeaderLines, parseTagList, publish, pullCommand, runPipeline, validateName,
  writeSampleImage, demoImage, type BlockSource, type DestinationSettings, type PipelineResult, type PublishResult
} from '../core/index.js'
import { nodeCommandRunner } from '../core/image/docker.js'
import { registerTemporary, removeTemporary } from '../core/interrupt.js'
import { parseCount, parseSize } from '../core/size.js'
import { FirstSource } from '../core/blocks/multi.js'
import { exportToDirectory } from '../core/unixfs/export.js'
import { resolvePath } from '../core/unixfs/tree.js'
import { demoHelp, getHelp, mainHelp, pushHelp } from './help.js'
import { cliLogger } from './logger.js'

const version = '0.1.0'

type Out = (line: string) => void

function list (values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '')
}

function printResult (result: PublishResult, json: boolean, print: Out): void {
  if (json) {
    print(JSON.stringify({ ...result, pullCommand: pullCommand(result) }, null, 2))
    return
  }
  // Destination details come from remote services.
  const out: Out = (line) => { print(escapeControl(line)) }
  out(`root-cid   ${result.rootCid}`)
  for (const t of result.tags) out(`tag        ${result.name}:${t.tag} ${t.cid}`)
  out(`digest     ${result.digest}`)
  out(`car        ${result.car.path} (${result.car.scope}, ${result.car.blocks} blocks)`)
  for (const d of (result as Partial<PipelineResult>).destinations ?? []) out(`stored     ${d.label} (${Object.entries(d.details).map(([k, v]) => `${k}: ${String(v)}`).join(', ')})`)
  for (const n of (result as Partial<PipelineResult>).names ?? []) out(`ipns       /ipns/${n.name} → ${n.value}`)
}

async function push (args: string[], out: Out, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      file: { type: 'string' },
      'max-decompressed-size': { type: 'string' },
      name: { type: 'string' },
      tag: { type: 'string', multiple: true },
      description: { type: 'string' },
      revision: { type: 'string' },
      store: { type: 'string' },
      'previous-root': { type: 'string' },
      gateway: { type: 'string', multiple: true },
      'previous-car': { type: 'string', multiple: true },
      car: { type: 'string' },
      'car-scope': { type: 'string' },
      'kubo-rpc-url': { type: 'string' },
      'kubo-rpc-header': { type: 'string', multiple: true },
      'kubo-pin-name': { type: 'string' },
      'keep-previous-pin': { type: 'boolean' },
      'kubo-mfs-path': { type: 'string' },
      'kubo-timeout': { type: 'string' },
      'ipns-key': { type: 'string' },
      'ipns-private-key-file': { type: 'string' },
      'ipns-lifetime': { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) {
    out(pushHelp)
    return 0
  }
  if (positionals.length > 1) throw new InputError('IMAGE', `expected one image reference, got ${positionals.length}`)
  const ref = positionals[0]
  if ((ref == null) === (values.file == null)) {
    throw new InputError('IMAGE', 'give exactly one of a Docker image reference or --file PATH')
  }
  const scope = values['car-scope'] ?? 'new'
  if (scope !== 'new' && scope !== 'full') throw new InputError('--car-scope', `'${scope}' is not a CAR scope (expected new or full)`)
  const maxDecompressed = values['max-decompressed-size']
  const maxDecompressedSize = maxDecompressed != null ? parseSize(maxDecompressed, '--max-decompressed-size') : undefined
  const logger = cliLogger(values.quiet === true || values.json === true, values.verbose === true)
  const tagList = parseTagList((values.tag ?? []).join(','), '--tag')
  const store = values.store != null ? new LocalStore(resolve(values.store)) : undefined
  let previousRoot: CID | null = values['previous-root'] != null ? parseCid(values['previous-root'], '--previous-root') : null
  if (previousRoot == null && store != null) previousRoot = await store.readRoot()
  const sources: BlockSource[] = [
    ...(store != null ? [store.blocks] : []),
    ...await openSources({ gateways: list(values.gateway), cars: list(values['previous-car']) }, logger, { signal })
  ]
  let result
  try {
    const providers = createProviders(await destinationSettings(values), logger)
    result = await runPipeline({
      ...providers,
      image: ref != null ? { kind: 'docker', ref, run: nodeCommandRunner } : { kind: 'file', path: resolve(values.file as string) },
      name: values.name ?? (tagList.path != null ? validateName(tagList.path, '--tag') : undefined),
      tags: tagList.tags,
      description: values.description,
      previousRoot,
      sources,
      sinks: store != null ? [store.blocks] : [],
      carPath: resolve(values.car ?? 'registry.car'),
      carScope: scope,
      tempDir: tmpdir(),
      maxDecompressedSize,
      revision: values.revision ?? process.env.GITHUB_SHA,
      logger,
      signal
    })
  } finally {
    await closeSources(sources)
  }
  if (store != null) await store.writeRoot(parseCid(result.rootCid, 'root'))
  printResult(result, values.json === true, out)
  return 0
}

/** Kubo and IPNS flags; header lines may also come from IPCR_KUBO_RPC_HEADERS, to keep secrets out of argv. */
async function destinationSettings (values: Record<string, string | boolean | string[] | undefined>): Promise<DestinationSettings> {
  const settings: DestinationSettings = {}
  const url = values['kubo-rpc-url'] as string | undefined
  const headerLines = [...(values['kubo-rpc-header'] as string[] | undefined ?? []), ...(process.env.IPCR_KUBO_RPC_HEADERS ?? '').split('\n')]
  const headers = parseHeaderLines(headerLines.join('\n'), '--kubo-rpc-header')
  if (url != null) {
    const timeout = values['kubo-timeout'] as string | undefined
    if (timeout != null && !(Number(timeout) > 0)) throw new InputError('--kubo-timeout', `'${timeout}' is not a positive number of seconds`)
    settings.kubo = {
      url,
      headers,
      pinName: values['kubo-pin-name'] as string | undefined,
      unpinPrevious: values['keep-previous-pin'] !== true,
      mfsPath: values['kubo-mfs-path'] as string | undefined,
      ...(timeout != null ? { timeoutMs: Number(timeout) * 1000 } : {})
    }
  }
  const key = values['ipns-key'] as string | undefined
  const keyFile = values['ipns-private-key-file'] as string | undefined
  if (key != null) {
    const privateKey = keyFile != null ? await readFile(keyFile, 'utf8').catch(() => { throw new InputError('--ipns-private-key-file', `cannot read '${keyFile}'`) }) : undefined
    const lifetime = values['ipns-lifetime'] as string | undefined
    settings.ipns = { key, ...(privateKey != null ? { privateKey } : {}), ...(lifetime != null ? { lifetime } : {}) }
  } else if (keyFile != null) {
    throw new InputError('--ipns-key', 'give the keystore name the private key is stored under')
  }
  return settings
}

async function get (args: string[], out: Out, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      store: { type: 'string' },
      car: { type: 'string', multiple: true },
      gateway: { type: 'string', multiple: true },
      'max-bytes': { type: 'string' },
      'max-entries': { type: 'string' },
      'max-blocks': { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) {
    out(getHelp)
    return 0
  }
  const limits = {
    ...(values['max-bytes'] != null ? { maxBytes: parseSize(values['max-bytes'], '--max-bytes') } : {}),
    ...(values['max-entries'] != null ? { maxEntries: parseCount(values['max-entries'], '--max-entries') } : {}),
    ...(values['max-blocks'] != null ? { maxBlocks: parseCount(values['max-blocks'], '--max-blocks') } : {})
  }
  const path = positionals[0]
  if (path == null || positionals.length > 1) throw new InputError('PATH', 'expected one path such as /ipfs/<cid>/name/tags/tag')
  if (values.output == null) throw new InputError('--output', 'expected the folder to write to')
  const logger = cliLogger(false, false)
  const store = values.store != null ? new LocalStore(resolve(values.store)) : undefined
  const sources: BlockSource[] = [
    ...(store != null ? [store.blocks] : []),
    ...await openSources({ gateways: list(values.gateway), cars: list(values.car) }, logger, { signal })
  ]
  if (sources.length === 0) throw new InputError('--store', 'no block source: give --store, --car or --gateway')
  try {
    const parts = path.replace(/^\/?ipfs\//, '').split('/').filter((p) => p !== '')
    let root: CID | null = null
    try {
      root = parseCid(parts[0] ?? '', 'PATH')
      parts.shift()
    } catch {
      root = store != null ? await store.readRoot() : null
      if (root == null) throw new InputError('PATH', `'${path}' does not start with a CID and there is no store root to resolve it in`)
    }
    const source = new FirstSource(sources)
    const node = await resolvePath(root, parts, source, { signal })
    if (node == null) throw new InputError('PATH', `'${parts.join('/')}' does not exist under ${root.toString()}`)
    const outDir = resolve(values.output)
    const existing = await readdir(outDir).catch((err) => err.code === 'ENOENT' ? [] : ['(not a folder)'])
    if (existing.length > 0) throw new InputError('--output', `'${values.output}' already exists and is not an empty folder`)
    // Written into a temporary sibling and moved into place at the end: a failed get leaves no half output.
    await exportToDirectory(node.cid, outDir, source, { signal, limits, limitNames: { maxBytes: '--max-bytes', maxEntries: '--max-entries', maxBlocks: '--max-blocks' } })
    out(`wrote /ipfs/${node.cid.toString()} to ${outDir}`)
  } finally {
    await closeSources(sources)
  }
  return 0
}

async function demo (args: string[], out: Out, signal?: AbortSignal): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      store: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) {
    out(demoHelp)
    return 0
  }
  const storeDir = values.store ?? '.ipcr'
  const store = new LocalStore(resolve(storeDir))
  const logger = cliLogger(values.json === true, false)
  const work = await mkdtemp(join(tmpdir(), 'ipcr-demo-'))
  registerTemporary(work)
  try {
    const image = await logger.group('Build the demo image in-process', async () => await writeSampleImage(join(work, 'image'), demoImage))
    const previousRoot = await store.readRoot()
    await mkdir(store.dir, { recursive: true })
    const result = await publish({
      image: { kind: 'file', path: image.dir },
      name: 'ipcr-demo',
      tags: ['latest'],
      previousRoot,
      sources: [store.blocks],
      sinks: [store.blocks],
      carPath: join(store.dir, 'demo.car'),
      carScope: 'full',
      tempDir: work,
      logger,
      signal
    })
    await store.writeRoot(parseCid(result.rootCid, 'root'))
    if (values.json === true) {
      printResult(result, true, out)
      return 0
    }
    printResult(result, false, out)
    out('')
    out(`The store ${storeDir} now holds the registry; its root is in ${storeDir}/root.`)
    out('Load the image with Docker:')
    out(`  node dist/cli.js get --store ${storeDir} ${result.name}/tags/latest -o ipcr-demo-latest`)
    out('  tar -C ipcr-demo-latest -cf - . | docker load')
    out('Or with an IPFS node, the original recipe:')
    out(`  ipfs dag import ${result.car.path}`)
    out(`  ${pullCommand(result)}`)
    return 0
  } finally {
    await removeTemporary(work)
  }
}

/** `signal`: aborting it cancels the command (see src/cli/index.ts); its reason is the error printed. */
export async function main (argv: string[], out: Out = (l) => { process.stdout.write(`${l}\n`) }, { signal }: { signal?: AbortSignal } = {}): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'push': return await push(rest, out, signal)
      case 'get': return await get(rest, out, signal)
      case 'demo': return await demo(rest, out, signal)
      case '--version': case 'version':
        out(version)
        return 0
      case undefined: case 'help': case '--help': case '-h': {
        const topic = rest[0]
        out(topic === 'push' ? pushHelp : topic === 'get' ? getHelp : topic === 'demo' ? demoHelp : mainHelp)
        return 0
      }
      default:
        process.stderr.write(`ipcr: unknown command '${command}'\n\n${mainHelp}\n`)
        return 2
    }
  } catch (caught) {
    const err = signal?.aborted === true ? signal.reason : caught
    process.stderr.write(`ipcr: ${escapeControl(redact(err instanceof Error ? err.message : String(err)))}\n`)
    return 1
  }
}
