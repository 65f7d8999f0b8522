import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join, relative, resolve } from 'node:path'
import { Command as Program, CommanderError, type OutputConfiguration } from 'commander'
import type { CID } from 'multiformats/cid'
import {
  InputError, describeReport, formatBytes, option, text, pullCommandFor, resolvePreviousRoot, sourceDateEpoch, LocalStore, redact, closeSources, createProviders, escapeControl, openSources, parseCid, parseHeaderLines, parseTagList, publish, pullCommand, runPipeline, validateName,
  writeSampleImage, demoImage, addSecret, quote, type BlockSource, type DestinationSettings, type PipelineResult, type PublishResult
} from '../core/index.js'
import { nodeCommandRunner } from '../core/image/docker.js'
import { generateKey, ipnsNameOf, parsePrivateKey } from '../core/ipns/keys.js'
import { ipnsSettingsOf } from '../core/ipns/settings.js'
import { pinningSettingsOf } from '../core/pinning/settings.js'
import { republish, type RepublishResult } from '../core/ipns/republish.js'
import type { IpnsSettings } from '../core/ipns/settings.js'
import { registerTemporary, removeTemporary } from '../core/interrupt.js'
import { parseSize } from '../core/size.js'
import { FirstSource } from '../core/blocks/multi.js'
import { exportTar, exportToDirectory } from '../core/unixfs/export.js'
import { BlockCache, dagPbOnly } from '../core/blocks/cache.js'
import { resolvePath } from '../core/unixfs/tree.js'
import { cliName, definition } from '../options/definitions.js'
import { containerCli } from '../options/container-cli.js'
import { checkOptionRules, describeError, parseCarScope, parseSeconds } from '../options/rules.js'
import { demoHelp, dnslinkHelp, getHelp, keyHelp, pullHelp, serveHelp, mainHelp, mainHelpAfter, pushHelp, republishHelp } from './help.js'
import { addOptions } from './options.js'
import { envSecret, exportLimits, list, maybe, str, type Out, type Value } from './values.js'
import { dnsLinkSettings, dnslinkGet, dnslinkSet } from './dnslink.js'
import { serveCommand } from './serve.js'
import { pullImageCommand } from './pull.js'
import { cliLogger } from './logger.js'

const version = '0.1.0'

function printResult (result: PublishResult, json: boolean, print: Out): void {
  if (json) {
    print(JSON.stringify({ ...result, pullCommand: pullCommandFor(result) }, null, 2))
    return
  }
  // Destination details come from remote services.
  const out: Out = (line) => { print(escapeControl(line)) }
  out(`Published ${result.name} (${result.tags.map((t) => t.tag).join(', ')})`)
  out(`  registry root  ${result.rootCid}`)
  for (const t of result.tags) out(`  tag ${t.tag}  ${t.cid}`)
  out(`  digest         ${result.digest}`)
  const blocks = `${result.car.scope === 'full' ? 'the whole registry' : 'the blocks this publish added'}, ${result.car.blocks} blocks`
  out(`  CAR            ${result.car.path != null ? `${result.car.path} (${blocks})` : `none kept (${blocks})`}`)
  for (const d of (result as Partial<PipelineResult>).destinations ?? []) out(`  ${d.ok === false ? 'not stored in' : 'stored in'} ${d.label}: ${describeReport(d)}`)
  for (const n of (result as Partial<PipelineResult>).names ?? []) {
    if (n.kind === 'dnslink') out(`  ${n.label}  ${n.value} (${n.changed === true ? 'changed' : 'unchanged'})`)
    else out(`  ${n.label}  /ipns/${n.name} → ${n.value}`)
  }
}

