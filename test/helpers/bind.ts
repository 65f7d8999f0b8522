/** A BIND 9 `named` on 127.0.0.1 with one zone, TSIG keys and an update policy, for RFC 2136 tests. */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runProcess } from './process.js'

export interface BindServer {
  port: number
  server: string
  /** `hmac-sha256:ipcr-key:SECRET`: may update TXT in the zone. */
  tsig: string
  /** A second key the server knows, which may update nothing. */
  otherTsig: string
  /** Keys with other algorithms, allowed like `tsig`: `hmac-sha512:…`, `hmac-sha1:…`. */
  moreTsig: string[]
  zone: string
  /** `dig @127.0.0.1 -p PORT TYPE NAME +short`, one line each. */
  dig: (name: string, type?: string) => Promise<string[]>
  serial: () => Promise<number>
  stop: () => Promise<void>
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export async function startBind (zoneLines: string[], zone = 'example.test'): Promise<BindServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ipcr-bind-'))
  const port = await freePort()
  const secret = randomBytes(32).toString('base64')
  const otherSecret = randomBytes(32).toString('base64')
  const more = ['hmac-sha512', 'hmac-sha1', 'hmac-sha384', 'hmac-sha224'].map((algorithm) => ({ algorithm, name: `${algorithm}-key`, secret: randomBytes(32).toString('base64') }))
  await writeFile(join(dir, 'zone.db'), [
    '$TTL 300',
    `@ IN SOA ns1.${zone}. admin.${zone}. 1 3600 600 86400 60`,
    `@ IN NS ns1.${zone}.`,
    'ns1 IN A 127.0.0.1',
    ...zoneLines, ''
  ].join('\n'))
  await writeFile(join(dir, 'named.conf'), `
options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  allow-query { any; };
  dnssec-validation no;
};
controls { };
key "ipcr-key" { algorithm hmac-sha256; secret "${secret}"; };
key "other-key" { algorithm hmac-sha256; secret "${otherSecret}"; };
${more.map((k) => `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };`).join('\n')}
zone "${zone}" {
  type primary;
  file "${dir}/zone.db";
  update-policy { grant ipcr-key zonesub TXT; ${more.map((k) => `grant ${k.name} zonesub TXT;`).join(' ')} };
};
`)
  const child = spawn('named', ['-g', '-4', '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`named did not start in 30 s:\n${log}`)), 30_000)
    child.stderr.on('data', (c) => {
      log += String(c)
      // Ready at the line "running" alone, after "all zones loaded" (not "running on Linux…" at the start).
      if (log.includes(`zone ${zone}/IN: loaded serial`) && /\srunning\r?\n/.test(log)) { clearTimeout(timer); resolve() }
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`named exited (${code}):\n${log}`)) })
  })
  const dig = async (name: string, type = 'TXT'): Promise<string[]> => {
    const r = await runProcess('dig', ['@127.0.0.1', '-p', String(port), type, name, '+short', '+tcp'])
    if (r.code !== 0) throw new Error(`dig failed: ${r.stderr}${r.stdout}`)
    return r.stdout.split('\n').filter((l) => l.length > 0)
  }
  return {
    port,
    server: `127.0.0.1:${port}`,
    tsig: `hmac-sha256:ipcr-key:${secret}`,
    otherTsig: `hmac-sha256:other-key:${otherSecret}`,
    moreTsig: more.map((k) => `${k.algorithm}:${k.name}:${k.secret}`),
    zone,
    dig,
    serial: async () => Number((await dig(zone, 'SOA'))[0]?.split(' ')[2]),
    stop: async () => {
      if (child.exitCode == null) {
        const exited = new Promise((resolve) => child.on('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      await rm(dir, { recursive: true, force: true })
    }
  }
}
