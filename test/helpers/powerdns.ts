import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer, type IncomingMessage } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from './tools.js'

/**
 * The PowerDNS Authoritative Server (Debian's pdns-server + pdns-backend-sqlite3)
 * on loopback: its own config dir and sqlite database under a temp dir, the zones
 * loaded with pdnsutil, the HTTP API and DNS on free ports, no guardian, no daemon.
 */

export interface PowerDnsServer {
  /** The webserver's base URL (http://127.0.0.1:PORT). */
  apiUrl: string
  apiKey: string
  dnsPort: number
  /** `dig @127.0.0.1 -p PORT TXT NAME +short`, one line per record. */
  digTxt(name: string): Promise<string[]>
  log(): string
  stop(): Promise<void>
}

export interface TestZone {
  /** e.g. `example.test` */
  name: string
  /** Zone-file lines after `$ORIGIN name.` (SOA and NS are added). */
  records: string[]
}

const SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql'

/** A port free for TCP and UDP on 127.0.0.1 now (the system picks it). */
async function freePort (): Promise<number> {
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address != null ? address.port : 0))
    })
  })
  await new Promise<void>((resolve, reject) => {
    const socket = createSocket('udp4')
    socket.once('error', reject)
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve()))
  })
  return port
}

function zoneFile (zone: TestZone): string {
  return [
    `$ORIGIN ${zone.name}.`,
    `@ 3600 IN SOA ns1.${zone.name}. hostmaster.${zone.name}. 1 3600 600 86400 60`,
    `@ 3600 IN NS ns1.${zone.name}.`,
    ...zone.records,
    ''
  ].join('\n')
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

/** One start on two fresh ports; rejects with the server's output when it exits before it is ready. */
async function launch (dir: string): Promise<{ child: ChildProcess, apiPort: number, dnsPort: number, output: () => string }> {
  const apiPort = await freePort()
  const dnsPort = await freePort()
  const child = spawn('pdns_server', [`--config-dir=${dir}`, `--webserver-port=${apiPort}`, `--local-port=${dnsPort}`], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const ready = new Promise<void>((resolve, reject) => {
    const check = (chunk: Buffer): void => {
      output += String(chunk)
      if (output.includes('Listening for HTTP requests') && output.includes('Done launching threads')) resolve()
    }
    child.stdout?.on('data', check)
    child.stderr?.on('data', check)
    child.once('exit', (code, signal) => reject(new Error(`pdns_server exited (${code ?? signal}) before it was ready:\n${output.slice(-3000)}`)))
    child.once('error', reject)
  })
  await ready
  return { child, apiPort, dnsPort, output: () => output }
}

export async function startPowerDns (zones: TestZone[]): Promise<PowerDnsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ipcr-pdns-'))
  const apiKey = `pdns-${randomBytes(16).toString('hex')}`
  try {
    const db = join(dir, 'pdns.sqlite3')
    await run('sqlite3', [db, `.read ${SCHEMA}`])
    await writeFile(join(dir, 'pdns.conf'), [
      'launch=gsqlite3',
      `gsqlite3-database=${db}`,
      'api=yes',
      `api-key=${apiKey}`,
      'webserver=yes',
      'webserver-address=127.0.0.1',
      'webserver-allow-from=127.0.0.0/8',
      'local-address=127.0.0.1',
      'guardian=no',
      'daemon=no',
      'disable-syslog=yes',
      'write-pid=no',
      `socket-dir=${dir}`,
      ''
    ].join('\n'))
    for (const zone of zones) {
      const file = join(dir, `${zone.name}.zone`)
      await writeFile(file, zoneFile(zone))
      await run('pdnsutil', [`--config-dir=${dir}`, 'load-zone', zone.name, file])
    }
    // Another process may take a port between choosing it and binding it: a few fresh tries.
    let started: Awaited<ReturnType<typeof launch>> | undefined
    let failure: unknown
    for (let attempt = 0; attempt < 3 && started == null; attempt++) {
      started = await launch(dir).catch((err) => { failure = err; return undefined })
    }
    if (started == null) throw failure
    const { child, dnsPort, output } = started
    return {
      apiUrl: `http://127.0.0.1:${started.apiPort}`,
      apiKey,
      dnsPort,
      digTxt: async (name) => (await run('dig', ['@127.0.0.1', '-p', String(dnsPort), 'TXT', name, '+short'])).split('\n').filter((l) => l.trim() !== ''),
      log: output,
      stop: async () => {
        await stopChild(child)
        await rm(dir, { recursive: true, force: true })
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}

export interface RecordingProxy {
  url: string
  /** `METHOD /path?query` of every request passed on, in order. */
  requests: string[]
  close(): Promise<void>
}

async function bodyOf (request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** An HTTP proxy on loopback in front of `target` that notes each request (to count the writes a provider makes). */
export async function startRecordingProxy (target: string): Promise<RecordingProxy> {
  const requests: string[] = []
  const server = createHttpServer((request, response) => {
    void (async () => {
      const body = await bodyOf(request)
      requests.push(`${request.method ?? ''} ${request.url ?? ''}`)
      const headers: Record<string, string> = {}
      for (const name of ['x-api-key', 'content-type', 'accept']) {
        const value = request.headers[name]
        if (typeof value === 'string') headers[name] = value
      }
      const answer = await fetch(new URL(request.url ?? '/', target), { method: request.method, headers, ...(body.length > 0 ? { body } : {}) })
      const bytes = Buffer.from(await answer.arrayBuffer())
      const contentType = answer.headers.get('content-type')
      response.writeHead(answer.status, contentType != null ? { 'content-type': contentType } : {})
      response.end(bytes)
    })().catch((err) => {
      response.writeHead(502)
      response.end(String(err))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address != null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
