import { open } from 'node:fs/promises'
import { quote } from '../escape.js'

/**
 * Whether the GitHub Actions event that started this run may change DNS.
 * Code from a fork's pull request, `pull_request_target` (the base repository's
 * secrets with a pull request at hand) and a `workflow_run` that a non-push
 * event triggered are untrusted: a publish from them must not move a domain.
 */

/** Longest event payload read (GitHub's are far smaller). */
const MAX_PAYLOAD_BYTES = 32 * 1024 * 1024

/** Events whose payload carries a pull request that may come from a fork. */
const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_review', 'pull_request_review_comment'])

function field (value: unknown, ...path: string[]): unknown {
  let at = value
  for (const key of path) {
    if (typeof at !== 'object' || at == null) return undefined
    at = (at as Record<string, unknown>)[key]
  }
  return at
}

/** A repository in a payload: its id, else its full name (lower case); undefined when absent (a deleted fork). */
function repoOf (repo: unknown): string | undefined {
  const id = field(repo, 'id')
  if (typeof id === 'number' || typeof id === 'string') return `id:${id}`
  const name = field(repo, 'full_name')
  return typeof name === 'string' ? `name:${name.toLowerCase()}` : undefined
}

/**
 * Why DNS must not change for this run, or undefined when it may (also outside
 * GitHub Actions: no GITHUB_EVENT_NAME). `eventPayload` is the JSON at GITHUB_EVENT_PATH;
 * without it, an event that needs it to tell is untrusted.
 */
export function untrustedTrigger (env: NodeJS.ProcessEnv, eventPayload?: object): string | undefined {
  const name = env.GITHUB_EVENT_NAME?.trim() ?? ''
  if (name === '') return undefined
  const event = quote(name, 60)
  if (name === 'pull_request_target') {
    return "the event is 'pull_request_target' (the base repository's secrets, with a pull request's code at hand)"
  }
  if (PULL_REQUEST_EVENTS.has(name)) {
    if (eventPayload == null) return `the event is ${event} and its payload (GITHUB_EVENT_PATH) could not be read to tell whether it comes from a fork`
    const head = repoOf(field(eventPayload, 'pull_request', 'head', 'repo'))
    const base = repoOf(field(eventPayload, 'pull_request', 'base', 'repo')) ?? repoOf(field(eventPayload, 'repository'))
    if (base == null) return `the event is ${event} and its payload names no base repository`
    if (head == null) return `the event is ${event} from a repository that no longer exists (a deleted fork)`
    if (head !== base) {
      const fork = field(eventPayload, 'pull_request', 'head', 'repo', 'full_name')
      return `the event is ${event} from a fork${typeof fork === 'string' ? ` (${quote(fork, 100)})` : ''}`
    }
    return undefined
  }
  if (name === 'workflow_run') {
    if (eventPayload == null) return "the event is 'workflow_run' and its payload (GITHUB_EVENT_PATH) could not be read to tell what triggered it"
    const triggering = field(eventPayload, 'workflow_run', 'event')
    if (triggering !== 'push') {
      return `the event is 'workflow_run' triggered by ${typeof triggering === 'string' ? quote(triggering, 60) : 'an unknown event'}, not by a push`
    }
  }
  return undefined
}

/** The JSON object at GITHUB_EVENT_PATH, or undefined when there is none or it cannot be read. */
export async function readEventPayload (env: NodeJS.ProcessEnv): Promise<object | undefined> {
  const path = env.GITHUB_EVENT_PATH?.trim() ?? ''
  if (path === '') return undefined
  try {
    const file = await open(path, 'r')
    try {
      const { size } = await file.stat()
      if (size > MAX_PAYLOAD_BYTES) return undefined
      const json = JSON.parse(await file.readFile('utf8')) as unknown
      return typeof json === 'object' && json != null && !Array.isArray(json) ? json : undefined
    } finally {
      await file.close()
    }
  } catch {
    return undefined
  }
}
