// Runs one contender in its own child process and measures wall time and peak RSS:
// with GNU time (`/usr/bin/time -f '%e %M'`) when it exists, else by polling VmHWM in
// /proc/<pid>/status. Either way the process tree is also polled, so a run killed by
// the timeout still reports the peak RSS it had reached.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'

const GNU_TIME = '/usr/bin/time'

export function hasGnuTime () {
  if (!existsSync(GNU_TIME)) return false
  try {
    // GNU time knows --version; the BSD/busybox ones do not.
    const r = spawnSyncText(GNU_TIME, ['--version'])
    return /GNU/.test(r)
  } catch {
    return false
  }
}

function spawnSyncText (cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return `${r.stdout ?? ''}${r.stderr ?? ''}`
}

/** VmHWM (peak resident set) of a pid in KiB, or 0 when it is gone. */
function vmHwmKiB (pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m != null ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

/** pid and all its descendants, found through the parent pid in /proc/<pid>/stat. */
function processTree (rootPid) {
  const parents = new Map()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(Number(name), ppid)
    } catch {}
  }
  const tree = [rootPid]
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid)
  }
  return tree
}

/**
 * Runs `cmd args` and resolves { ok, code, signal, timedOut, wallSeconds, peakRssMiB,
 * stdout, stderr }. Never rejects for a failing command: the caller decides.
 */
export async function measure (cmd, args, { cwd, timeoutSeconds = 0, useGnuTime = true, timeFile, env, onSpawn } = {}) {
  const gnu = useGnuTime && timeFile != null
  const argv = gnu ? [GNU_TIME, '-f', '%e %M', '-o', timeFile, cmd, ...args] : [cmd, ...args]
  const started = process.hrtime.bigint()
  // Own process group, so a timeout can kill the contender and not just /usr/bin/time.
  const child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  onSpawn?.(child)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-20000) })
  let polledKiB = 0
  // VmHWM is a high-water mark, so polling only loses growth in the last interval.
  // Without GNU time the child is the contender itself: read it often and cheaply.
  // With GNU time this is only for runs killed by the timeout: scan the tree rarely.
  const poll = () => {
    try {
      const pids = gnu ? processTree(child.pid).filter((pid) => pid !== child.pid) : [child.pid]
      for (const pid of pids) polledKiB = Math.max(polledKiB, vmHwmKiB(pid))
    } catch {}
  }
  const poller = setInterval(poll, gnu ? 1000 : 100)
  let timedOut = false
  const timer = timeoutSeconds > 0
    ? setTimeout(() => {
      timedOut = true
      poll()
      try { process.kill(-child.pid, 'SIGKILL') } catch {}
    }, timeoutSeconds * 1000)
    : null
  const { code, signal } = await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal }))
  })
  const ownWall = Number(process.hrtime.bigint() - started) / 1e9
  clearInterval(poller)
  if (timer != null) clearTimeout(timer)

  let wallSeconds = ownWall
  let peakKiB = polledKiB
  let failedCode = code
  if (gnu && !timedOut) {
    // GNU time writes "Command exited with non-zero status N" / "Command terminated by
    // signal N" before the format line when the command fails.
    const text = await readFile(timeFile, 'utf8').catch(() => '')
    await rm(timeFile, { force: true })
    const lines = text.trim().split('\n')
    const m = /^([\d.]+) (\d+)$/.exec(lines[lines.length - 1] ?? '')
    if (m != null) {
      wallSeconds = Number(m[1])
      peakKiB = Number(m[2])
    }
    const status = /non-zero status (\d+)/.exec(text)
    if (status != null) failedCode = Number(status[1])
    if (/terminated by signal/.test(text)) failedCode = failedCode === 0 ? 1 : failedCode
  }
  return {
    ok: !timedOut && failedCode === 0 && signal == null,
    code: failedCode,
    signal,
    timedOut,
    wallSeconds,
    ownWallSeconds: ownWall,
    peakRssMiB: peakKiB / 1024,
    rssSource: gnu && !timedOut ? 'GNU time %M' : 'VmHWM poll',
    stdout,
    stderr
  }
}
