import { InputError } from '../errors.js'
import { quote } from '../escape.js'
import { parseReference } from '../registry/reference.js'

/** One image of an archive: the names it carries and the digests it can be named by. */
export interface Candidate {
  /** RepoTags, `io.containerd.image.name` or `org.opencontainers.image.ref.name` values. */
  names: string[]
  /** The manifest digest and, when known, the config digest (the image ID). */
  digests: string[]
}

/** Domains Docker and podman add to a name written without one. */
const DEFAULT_DOMAINS = new Set(['docker.io', 'index.docker.io', 'localhost'])

/** A reference in one spelling: `team/app`, `docker.io/team/app:latest` and `localhost/team/app:latest` agree. */
function canonical (value: string): string | undefined {
  let ref
  try {
    ref = parseReference(value, 'image')
  } catch {
    return undefined
  }
  const domain = ref.domain == null || DEFAULT_DOMAINS.has(ref.domain) ? 'docker.io' : ref.domain
  const path = domain === 'docker.io' && !ref.path.includes('/') ? `library/${ref.path}` : ref.path
  return `${domain}/${path}:${ref.tag ?? (ref.digest != null ? '' : 'latest')}@${ref.digest ?? ''}`
}

/** True when a name is a bare tag, as `org.opencontainers.image.ref.name` often is (`1.0`, `latest`). */
export function isBareName (name: string): boolean {
  return !/[/:@]/.test(name)
}

/** Whether `ref`, as a user wrote it, names an image called `name` in an archive. */
export function refMatches (ref: string, name: string): boolean {
  if (ref === name) return true
  // A bare tag in an OCI layout matches a reference with that tag.
  if (isBareName(name)) {
    try {
      return parseReference(ref, 'image').tag === name
    } catch {
      return false
    }
  }
  const a = canonical(ref)
  return a != null && a === canonical(name)
}

function matches (ref: string, candidate: Candidate): boolean {
  if (/^sha256:[0-9a-f]{64}$/.test(ref)) return candidate.digests.includes(ref)
  return candidate.names.some((name) => refMatches(ref, name))
}

const LISTED = 20

/** The candidates as an error lists them: `team/app:1.1, team/tool:0.1`. */
export function describeCandidates (candidates: Candidate[]): string {
  const shown = candidates.slice(0, LISTED).map((c) => c.names.length > 0 ? c.names.map((n) => quote(n, 120)).join(' = ') : `${c.digests[0] ?? '?'} (unnamed)`)
  if (candidates.length > LISTED) shown.push(`and ${candidates.length - LISTED} more`)
  return shown.join(', ')
}

export interface SelectContext {
  /** The input that gave the archive (`image-file`), for errors. */
  input: string
  /** The input that gives the reference (`image`), for errors. */
  refInput: string
  label: string
}

/**
 * The candidate `ref` names, or every candidate when `ref` is undefined.
 * A ref that names none is an error listing what the archive holds, unless
 * the archive holds one image and names nothing (the ref then only names what is published).
 */
export function selectCandidates<T extends Candidate> (candidates: T[], ref: string | undefined, ctx: SelectContext): T[] {
  if (ref == null) return candidates
  const chosen = candidates.filter((c) => matches(ref, c))
  if (chosen.length > 0) return chosen
  if (candidates.length === 1 && candidates[0]?.names.length === 0) return candidates
  throw new InputError(ctx.refInput, `${ctx.label} holds no image named ${quote(ref)}; it holds ${describeCandidates(candidates)}`)
}

/** The error for an archive of several images when none was chosen. */
export function severalImagesError (candidates: Candidate[], ctx: SelectContext): InputError {
  const example = candidates.flatMap((c) => c.names)[0]
  return new InputError(ctx.input, `${ctx.label} holds ${candidates.length} images: ${describeCandidates(candidates)}; choose one by reference with '${ctx.refInput}'${example != null ? ` (e.g. ${quote(example, 120)})` : ''}`)
}
