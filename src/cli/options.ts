import { Command as Program, Option } from 'commander'
import { cliOptions, type Command } from '../options/definitions.js'

/** Help text: the table's Markdown code spans as quotes. */
export function plain (text: string): string {
  return text.replace(/`([^`]*)`/g, "'$1'")
}

function collect (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/** Adds a command's flags from the option table; returns how to read each option by key. */
export function addOptions (program: Program, command: Command): (key: string) => string | string[] | boolean | undefined {
  const attributes = new Map<string, string>()
  for (const def of cliOptions(command)) {
    const cli = def.cli
    if (cli == null || !cli.flag.startsWith('--')) continue
    const flags = `${cli.short != null ? `${cli.short}, ` : ''}${cli.flag}${cli.value != null ? ` <${cli.value}>` : ''}`
    const fallback = cli.default ?? def.default
    const text = plain(cli.description ?? def.description).replace(/,? newline- or comma-separated/, '') + (cli.repeat === true ? ' Repeatable, or separate with commas.' : '') + (fallback != null ? ` (default: ${plain(fallback)})` : '')
    const option = new Option(flags, text)
    if (cli.repeat === true) option.argParser(collect)
    program.addOption(option)
    attributes.set(def.key, option.attributeName())
  }
  return (key) => {
    const attribute = attributes.get(key)
    if (attribute == null) throw new Error(`ipcr ${command} has no option '${key}'`)
    return program.opts()[attribute]
  }
}