async function push (ref: string | undefined, value: Value, out: Out, signal?: AbortSignal): Promise<number> {
  const headerFlags = list(value('kubo-rpc-headers'))
  const given = givenOptions(value, headerFlags)
  checkOptionRules((key) => key === 'image' ? ref != null : given.set(key), given.text, 'publish')
  const scope = parseCarScope(str(value('car-scope')))
  const maxDecompressed = str(value('max-decompressed-size'))
  const maxDecompressedSize = maxDecompressed != null ? parseSize(maxDecompressed, 'max-decompressed-size') : undefined
  const file = str(value('image-file'))
  const command = file == null ? containerCli(str(value('container-cli'))) : undefined
  const json = value('json') === true
  const logger = cliLogger(value('quiet') === true || json, value('verbose') === true)
  const tagList = parseTagList(list(value('tags')).join(','), 'tags')
  const storeDir = str(value('store'))
  const carPath = str(value('car-path'))
  if (carPath == null && storeDir == null && str(value('kubo-rpc-url')) == null) {
    throw new InputError('car-path', text`nothing would keep what is published: give ${option('car-path')}, ${option('store')} or ${option('kubo-rpc-url')}`)
  }
  const store = storeDir != null ? new LocalStore(resolve(storeDir)) : undefined
  const previous = str(value('previous-root'))
  let previousRoot: CID | null = previous != null ? parseCid(previous, 'previous-root') : null
  const settings = await destinationSettings(value, headerFlags)
  if (previousRoot == null && store != null) previousRoot = await store.readRoot()
  const sources: BlockSource[] = [
    ...(store != null ? [store.blocks] : []),
    ...await openSources({ gateways: list(value('gateways')), cars: list(value('previous-car')) }, logger, { signal })
  ]
  let result
  try {
    const providers = createProviders(settings, logger)
    result = await runPipeline({
      ...providers,
      image: file != null
        ? { kind: 'file', path: resolve(file), ...(ref != null ? { ref } : {}) }
        : { kind: 'docker', ref: ref as string, run: nodeCommandRunner, command },
      name: str(value('name')) ?? (tagList.path != null ? validateName(tagList.path, 'tags') : undefined),
      tags: tagList.tags,
      description: str(value('description')),
      previousRoot: resolvePreviousRoot(previousRoot, sources, { car: '--previous-car', root: '--previous-root' }),
      sources,
      sinks: store != null ? [store.blocks] : [],
      ...(carPath != null ? { carPath: resolve(carPath) } : {}),
      carScope: scope,
      tempDir: tmpdir(),
      maxDecompressedSize,
      revision: str(value('revision')) ?? process.env.GITHUB_SHA,
      now: sourceDateEpoch(process.env.SOURCE_DATE_EPOCH),
      logger,
      signal
    })
  } finally {
    await closeSources(sources)
  }
  if (store != null) await store.writeRoot(parseCid(result.rootCid, 'root'))
  printResult(result, json, out)
  return 0
}

/** Kubo and IPNS flags; header lines may also come from IPCR_KUBO_RPC_HEADERS, to keep secrets out of argv. */
async function destinationSettings (value: Value, headerFlags: string[]): Promise<DestinationSettings> {
  const settings: DestinationSettings = {}
  const url = str(value('kubo-rpc-url'))
  const headerLines = [...headerFlags, ...(process.env.IPCR_KUBO_RPC_HEADERS ?? '').split('\n')]
  const headers = parseHeaderLines(headerLines.join('\n'), 'kubo-rpc-headers')
  if (url != null) {
    const timeout = str(value('kubo-timeout'))
    settings.kubo = {
      url,
      headers,
      pinName: str(maybe(value, 'kubo-pin-name')),
      unpinPrevious: maybe(value, 'unpin-previous') !== true,
      mfsPath: str(maybe(value, 'kubo-mfs-path')),
      ...(timeout != null ? { timeoutMs: parseSeconds(timeout, 'kubo-timeout') * 1000 } : {})
    }
  }
  const ipns = await ipnsSettings(value)
  if (ipns != null) settings.ipns = ipns
  const pinTimeout = str(maybe(value, 'pin-timeout'))
  const pinning = pinningSettingsOf(
    (key) => definition(key)?.env != null ? envSecret(key) : str(maybe(value, key)),
    (key) => list(maybe(value, key)),
    pinTimeout != null ? parseSeconds(pinTimeout, 'pin-timeout') * 1000 : undefined)
  const dnslink = dnsLinkSettings(value)
  return { ...settings, ...pinning, ...(dnslink != null ? { dnslink } : {}) }
}

