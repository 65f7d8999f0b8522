import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn, type ChildProcess } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKey } from '../../src/core/ipns/keys.js'
import { startBind, type BindServer } from '../helpers/bind.js'
import { buildOciLayout, dockerImageId, dockerRemove, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { cliPath, runCli, runProcess } from '../helpers/process.js'
import { withToolsOnPath } from '../helpers/tools.js'

// The pull side as users run it: a registry published into Kubo with an IPNS name and a DNSLink
// at BIND, then `ipcr pull` by domain, and `ipcr serve` pulled with skopeo by root, by IPNS name
// and by domain.
let dir: string
let bind: BindServer
let kubo: KuboNode
let name: string
let published: { rootCid: string, digest: string, imageId: string }
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
  server = spawn(process.execPath, [cliPath, 'serve', '--cache', 'none', '--kubo-rpc-url', kubo.apiUrl, '--dns-resolver', bind.server, '--listen', '127.0.0.1:0', '--registry', `ipns/${name}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
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

describe('ipcr pull', () => {
  const byDomain = (): string[] => ['--dns-resolver', bind.server, '--kubo-rpc-url', kubo.apiUrl, '--gateway', kubo.gatewayUrl]

  test('by domain into a folder: the tag folder as ipfs get gives it; a second pull fetches nothing', async () => {
    const cache = join(dir, 'cache')
    const first = await runCli(['pull', 'registry.example.test/team/app:v1', ...byDomain(), '--cache', cache, '-o', join(dir, 'pulled'), '--json'], dir)
    expect(first.stderr).toMatch(/registry\.example\.test is \/ipfs\//)
    expect(first.code).toBe(0)
    const result = JSON.parse(first.stdout)
    expect(result).toMatchObject({ root: published.rootCid, digest: published.digest })
    expect(result.fetched.blocks).toBeGreaterThan(0)
    await kubo.ipfs('get', '-o', join(dir, 'ipfs-get'), `/ipfs/${published.rootCid}/team/app/tags/v1`)
    const diff = await runProcess('diff', ['-r', join(dir, 'pulled'), join(dir, 'ipfs-get')])
    expect(diff).toMatchObject({ code: 0, stdout: '' })
    const again = await runCli(['pull', `ipns/${name}/team/app:v1`, ...byDomain(), '--cache', cache, '-o', join(dir, 'again'), '--json'], dir)
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout).fetched).toEqual({ blocks: 0, bytes: 0 })
  })

  test('-o - into docker load: the original image ID', async () => {
    const load = await runProcess('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${cliPath}" pull ipfs/${published.rootCid}/team/app:v1 --gateway ${kubo.gatewayUrl} --cache none -o - | docker load`], { cwd: dir, env: withToolsOnPath() })
    expect(load.code).toBe(0)
    const loaded = /Loaded image: (\S+)/.exec(load.stdout)?.[1] as string
    try {
      expect(await dockerImageId(loaded)).toBe(published.imageId)
    } finally {
      await dockerRemove(loaded)
    }
  })

  test('a reference that names nothing, or no source: clear errors', async () => {
    const missing = await runCli(['pull', `ipfs/${published.rootCid}/team/app:v9`, '--gateway', kubo.gatewayUrl, '-o', join(dir, 'never')], dir)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^ipcr: REF: .*team\/app has no tag v9 \(tags: v1\)/m)
    const none = await runCli(['pull', `ipfs/${published.rootCid}/team/app:v1`, '-o', join(dir, 'never')], dir)
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/^ipcr: --gateway: no block source: give --gateway, --kubo-rpc-url, --car or --store/m)
  })
})

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
