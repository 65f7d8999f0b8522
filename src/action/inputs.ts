import * as core from '@actions/core'
import { join } from 'node:path'
import { InputError, parseCid, parseTagList, validateGatewayUrl, type CarScope } from '../core/index.js'
import type { CID } from 'multiformats/cid'

/** Every input of action.yml, read and checked in one place. */
export interface ActionInputs {
  image?: string
  imageFile?: string
  name?: string
  tags: string[]
  description?: string
  previousRoot?: CID
  gateways: string[]
  previousCars: string[]
  carPath: string
  carScope: CarScope
  revision?: string
  summary: boolean
  tempDir: string
}

function list (value: string): string[] {
  return value.split(/[\n,]/).map((s) => s.trim()).filter((s) => s.length > 0)
}

/** Credentials in a URL (https://user:token@host) are secrets: mask them before anything logs. */
function maskUrlCredentials (value: string): string {
  try {
    const url = new URL(value)
    if (url.password !== '') core.setSecret(decodeURIComponent(url.password))
    if (url.username !== '' && url.password === '') core.setSecret(decodeURIComponent(url.username))
  } catch {}
  return value
}

function optional (name: string): string | undefined {
  const value = core.getInput(name).trim()
  return value === '' ? undefined : value
}

export function getInputs (env: NodeJS.ProcessEnv = process.env): ActionInputs {
  const image = optional('image')
  const imageFile = optional('image-file')
  if ((image == null) === (imageFile == null)) {
    throw new InputError(image == null ? 'image' : 'image-file', "set exactly one of 'image' (a local Docker image reference) or 'image-file' (an image tarball or OCI layout directory)")
  }
  const parsedTags = parseTagList(core.getInput('tags'))
  const carScope = core.getInput('car-scope').trim() || 'new'
  if (carScope !== 'new' && carScope !== 'full') {
    throw new InputError('car-scope', `'${carScope}' is not a CAR scope (expected 'new' or 'full')`)
  }
  const previous = optional('previous-root')
  const tempDir = env.RUNNER_TEMP ?? env.TMPDIR ?? '/tmp'
  const summary = core.getInput('summary').trim() || 'true'
  if (summary !== 'true' && summary !== 'false') {
    throw new InputError('summary', `'${summary}' is not a boolean (expected true or false)`)
  }
  return {
    ...(image != null ? { image } : {}),
    ...(imageFile != null ? { imageFile } : {}),
    name: optional('name') ?? parsedTags.path,
    tags: parsedTags.tags,
    description: optional('description'),
    ...(previous != null ? { previousRoot: parseCid(previous, 'previous-root') } : {}),
    gateways: list(core.getInput('gateways')).map((g) => validateGatewayUrl(maskUrlCredentials(g))),
    previousCars: list(core.getInput('previous-car')),
    carPath: optional('car-path') ?? join(tempDir, 'ipcr', 'registry.car'),
    carScope,
    revision: optional('revision') ?? env.GITHUB_SHA,
    summary: summary === 'true',
    tempDir
  }
}