/** Option lookups for the rules: options the command lacks are not set; the key may also come from $IPCR_IPNS_PRIVATE_KEY. */
function givenOptions (value: Value, headerFlags: string[]): { set: (key: string) => boolean, text: (key: string) => string | undefined } {
  const read = (key: string): string | string[] | boolean | undefined => maybe(value, key)
  const set = (key: string): boolean => {
    if (key === 'kubo-rpc-headers') return headerFlags.length > 0
    if (key === 'ipns-private-key') return read(key) != null || envKey() != null
    if (definition(key)?.env != null) return envSecret(key) != null
    const v = read(key)
    return Array.isArray(v) ? list(v).length > 0 : v != null && v !== false
  }
  return { set, text: (key) => str(read(key)) }
}

/** $IPCR_IPNS_PRIVATE_KEY: the IPNS key as text (base64 or PEM), kept out of argv and files. */
function envKey (): string | undefined {
  const text = process.env.IPCR_IPNS_PRIVATE_KEY
  return text != null && text.trim() !== '' ? text : undefined
}

/** The IPNS flags; undefined when none names a key or a name. The key is read as bytes: 'ipfs key export' writes a binary file. */
export async function ipnsSettings (value: Value): Promise<IpnsSettings | undefined> {
  const keyFile = str(value('ipns-private-key'))
  const keyText = envKey()
  if (keyFile != null && keyText != null) throw new InputError('ipns-private-key', 'give the key once: in the file or in $IPCR_IPNS_PRIVATE_KEY, not both')
  if (keyText != null) {
    // Like the action's secret inputs: the key and each line of it (PEM) are removed from anything printed.
    addSecret(keyText.trim())
    for (const line of keyText.split(/\r?\n/)) if (line.trim() !== '' && !line.startsWith('-----')) addSecret(line.trim())
  }
  const privateKey = keyFile != null
    ? new Uint8Array(await readFile(keyFile).catch((err) => { throw new InputError('ipns-private-key', `cannot read '${keyFile}': ${err.code ?? err.message}`) }))
    : keyText
  const optional = (key: string): string | undefined => str(maybe(value, key))
  const recordPath = optional('ipns-record-path')
  return ipnsSettingsOf(privateKey, optional, (key) => list(maybe(value, key)), recordPath != null ? resolve(recordPath) : undefined)}

/** `ipcr republish`: keeps an IPNS name alive; no image, no content. */
async function republishCommand (value: Value, out: Out, signal?: AbortSignal): Promise<number> {
  const headerFlags = list(value('kubo-rpc-headers'))
  const given = givenOptions(value, headerFlags)
  checkOptionRules(given.set, given.text, 'republish')
  const json = value('json') === true
  const logger = cliLogger(value('quiet') === true || json, value('verbose') === true)
  const settings = await destinationSettings(value, headerFlags)
  const result = await republish({ settings, logger, signal })
  printRepublish(result, json, out)
  return 0
}

function printRepublish (result: RepublishResult, json: boolean, print: Out): void {
  if (json) {
    print(JSON.stringify(result, null, 2))
    return
  }
  // The value, reason and target details come from records and remote services.
  const out: Out = (line) => { print(escapeControl(line)) }
  out(`Republished /ipns/${result.name} → ${result.value}`)
  out(`  re-signed      ${result.resigned ? 'yes' : 'no'}: ${result.reason}`)
  if (result.sequence != null) out(`  sequence       ${result.sequence}`)
  if (result.expires != null) out(`  valid until    ${result.expires}`)
  if (result.recordPath != null) out(`  record         ${result.recordPath}`)
  for (const t of result.targets ?? []) out(`  ${t.label}: ${t.ok ? 'ok' : 'failed'}: ${t.detail}`)
}

/** `ipcr key generate`: a new key, written where asked (a new file, mode 0600) or as base64 on stdout; its name on the other stream. */
async function keyGenerate (options: { type?: string, output?: string }, out: Out, err: Out): Promise<number> {
  const type = options.type ?? 'ed25519'
  if (type !== 'ed25519' && type !== 'rsa') throw new InputError('--type', `${quote(type, 40)} is not a key type (expected ed25519 or rsa)`)
  const { key, name } = await generateKey(type)
  addSecret(key.bytes)
  if (options.output == null || options.output === '-') {
    // Asked for on stdout (for a GitHub secret): the key there, the name on stderr.
    out(Buffer.from(key.bytes).toString('base64'))
    err(name)
    return 0
  }
  const path = resolve(options.output)
  try {
    // 'wx': never overwrites a key; 0600: only its owner reads it.
    await writeFile(path, key.bytes, { flag: 'wx', mode: 0o600 })
  } catch (caught) {
    const code = (caught as NodeJS.ErrnoException).code
    throw new InputError('--output', code === 'EEXIST' ? `'${options.output}' exists: a key file is never overwritten` : `cannot write '${options.output}': ${code ?? (caught as Error).message}`)
  }
  out(name)
  return 0
}

