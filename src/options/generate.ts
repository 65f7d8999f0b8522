import { actionInputs, definitions, type OptionDefinition } from './definitions.js'

/** A YAML single-quoted scalar. */
function quoted (text: string): string {
  return `'${text.replace(/'/g, "''")}'`
}

function cell (text: string): string {
  return text.replace(/\|/g, '\\|')
}

function flags (def: OptionDefinition): string {
  const cli = def.cli
  if (cli == null) return def.env != null ? `\`$${def.env}\`` : ''
  const name = cli.flag.startsWith('--') ? `${cli.short != null ? `${cli.short}, ` : ''}${cli.flag}${cli.value != null ? ` ${cli.value}` : ''}` : cli.flag
  return `\`${name}\`${cli.negates === true ? ' (the opposite)' : ''}`
}

/** action.yml's `inputs:` block from the table. */
export function actionInputsYaml (): string {
  const lines = ['inputs:']
  for (const def of actionInputs()) {
    const shown = def.default != null && def.actionDefault == null ? ` Default: ${def.default.replace(/`/g, '')}.` : ''
    lines.push(`  ${def.key}:`, `    description: ${quoted(def.description.replace(/`/g, '') + shown)}`, '    required: false')
    if (def.actionDefault != null) lines.push(`    default: ${quoted(def.actionDefault)}`)
  }
  return lines.join('\n') + '\n'
}

/** The README's inputs table (with each input's CLI flag). */
export function readmeInputsTable (): string {
  const rows = actionInputs().map((d) => `| \`${d.key}\` | ${flags(d)} | ${cell(d.default ?? '')} | ${cell(d.description)} |`)
  return ['| input | CLI | default | meaning |', '|---|---|---|---|', ...rows].join('\n')
}

/** The README's table of CLI-only options. */
export function readmeCliTable (): string {
  const rows = definitions.filter((d) => !d.action && d.cli != null).map((d) => {
    const cli = d.cli as NonNullable<OptionDefinition['cli']>
    return `| ${flags(d)} | ${cli.commands.join(', ')} | ${cell(cli.default ?? d.default ?? '')} | ${cell(cli.description ?? d.description)} |`
  })
  return ['| flag | commands | default | meaning |', '|---|---|---|---|', ...rows].join('\n')
}

function replaceBetween (text: string, start: string, end: string, body: string, file: string): string {
  const a = text.indexOf(start)
  const b = text.indexOf(end, a)
  if (a < 0 || b < 0) throw new Error(`${file} has no ${start} … ${end} section`)
  return text.slice(0, a + start.length) + body + text.slice(b)
}

/** action.yml with its inputs from the table; the rest is kept. */
export function generateActionYml (current: string): string {
  return replaceBetween(current, '\n\ninputs:\n', '\noutputs:', actionInputsYaml().slice('inputs:\n'.length), 'action.yml')
}

/** README.md with its option tables from the table. */
export function generateReadme (current: string): string {
  let text = replaceBetween(current, '<!-- options:action -->\n', '<!-- /options:action -->', `${readmeInputsTable()}\n`, 'README.md')
  text = replaceBetween(text, '<!-- options:cli -->\n', '<!-- /options:cli -->', `${readmeCliTable()}\n`, 'README.md')
  return text
}
