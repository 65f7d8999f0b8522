import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { blobFile } from '../helpers/images.js'

/** Marker in every injected string: no runner command may carry it. */
export const INJECTED = 'INJ3CT'

/** Strings that would run workflow commands or terminal sequences if printed raw. */
export const hostile = {
  commands: `amd64\n::warning title=x::${INJECTED}\n::add-mask::${INJECTED}\r::stop-commands::${INJECTED}`,
  terminal: `arm64\u001b[2J\u001b]0;${INJECTED}\u0007\u009b31m`,
  oldCommand: `x ##[warning]${INJECTED}`,
  html: `<img src=x onerror=alert(1)> **bold** | [link](javascript:alert(1)) <!-- ${INJECTED}`
}

async function writeBlob (dir: string, bytes: Uint8Array): Promise<{ digest: string, size: number }> {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  await writeFile(blobFile(dir, digest), bytes)
  return { digest, size: bytes.length }
}

/**
 * Rewrites the image tagged `tag` in an OCI layout by hand: the config as
 * `config` changes it, then the manifest and index.json entry that name it,
 * with the index entry's annotations merged with `annotations`, then as
 * `entry` changes it.
 */
export async function rewriteLayout (dir: string, tag: string, change: { config?: (config: any) => void, annotations?: Record<string, string>, entry?: (entry: any) => void }): Promise<void> {
  const indexPath = join(dir, 'index.json')
  const index = JSON.parse(await readFile(indexPath, 'utf8'))
  const entry = index.manifests.find((m: any) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)
  if (entry == null) throw new Error(`no tag ${tag} in ${dir}`)
  const manifest = JSON.parse(await readFile(blobFile(dir, entry.digest), 'utf8'))
  if (change.config != null) {
    const config = JSON.parse(await readFile(blobFile(dir, manifest.config.digest), 'utf8'))
    change.config(config)
    Object.assign(manifest.config, await writeBlob(dir, Buffer.from(JSON.stringify(config))))
  }
  Object.assign(entry, await writeBlob(dir, Buffer.from(JSON.stringify(manifest))))
  entry.annotations = { ...entry.annotations, ...change.annotations }
  change.entry?.(entry)
  await writeFile(indexPath, JSON.stringify(index))
}

/**
 * Lines of runner output that a runner would take as a workflow command
 * (`::cmd::` after leading spaces, or the older `##[cmd]`) not issued by the
 * action itself: a command the action never uses, or one whose data is the
 * injected marker. (The action's own `::error::` may quote injected text on
 * its one line: @actions/core escapes its data.)
 */
export function injectedCommands (output: string): string[] {
  return output.split(/\r\n|\r|\n/).filter((line) => {
    if (line.includes('##[')) return true
    const trimmed = line.trimStart()
    if (!trimmed.startsWith('::')) return false
    const command = /^::([^ :]*)/.exec(trimmed)?.[1] ?? ''
    if (!['group', 'endgroup', 'debug', 'warning', 'error', 'add-mask'].includes(command)) return true
    return new RegExp(`^::[^:]*::${INJECTED}`).test(trimmed) || (command === 'add-mask' && line.includes(INJECTED))
  })
}