/** `ipcr key name FILE`: the IPNS name of a key in any accepted format; `-` reads stdin. */
async function keyName (file: string, out: Out): Promise<number> {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(file === '-' ? await readStream(process.stdin) : await readFile(file))
  } catch (caught) {
    throw new InputError('FILE', `cannot read '${file}': ${(caught as NodeJS.ErrnoException).code ?? (caught as Error).message}`)
  }
  out(ipnsNameOf(parsePrivateKey(bytes, 'FILE')))
  return 0
}

/** A key is a few KiB at most: more is not a key. */
async function readStream (stream: NodeJS.ReadableStream, max = 64 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)
    size += b.length
    if (size > max) throw new Error(`more than ${max} bytes: not a key`)
    chunks.push(b)
  }
  return Buffer.concat(chunks)
}

async function get (path: string, value: Value, out: Out, signal?: AbortSignal): Promise<number> {
  const { limits, limitNames } = exportLimits(value)
  const output = str(value('output'))
  if (output == null) throw new InputError('output', "expected the folder to write to, or '-' for a tar on standard output")
  const logger = cliLogger(false, false)
  const storeDir = str(value('store'))
  const store = storeDir != null ? new LocalStore(resolve(storeDir)) : undefined
  const sources: BlockSource[] = [
    ...(store != null ? [store.blocks] : []),
    ...await openSources({ gateways: list(value('gateways')), cars: list(value('cars')), carsInput: 'cars' }, logger, { signal })
  ]
  if (sources.length === 0) throw new InputError('store', text`no block source: give ${option('store')}, ${option('cars')} or ${option('gateways')}`)
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
    // One run-wide cache: a directory read to resolve the path is not fetched again to export it.
    const source = new BlockCache(new FirstSource(sources), { keep: dagPbOnly })
    const node = await resolvePath(root, parts, source, { signal })
    if (node == null) throw new InputError('PATH', `'${parts.join('/')}' does not exist under ${root.toString()}`)
    const exportOptions = {
      signal,
      logger,
      progressIntervalMs: 1000,
      limits,
      limitNames
    }
    if (output === '-') {
      // The tar goes to stdout (`ipcr get … -o - | docker load`); every other line goes to stderr.
      const written = await exportTar(node.cid, source, process.stdout, exportOptions)
      logger.info(`wrote /ipfs/${node.cid.toString()} as a tar to standard output (${written.files} files, ${formatBytes(written.bytes)})`)
      return 0
    }
    const outDir = resolve(output)
    const existing = await readdir(outDir).catch((err) => err.code === 'ENOENT' ? [] : ['(not a folder)'])
    if (existing.length > 0) throw new InputError('output', `'${output}' already exists and is not an empty folder`)
    // Written into a temporary sibling and moved into place at the end: a failed get leaves no half output.
    await exportToDirectory(node.cid, outDir, source, exportOptions)
    out(`wrote /ipfs/${node.cid.toString()} to ${outDir}`)
  } finally {
    await closeSources(sources)
  }
  return 0
}

/** How the user ran this CLI: `ipcr` when installed, else `node <path to the bundle>`. */
function selfCommand (): string {
  const script = process.argv[1] ?? ''
  if (basename(script) === 'ipcr') return 'ipcr'
  const path = relative(process.cwd(), script)
  return `node ${path.startsWith('..') || path === '' ? script : path}`
}

async function demo (value: Value, out: Out, signal?: AbortSignal): Promise<number> {
  const json = value('json') === true
  const storeDir = str(value('store')) ?? '.ipcr'
  const store = new LocalStore(resolve(storeDir))
  const logger = cliLogger(json, false)
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
    if (json) {
      printResult(result, true, out)
      return 0
    }
    printResult(result, false, out)
    out('')
    out(`The store ${storeDir} now holds the registry; its root is in ${storeDir}/root.`)
    out('Load the image with Docker:')
    // The same folder name as the IPFS recipe's below.
    const folder = `${result.name.replace(/\//g, '_')}_latest`
    out(`  ${selfCommand()} get --store ${storeDir} ${result.name}/tags/latest -o ${folder}`)
    out(`  tar -C ${folder} -cf - . | docker load`)
    out('Or with an IPFS node, the original recipe:')
    out(`  ipfs dag import ${result.car.path}`)
    out(`  ${pullCommand(result)}`)
    return 0
  } finally {
    await removeTemporary(work)
  }
}

