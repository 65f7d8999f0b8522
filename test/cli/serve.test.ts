import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn, type ChildProcess } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKey } from '../../src/core/ipns/keys.js'
import { startBind, type BindServer } from '../helpers/bind.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { cliPath, runCli, runProcess } from '../helpers/process.js'

// `ipcr serve` as users run it: a registry published into Kubo with an IPNS name and a DNSLink
// at BIND, then pulled with skopeo by root, by IPNS name and by domain, through the CLI's server.
let dir: string
let bind: BindServer
let kubo: KuboNode
let name: string
let published: { rootCid: string, digest: string }
let server: ChildProcess
let address: string
let stderr = ''

beforeAll(async () => {
  dir = await makeTempDir('ipcr-serve-cli-')
  const layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'served by ipcr\n' } }] })
  const key = await generateKey('ed25519')
  name = key.name
  await writeFile(join(dir, 'registry.key'), key.key.bytes)
  ;[bind, kubo] = await Promise.all([startBind([]), startKubo({ offline: false })])
  const push = await runCli([
    'push', '--file', layout, '--name', 'team/app', '--tag', 'v1', '--json', '--kubo-rpc-url', kubo.apiUrl,
    '--ipns-private-key-file', join(dir, 'registry.key'),
    '--dnslink-domain', 'registry.example.test', '--dns-provider', 'rfc2136', '--rfc2136-server', bind.server
  ], dir, { ...process.env, IPCR_RFC2136_TSIG: bind.tsig, GITHUB_EVENT_NAME: '' })
  if (push.code !== 0) throw new Error(push.stderr)
  published = JSON.parse(push.stdout)
  server = spawn(process.execPath, [cliPath, 'serve', '--kubo-rpc-url', kubo.apiUrl, '--dns-resolver', bind.server, '--listen', '127.0.0.1:0', '--registry', `ipns/${name}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  server.stderr?.on('data', (c) => { stderr += String(c) })
  address = await new Promise<string>((resolve, reject) => {
    let out = ''
    server.stdout?.on('data', (c) => {
      out += String(c)
      const m = /a read-only registry at http:\/\/(\S+) /.exec(out)
      if (m != null) resolve(m[1] as string)
    })
    server.once('exit', (code) => { reject(new Error(`ipcr serve exited (${String(code)}): ${stderr}`)) })
  })
})

afterAll(async () => {
  if (server?.exitCode == null) server?.kill('SIGKILL')
  await Promise.all([bind?.stop(), kubo?.stop()])
  await rm(dir, { recursive: true, force: true })
})

async function inspect (reference: string): Promise<{ code: number, digest?: string, stderr: string }> {
  const r = await runProcess('skopeo', ['inspect', '--tls-verify=false', `docker://${address}/${reference}`])
  return { code: r.code, ...(r.code === 0 ? { digest: JSON.parse(r.stdout).Digest } : {}), stderr: r.stderr }
}

describe('ipcr serve', () => {
  test('the same image by root, by IPNS name, by domain and through the default registry', async () => {
    for (const reference of [`ipfs/${published.rootCid}/team/app:v1`, `ipns/${name}/team/app:v1`, 'registry.example.test/team/app:v1', 'team/app:v1']) {
      const r = await inspect(reference)
      expect({ reference, code: r.code, stderr: r.stderr }).toEqual({ reference, code: 0, stderr: '' })
      expect(r.digest).toBe(published.digest)
    }
    const copied = join(dir, 'copied')
    const copy = await runProcess('skopeo', ['copy', '--src-tls-verify=false', `docker://${address}/registry.example.test/team/app:v1`, `oci:${copied}:v1`])
    expect(copy.code).toBe(0)
  })

  test('a name that holds nothing is NAME_UNKNOWN; a write is refused', async () => {
    const missing = await fetch(`http://${address}/v2/nothing.example.test/team/app/tags/list`)
    expect(missing.status).toBe(404)
    const body = await missing.json() as { errors: Array<{ code: string, message: string }> }
    expect(body.errors[0]?.code).toBe('NAME_UNKNOWN')
    expect(body.errors[0]?.message).toMatch(/no DNSLink for 'nothing\.example\.test'/)
    const write = await fetch(`http://${address}/v2/team/app/manifests/v2`, { method: 'PUT', body: '{}' })
    expect(write.status).toBe(405)
  })

  test('Ctrl-C stops it: the port is closed and it exits 130', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => { resolve(code) }))
    server.kill('SIGINT')
    expect(await exited).toBe(130)
    await expect(fetch(`http://${address}/v2/`)).rejects.toThrow()
  })
})
