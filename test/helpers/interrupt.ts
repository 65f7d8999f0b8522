import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeSampleImage } from '../../src/core/sample.js'
import { run } from './tools.js'

/** A child process of the test with its output collected and its end awaitable. */
export interface Running {
  child: ChildProcess
  output: () => string
  done: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

export function start (script: string, args: string[], options: { cwd: string, env: NodeJS.ProcessEnv }): Running {
  const child = spawn(process.execPath, [script, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (c) => { output += String(c) })
  child.stderr?.on('data', (c) => { output += String(c) })
  const done = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => { resolve({ code, signal }) })
  })
  return { child, output: () => output, done }
}

/** Every file under `dir` with its size (folders listed with size -1). */
export async function listTree (dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>()
  const walk = async (at: string, prefix: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(at, { withFileTypes: true })
    } catch (err: any) {
      if (err.code === 'ENOENT') return
      throw err
    }
    for (const entry of entries) {
      const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`
      if (entry.isDirectory()) {
        found.set(name, -1)
        await walk(join(at, entry.name), name)
      } else {
        found.set(name, await stat(join(at, entry.name)).then((s) => s.size, () => 0))
      }
    }
  }
  await walk(dir, '')
  return found
}

/**
 * Polls `dir` until a file whose path matches `pattern` holds more than
 * `bytes`, then stops `running` with SIGSTOP, so the state the test looks at
 * next is frozen. Fails if the process ends first.
 */
export async function stopWhenFile (running: Running, dir: string, pattern: RegExp, bytes: number): Promise<{ path: string, size: number }> {
  let ended = false
  void running.done.then(() => { ended = true })
  for (;;) {
    if (ended) throw new Error(`the process ended before a file matching ${pattern} reached ${bytes} bytes:\n${running.output()}`)
    for (const [path, size] of await listTree(dir)) {
      if (pattern.test(path) && size > bytes) {
        await stop(running)
        // Read again: the size now that the process is stopped.
        const frozen = (await listTree(dir)).get(path) ?? 0
        return { path, size: frozen }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** SIGSTOP, then waits until every thread of the process is stopped (state T in /proc). */
async function stop (running: Running): Promise<void> {
  await stopProcess(running.child.pid as number)
}

/** SIGSTOP to `pid`, then waits until every thread of it is stopped (state T in /proc). */
export async function stopProcess (pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP')
  for (;;) {
    const tasks = await readdir(`/proc/${pid}/task`)
    const states = await Promise.all(tasks.map(async (t) => {
      const stat = await readFile(`/proc/${pid}/task/${t}/stat`, 'utf8').catch(() => ') T')
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    }))
    if (states.every((state) => state === 'T' || state === 't')) return
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

/** Sends each signal to a stopped process, then lets it go on: they arrive together. */
export function signalStopped (running: Running, ...signals: NodeJS.Signals[]): void {
  for (const s of signals) running.child.kill(s)
  running.child.kill('SIGCONT')
}

export const MiB = 1024 * 1024

/** An OCI layout with one uncompressed layer of `size` random bytes, and the layer's digest hex. */
export async function bigLayout (dir: string, size: number): Promise<{ dir: string, layerHex: string, layerSize: number }> {
  await writeSampleImage(dir, { gzip: false, layers: [[{ path: 'big.bin', size }]] })
  let layerHex = ''
  let layerSize = 0
  for (const [name, bytes] of await listTree(join(dir, 'blobs', 'sha256'))) {
    if (bytes > layerSize) {
      layerHex = name
      layerSize = bytes
    }
  }
  return { dir, layerHex, layerSize }
}

/** The layout as a gzip tarball (real tar and gzip); returns the size of the tar inside. */
export async function gzipTarball (layout: string, path: string): Promise<number> {
  await run('sh', ['-c', 'tar -C "$1" -cf - . | gzip -1 > "$2"', 'sh', layout, path])
  return Number((await run('sh', ['-c', 'gzip -dc "$1" | wc -c', 'sh', path])).trim())
}

/** An HTTP server on 127.0.0.1 that reads requests and never answers; `requested` resolves at the first. */
export async function silentServer (): Promise<{ url: string, requested: Promise<string>, close: () => Promise<void> }> {
  let onRequest: (path: string) => void = () => {}
  const requested = new Promise<string>((resolve) => { onRequest = resolve })
  const server: Server = createServer((req) => { onRequest(req.url ?? '') })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requested,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
}

/** A `docker` on PATH that writes its pid to `pidFile` and then waits forever (a save that never ends). */
export async function hangingDocker (binDir: string, pidFile: string): Promise<void> {
  await writeFile(join(binDir, 'docker'), `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 100000\n`, { mode: 0o755 })
}

export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
