import { expect } from '@jest/globals'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { runAction } from './action.js'
import { runCli } from './process.js'

/** One rule between options, broken the same way in both shells, and what each must say. */
export interface RuleCase {
  what: string
  /** The CLI's arguments, command first. */
  cli: string[]
  cliEnv?: Record<string, string>
  /** The action's inputs. */
  action: Record<string, string>
  cliSays: RegExp
  actionSays: RegExp
}

/**
 * Runs a case in both shells: each fails (exit 1) with its message, before anything is written:
 * a push writes no CAR (`never.car` in `dir`), the action sets no root-cid. Returns both runs.
 */
export async function expectRefusedInBothShells (c: RuleCase, dir: string): Promise<{ cli: Awaited<ReturnType<typeof runCli>>, action: Awaited<ReturnType<typeof runAction>> }> {
  const cli = await runCli(c.cli[0] === 'push' ? [...c.cli, '--car', 'never.car'] : c.cli, dir, { ...process.env, ...c.cliEnv })
  expect(cli.code).toBe(1)
  expect(cli.stderr).toMatch(c.cliSays)
  expect(cli.stderr).not.toContain("Input '")
  expect(existsSync(join(dir, 'never.car'))).toBe(false)
  const action = await runAction(c.action)
  expect(action.code).toBe(1)
  expect(action.stdout).toMatch(c.actionSays)
  expect(action.outputs['root-cid']).toBeUndefined()
  return { cli, action }
}