/** Commander's errors that are usage mistakes: exit 2, as for a shell builtin. */
const USAGE_ERRORS = new Set(['commander.unknownOption', 'commander.unknownCommand', 'commander.excessArguments', 'commander.missingArgument', 'commander.optionMissingArgument', 'commander.missingMandatoryOptionValue', 'commander.invalidArgument'])

function program (out: Out, err: Out, signal: AbortSignal | undefined, ran: { code: number }): Program {
  const output = {
    writeOut: (s: string) => { out(s.replace(/\n$/, '')) },
    writeErr: (s: string) => { err(s.replace(/\n$/, '')) },
    outputError: (s: string, write: (s: string) => void) => { write(s.replace(/^error: /, 'ipcr: ')) }
  }
  const ipcr = new Program('ipcr')
    .description(mainHelp)
    .version(version, '-V, --version', 'Print the version')
    .configureOutput(output)
    .helpOption('-h, --help', 'Show this help')
    .exitOverride()
    .showSuggestionAfterError()
    .showHelpAfterError("Run 'ipcr --help' for the commands.")
    .helpCommand('help [command]', 'Show help for a command')
    .addHelpText('after', mainHelpAfter)
  const command = (name: 'push' | 'get' | 'demo' | 'republish' | 'serve' | 'pull', summary: string, about: string, after: string): { cmd: Program, value: Value } => {
    const cmd = new Program(name).summary(summary).description(about)
      .configureOutput(output).exitOverride().showSuggestionAfterError()
      .showHelpAfterError(`Run 'ipcr ${name} --help' for its options.`)
      .helpOption('-h, --help', 'Show this help')
      .addHelpText('after', after)
    const value = addOptions(cmd, name)
    ipcr.addCommand(cmd)
    return { cmd, value }
  }
  const pushCmd = command('push', 'Publish an image (from Docker, podman or a file) into a registry tree and write a CAR', pushHelp.about, pushHelp.after)
  pushCmd.cmd.argument('[IMAGE]', 'Local image reference, exported with docker save (or --container-cli); or give --file')
    .action(async (ref: string | undefined) => { ran.code = await push(ref, pushCmd.value, out, signal) })
  const getCmd = command('get', 'Extract a path of a registry (e.g. a tag folder) from a store, CARs or gateways', getHelp.about, getHelp.after)
  getCmd.cmd.argument('<PATH>', '/ipfs/<cid>/<path>, <cid>/<path>, or <path> inside the store\'s root')
    .action(async (path: string) => { ran.code = await get(path, getCmd.value, out, signal) })
  const demoCmd = command('demo', 'Build a small sample image in-process and publish it into a local store', demoHelp.about, demoHelp.after)
  demoCmd.cmd.action(async () => { ran.code = await demo(demoCmd.value, out, signal) })
  const republishCmd = command('republish', 'Keep an IPNS name alive: put its record again, re-signed when it expires soon (no image)', republishHelp.about, republishHelp.after)
  republishCmd.cmd.action(async () => { ran.code = await republishCommand(republishCmd.value, out, signal) })
  const pullCmd = command('pull', 'Pull an image by name from IPFS (a root, an IPNS name or a DNSLink domain), verified, into a folder, a tar or docker load', pullHelp.about, pullHelp.after)
  pullCmd.cmd.argument('<REF>', '<registry>/<name>:<tag> or <registry>/<name>@sha256:<digest>; <registry> is ipfs/<cid>, ipns/<k51...> or a DNSLink domain')
    .action(async (reference: string) => { ran.code = await pullImageCommand(reference, pullCmd.value, out, signal) })
  const serveCmd = command('serve', 'Serve registry trees as a read-only OCI registry, so docker, podman and skopeo pull from IPFS', serveHelp.about, serveHelp.after)
  serveCmd.cmd.action(async () => { ran.code = await serveCommand(serveCmd.value, out, signal) })
  ipcr.addCommand(keyCommand(output, out, err, ran))

  ipcr.addCommand(dnslinkCommand(output, out, signal, ran))
  ipcr.command('version').description('Print the version').action(() => { out(version) })
  return ipcr
}

