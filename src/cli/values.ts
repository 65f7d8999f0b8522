import { parseHeaderLines } from '../core/kubo/config.js'
import { addSecret } from '../core/redact.js'
import { parseCount, parseSize } from '../core/size.js'
import { cliName, definition } from '../options/definitions.js'

/** How the CLI reads its options: one line printed, an option's value by key (see options.ts). */
export type Out = (line: string) => void
export type Value = (key: string) => string | string[] | boolean | undefined

export function list (values: string | string[] | boolean | undefined): string[] {
  return (Array.isArray(values) ? values : []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '')
}

export function str (value: string | string[] | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** An option's value, or undefined when the command has no such option (republish has no pin or MFS flags). */
export function maybe (value: Value, key: string): string | string[] | boolean | undefined {
  try {
    return value(key)
  } catch {
    return undefined
  }
}

/** A secret the CLI takes only from the environment (the option's `env`), registered so nothing prints it. */
export function envSecret (key: string): string | undefined {
  const name = definition(key)?.env
  const text = name != null ? process.env[name] : undefined
  if (text == null || text.trim() === '') return undefined
  addSecret(text.trim())
  // A list of settings is not secret line by line: its tokens are registered once parsed.
  if (definition(key)?.settingsList !== true) for (const line of text.split(/\r?\n/)) if (line.trim() !== '') addSecret(line.trim())
  return text.trim()
}

/** --kubo-rpc-url with its headers (--kubo-rpc-header and the lines of $IPCR_KUBO_RPC_HEADERS); undefined without a URL. */
export function kuboFlags (value: Value): { url: string, headers: Record<string, string> } | undefined {
  const url = str(maybe(value, 'kubo-rpc-url'))
  if (url == null) return undefined
  const lines = [...list(maybe(value, 'kubo-rpc-headers')), ...(process.env.IPCR_KUBO_RPC_HEADERS ?? '').split('\n')]
  return { url, headers: parseHeaderLines(lines.join('\n'), 'kubo-rpc-headers') }
}

/** --max-bytes, --max-entries, --max-blocks: what writing a DAG out may cost, and their names in errors. */
export function exportLimits (value: Value): { limits: { maxBytes?: number, maxEntries?: number, maxBlocks?: number }, limitNames: { maxBytes: string, maxEntries: string, maxBlocks: string } } {
  const maxBytes = str(value('max-bytes'))
  const maxEntries = str(value('max-entries'))
  const maxBlocks = str(value('max-blocks'))
  return {
    limits: {
      ...(maxBytes != null ? { maxBytes: parseSize(maxBytes, 'max-bytes') } : {}),
      ...(maxEntries != null ? { maxEntries: parseCount(maxEntries, 'max-entries') } : {}),
      ...(maxBlocks != null ? { maxBlocks: parseCount(maxBlocks, 'max-blocks') } : {})
    },
    limitNames: { maxBytes: cliName('max-bytes'), maxEntries: cliName('max-entries'), maxBlocks: cliName('max-blocks') }
  }
}

/** Where the pull side looks names up: --dns-resolver, and --kubo-rpc-url, --ipns-router and --gateway for IPNS records. */
export function lookupOptionsOf (value: Value): { resolver?: string, kubo?: { url: string, headers: Record<string, string> }, routers: string[], gateways: string[] } {
  const kubo = kuboFlags(value)
  const resolver = str(maybe(value, 'dns-resolver'))
  return { ...(resolver != null ? { resolver } : {}), ...(kubo != null ? { kubo } : {}), routers: list(maybe(value, 'ipns-routers')), gateways: list(maybe(value, 'gateways')) }
}
