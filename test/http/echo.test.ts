import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { runAction } from '../helpers/action.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'

// A Kubo endpoint (or a proxy in front of one) whose 500 error body echoes the
// request headers: raw, base64, hex, URL-encoded, and cut one character short
// past a long message. The real CLI and the real action print the error; neither
// may print the token, its base64 or any prefix of them of 8 or more characters.
const token = `ipcr-T0ken-${randomBytes(18).toString('base64url')}`
const apiKey = `k3y-${randomBytes(18).toString('hex')}`
const secrets = [token, apiKey, Buffer.from(token).toString('base64'), Buffer.from(apiKey).toString('base64'), Buffer.from(`Bearer ${token}`).toString('base64')]

let dir: string
let layout: string
let server: Server
let url: string
let requests = 0

beforeAll(async () => {
  dir = await makeTempDir('ipcr-echo-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'e.txt': 'echo\n' } }] })
  server = createServer((req, res) => {
    requests++
    req.resume()
    const values = [String(req.headers.authorization ?? ''), String(req.headers['x-api-key'] ?? '')]
    const echoed = [
      `headers: ${JSON.stringify(req.headers)}`,
      ...values.map((v) => `b64 ${Buffer.from(v).toString('base64')} hex ${Buffer.from(v).toString('hex')} url ${encodeURIComponent(v)}`),
      // Padding so that a cut at 300 characters falls inside the token.
      `${'.'.repeat(260)}${values[0] ?? ''}`
    ]
    res.writeHead(500, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ Message: echoed.reverse().join('\n'), Code: 0, Type: 'error' }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

/** No secret, nor any prefix of 8+ characters of one, in `text`. */
function expectNoSecret (text: string): void {
  for (const secret of secrets) {
    for (let length = 8; length <= secret.length; length++) {
      const prefix = secret.slice(0, length)
      if (text.includes(prefix)) throw new Error(`output contains ${length} characters of a secret: ${text}`)
    }
  }
}

describe('an error body that echoes the request headers', () => {
  test('the CLI (headers from IPCR_KUBO_RPC_HEADERS) prints the error without any part of the token', async () => {
    const before = requests
    const car = join(dir, 'cli.car')
    const child = spawn(process.execPath, [resolve('dist/cli.js'), 'push', '--file', layout, '--name', 'team/app', '--tag', 'v1', '--car', car, '--kubo-rpc-url', url], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, IPCR_KUBO_RPC_HEADERS: `Authorization: Bearer ${token}\nX-Api-Key: ${apiKey}` },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => { stdout += String(c) })
    child.stderr.on('data', (c) => { stderr += String(c) })
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
    expect(code).toBe(1)
    expect(requests - before).toBe(1) // the endpoint was asked, and answered with the echo
    const errors = stderr.split('\n').filter((line) => line.startsWith('ipcr: '))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(new RegExp(`^ipcr: Kubo RPC ${url}: version failed: HTTP 500: `))
    expect(errors[0]).toContain('***')
    expectNoSecret(stdout + stderr)
    expect(existsSync(car)).toBe(false)
  })

  test('the action prints the error without any part of the token, and sets no outputs or summary', async () => {
    const before = requests
    const r = await runAction({
      'image-file': layout,
      name: 'team/app',
      tags: 'v1',
      'kubo-rpc-url': url,
      'kubo-rpc-headers': `Authorization: Bearer ${token}\nX-Api-Key: ${apiKey}\n`
    })
    expect(r.code).toBe(1)
    expect(requests - before).toBe(1)
    // `::add-mask::` lines are how a runner learns what to mask; a runner never shows them.
    const shown = r.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n')
    expect(shown).toMatch(new RegExp(`::error::Kubo RPC ${url}: version failed: HTTP 500: `))
    expectNoSecret(shown)
    expectNoSecret(JSON.stringify(r.outputs) + r.summary)
    expect(r.outputs).toEqual({})
  })
})