/** `ipcr key generate | name`: IPNS keys and their names. */
function keyCommand (output: OutputConfiguration, out: Out, err: Out, ran: { code: number }): Program {
  const sub = (name: string): Program => new Program(name).configureOutput(output).exitOverride().showSuggestionAfterError()
    .showHelpAfterError(`Run 'ipcr key ${name} --help' for its options.`).helpOption('-h, --help', 'Show this help')
  const key = sub('key').summary('Make an IPNS key or print the name of one').description(keyHelp.about).addHelpText('after', keyHelp.after)
  key.addCommand(sub('generate').description(keyHelp.generate)
    .option('--type <ed25519|rsa>', 'Key type (RSA keys are 2048 bits)', 'ed25519')
    .option('-o, --output <FILE>', "Write the key to FILE (a new file, mode 0600, as 'ipfs key export' writes it) and its name to stdout; '-' or none: base64 of the key to stdout, the name to stderr")
    .action(async (options: { type?: string, output?: string }) => { ran.code = await keyGenerate(options, out, err) }))
  key.addCommand(sub('name').description(keyHelp.name)
    .argument('<FILE>', "Key file ('ipfs key export', with or without -f pem-pkcs8-cleartext, or base64 of one); '-' reads stdin")
    .action(async (file: string) => { ran.code = await keyName(file, out) }))
  return key
}

/** `ipcr dnslink set | get`: a domain's DNSLink, written through a provider's API or read through a resolver. */
function dnslinkCommand (output: OutputConfiguration, out: Out, signal: AbortSignal | undefined, ran: { code: number }): Program {
  const sub = (name: string): Program => new Program(name).configureOutput(output).exitOverride().showSuggestionAfterError()
    .showHelpAfterError(`Run 'ipcr dnslink ${name} --help' for its options.`).helpOption('-h, --help', 'Show this help')
  const dnslink = sub('dnslink').summary('Point a domain at a registry (DNSLink TXT record) or read where it points').description(dnslinkHelp.about).addHelpText('after', dnslinkHelp.after)
  const set = sub('set').description(dnslinkHelp.set).addHelpText('after', dnslinkHelp.setAfter)
    .argument('<DOMAIN>', 'The domain users pull from, e.g. registry.example.org (the record goes to _dnslink.DOMAIN)')
    .argument('<VALUE>', '/ipns/<name>, /ipfs/<cid>, or a bare IPNS name or CID')
  const setValue = addOptions(set, 'dnslink-set')
  set.action(async (domain: string, target: string) => { ran.code = await dnslinkSet(domain, target, setValue, out, signal) })
  const get = sub('get').description(dnslinkHelp.get).addHelpText('after', dnslinkHelp.getAfter)
    .argument('<DOMAIN>', 'The domain, e.g. registry.example.org')
  const getValue = addOptions(get, 'dnslink-get')
  get.action(async (domain: string) => { ran.code = await dnslinkGet(domain, getValue, out, signal) })
  dnslink.addCommand(set)
  dnslink.addCommand(get)
  return dnslink
}

/** `signal`: aborting it cancels the command (see src/cli/index.ts); its reason is the error printed. */
export async function main (argv: string[], out: Out = (l) => { process.stdout.write(`${l}\n`) }, { signal }: { signal?: AbortSignal } = {}): Promise<number> {
  const err: Out = (l) => { process.stderr.write(`${l}\n`) }
  const ran = { code: 0 }
  const ipcr = program(out, err, signal, ran)
  if (argv.length === 0) {
    err(ipcr.helpInformation().replace(/\n$/, ''))
    return 2
  }
  try {
    await ipcr.parseAsync(argv, { from: 'user' })
    return ran.code
  } catch (caught) {
    if (caught instanceof CommanderError) {
      if (caught.exitCode === 0) return 0
      return USAGE_ERRORS.has(caught.code) ? 2 : caught.exitCode
    }
    const error = signal?.aborted === true ? signal.reason : caught
    err(`ipcr: ${escapeControl(redact(describeError(error, cliName, cliName)))}`)
    return 1
  }
}
