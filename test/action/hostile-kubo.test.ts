import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { runAction } from '../helpers/action.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { INJECTED, injectedCommands } from './hostile-layout.js'

// A real Kubo behind a proxy that lies about its version: what a remote service says
// reaches the log, the summary and the CLI's output only escaped.
const version = `0.43.1-x\n::add-mask::${INJECTED}\u001b[2J<img src=x onerror=alert(1)>`

let dir: string
let layout: string
let kubo: KuboNode
let proxy: Server
let proxyUrl: string

beforeAll(async () => {
  dir = await makeTempDir('ipcr-hostile-kubo-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'k.txt': 'hostile kubo\n' } }] })
  kubo = await startKubo()
  const target = new URL(kubo.apiUrl)
  proxy = createServer((req, res) => {
    if (req.url?.startsWith('/api/v0/version') === true) {
      req.resume()
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ Version: version, Commit: '', Repo: '16', System: 'amd64/linux', Golang: 'go1.25' }))
      return
    }
    const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    forward.on('error', () => { res.destroy() })
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve))
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('a Kubo endpoint that answers with hostile text', () => {
  test('the action logs and summarises it escaped', async () => {
    const r = await runAction({ 'image-file': layout, name: 'team/app', tags: 'v1', 'kubo-rpc-url': proxyUrl, summary: 'true' })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`Kubo 0.43.1-x\\n::add-mask::${INJECTED}\\x1b[2J<img`)
    expect(injectedCommands(r.stdout)).toEqual([])
    expect(r.stdout).not.toMatch(/[\u001b\u0007\u009b]/)
    expect(r.summary).toContain('0.43.1-x&#92;n::add-mask::INJ3CT&#92;x1b&#91;2J&lt;img src=x onerror=alert(1)&gt;')
    expect(r.summary).not.toContain('<img')
    expect(r.summary).not.toMatch(/[\u001b\u0007\u009b]/)
  })

  test('the CLI prints it escaped', async () => {
    const child = spawn(process.execPath, [resolve('dist/cli.js'), 'push', '--file', layout, '--name', 'team/app', '--tag', 'v2', '--kubo-rpc-url', proxyUrl, '--car', join(dir, 'cli.car')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (c) => { output += String(c) })
    child.stderr.on('data', (c) => { output += String(c) })
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
    expect(code).toBe(0)
    expect(output).toContain(`version 0.43.1-x\\n::add-mask::${INJECTED}\\x1b[2J`)
    expect(output).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    expect(output.split('\n').some((line) => line.startsWith('::add-mask::'))).toBe(false)
  })
})
