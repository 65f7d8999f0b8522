import { InputError } from '../errors.js'
import { quote } from '../escape.js'
import { platformString, type Platform } from '../image/model.js'
import { PLATFORM_TOKEN_RE } from '../registry/reference.js'

/** `os/arch[/variant]`, e.g. `linux/arm64` or `linux/arm/v7`; InputError naming `input`. */
export function parsePlatform (value: string, input = 'platform'): Platform {
  const parts = value.trim().split('/')
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => PLATFORM_TOKEN_RE.test(p))) {
    throw new InputError(input, `${quote(value)} is not a platform: expected os/architecture[/variant], e.g. linux/arm64`)
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined]
  return variant != null ? { os, architecture, variant } : { os, architecture }
}

/** The platform of this machine, as images name it (linux/amd64 on x64, linux/arm64 on arm64). */
export function hostPlatform (): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch }
}

/** An entry of an image index: a manifest digest and the platform it is for. */
export interface IndexEntry {
  mediaType: string
  digest: string
  size: number
  platform?: Platform
}

/**
 * The entry of `entries` for `wanted`: same os and architecture, and the same variant when
 * `wanted` names one (else the entry without a variant first). Undefined when none is.
 */
export function choosePlatform (entries: IndexEntry[], wanted: Platform): IndexEntry | undefined {
  const same = entries.filter((e) => e.platform?.os === wanted.os && e.platform.architecture === wanted.architecture)
  if (wanted.variant != null) return same.find((e) => e.platform?.variant === wanted.variant)
  return same.find((e) => e.platform?.variant == null) ?? same[0]
}

/** The platforms of an index, as an error lists them. */
export function describePlatforms (entries: IndexEntry[]): string {
  const names = entries.filter((e) => e.platform != null).map((e) => platformString(e.platform as Platform))
  return names.length === 0 ? 'none' : [...new Set(names)].join(', ')
}
