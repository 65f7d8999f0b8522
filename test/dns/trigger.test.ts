import { describe, expect, it } from '@jest/globals'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readEventPayload, untrustedTrigger } from '../../src/core/dns/trigger.js'

const EVENTS = fileURLToPath(new URL('./events/', import.meta.url))

/** What untrustedTrigger says for an event and its payload file, read as the publisher reads it. */
async function verdict (event: string | undefined, file?: string): Promise<string | undefined> {
  const env: NodeJS.ProcessEnv = { ...(event != null ? { GITHUB_EVENT_NAME: event } : {}), ...(file != null ? { GITHUB_EVENT_PATH: join(EVENTS, file) } : {}) }
  return untrustedTrigger(env, await readEventPayload(env))
}

describe('untrustedTrigger', () => {
  it('trusts runs outside GitHub Actions and pushes', async () => {
    expect(await verdict(undefined)).toBeUndefined()
    expect(await verdict('push', 'push.json')).toBeUndefined()
    expect(await verdict('workflow_dispatch')).toBeUndefined()
    expect(await verdict('release')).toBeUndefined()
  })

  it('trusts a pull request from a branch of the same repository', async () => {
    expect(await verdict('pull_request', 'pull-request-same-repo.json')).toBeUndefined()
  })

  it('refuses a pull request from a fork, naming it', async () => {
    expect(await verdict('pull_request', 'pull-request-fork.json')).toBe("the event is 'pull_request' from a fork ('stranger/registry')")
    expect(await verdict('pull_request_review', 'pull-request-fork.json')).toMatch(/from a fork/)
  })

  it('refuses a pull request whose fork was deleted', async () => {
    expect(await verdict('pull_request', 'pull-request-deleted-fork.json')).toMatch(/no longer exists/)
  })

  it('compares repositories by id, else by full name in any case', () => {
    const env = { GITHUB_EVENT_NAME: 'pull_request' }
    const pr = (head: object, base: object): object => ({ pull_request: { head: { repo: head }, base: { repo: base } } })
    expect(untrustedTrigger(env, pr({ full_name: 'Octo-Org/Registry' }, { full_name: 'octo-org/registry' }))).toBeUndefined()
    expect(untrustedTrigger(env, pr({ full_name: 'other/registry' }, { full_name: 'octo-org/registry' }))).toMatch(/from a fork/)
    // Same name, another repository (renamed or re-created): the id decides.
    expect(untrustedTrigger(env, pr({ id: 2, full_name: 'octo-org/registry' }, { id: 1, full_name: 'octo-org/registry' }))).toMatch(/from a fork/)
  })

  it('refuses a pull request whose payload cannot be read', async () => {
    expect(await verdict('pull_request')).toMatch(/could not be read/)
    expect(await verdict('pull_request', 'missing.json')).toMatch(/could not be read/)
  })

  it('refuses pull_request_target, even from the same repository', async () => {
    expect(await verdict('pull_request_target', 'pull-request-same-repo.json')).toMatch(/^the event is 'pull_request_target'/)
  })

  it('trusts a workflow_run that a push triggered, and no other', async () => {
    expect(await verdict('workflow_run', 'workflow-run-push.json')).toBeUndefined()
    expect(await verdict('workflow_run', 'workflow-run-pull-request.json')).toBe("the event is 'workflow_run' triggered by 'pull_request', not by a push")
    expect(await verdict('workflow_run')).toMatch(/could not be read/)
    expect(untrustedTrigger({ GITHUB_EVENT_NAME: 'workflow_run' }, { workflow_run: {} })).toMatch(/an unknown event/)
  })
})

describe('readEventPayload', () => {
  it('reads a JSON object, and nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ipcr-event-'))
    try {
      await writeFile(join(dir, 'bad.json'), '{ not json')
      await writeFile(join(dir, 'array.json'), '[1, 2]')
      expect(await readEventPayload({})).toBeUndefined()
      expect(await readEventPayload({ GITHUB_EVENT_PATH: join(dir, 'bad.json') })).toBeUndefined()
      expect(await readEventPayload({ GITHUB_EVENT_PATH: join(dir, 'array.json') })).toBeUndefined()
      expect(await readEventPayload({ GITHUB_EVENT_PATH: join(dir, 'none.json') })).toBeUndefined()
      expect(await readEventPayload({ GITHUB_EVENT_PATH: join(EVENTS, 'push.json') })).toMatchObject({ ref: 'refs/heads/main' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
