import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { appendFile, readFile, rm, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DigestMismatchError, ImageFormatError } from '../../src/core/errors.js'
import { openImageArchive } from '../../src/core/image/archive.js'
import { loadImage } from '../../src/core/image/load.js'
import type { NormalizedImage } from '../../src/core/image/model.js'
import {
  blobFile, buildMultiPlatformLayout, buildOciLayout, dockerBuild, dockerRemove, dockerSave, makeTempDir, regctlExport, uniqueName
} from '../helpers/images.js'
import type { BuiltOciImage } from '../helpers/images.js'
import { run } from '../helpers/tools.js'

const INPUT = 'broken-input'

let dir: string
let layout: string
let built: BuiltOciImage
let saved: string
let multiTar: string
let counter = 0

async function load (path: string): Promise<NormalizedImage> {
  const archive = await openImageArchive(path, { input: INPUT, tempDir: dir })
  try {
    return await loadImage(archive, { input: INPUT })
  } finally {
    await archive.close()
  }
}

async function expectLoadError (path: string, type: typeof ImageFormatError | typeof DigestMismatchError, pattern: RegExp): Promise<void> {
  const error = await load(path).then(() => undefined, (err: unknown) => err)
  expect(error).toBeInstanceOf(type)
  expect((error as Error).message).toContain(`Input '${INPUT}'`)
  expect((error as Error).message).toMatch(pattern)
}

/** A fresh copy of a directory, or of a tar's contents, to break. */
async function copyOf (source: string): Promise<string> {
  const copy = join(dir, `copy-${++counter}`)
  await run('mkdir', ['-p', copy])
  if (source.endsWith('.tar')) await run('tar', ['-C', copy, '-xf', source])
  else await run('cp', ['-a', `${source}/.`, copy])
  return copy
}

async function repack (folder: string): Promise<string> {
  const file = `${folder}.tar`
  await run('tar', ['-C', folder, '-cf', file, '.'])
  return file
}

async function editJson (path: string, edit: (json: any) => void): Promise<void> {
  const json = JSON.parse(await readFile(path, 'utf8'))
  edit(json)
  await writeFile(path, JSON.stringify(json))
}

beforeAll(async () => {
  dir = await makeTempDir()
  layout = join(dir, 'layout')
  built = await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'a\n' } }] })
  const ref = `localhost/${uniqueName()}:errors`
  await dockerBuild(ref, { 'b.txt': 'b\n' }, { 'com.example.x': 'y' })
  saved = join(dir, 'saved.tar')
  await dockerSave(ref, saved)
  await dockerRemove(ref)
  const multiLayout = join(dir, 'multi')
  await buildMultiPlatformLayout(multiLayout)
  multiTar = join(dir, 'multi.tar')
  await regctlExport(multiLayout, 'multi', multiTar)
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('OCI layout', () => {
  test('config bytes altered: digest mismatch naming the path', async () => {
    const copy = await copyOf(layout)
    const config = blobFile(copy, built.configDigest)
    const text = await readFile(config, 'utf8')
    await writeFile(config, text.replace('"amd64"', '"amd65"'))
    await expectLoadError(copy, DigestMismatchError, new RegExp(`blobs/sha256/${built.configDigest.slice(7)}.*hashes to`))
  })

  test('manifest blob grown by a byte: size mismatch', async () => {
    const copy = await copyOf(layout)
    await appendFile(blobFile(copy, built.manifestDigest), ' ')
    await expectLoadError(copy, DigestMismatchError, /bytes, but index\.json says/)
  })

  test('a layer blob missing', async () => {
    const copy = await copyOf(layout)
    const layer = built.layerDigests[0]!
    await unlink(blobFile(copy, layer))
    await expectLoadError(await repack(copy), ImageFormatError, new RegExp(`missing blob ${layer}`))
  })

  test('the manifest blob missing', async () => {
    const copy = await copyOf(layout)
    await unlink(blobFile(copy, built.manifestDigest))
    await expectLoadError(copy, ImageFormatError, new RegExp(`missing blob ${built.manifestDigest}.*referenced by index\\.json`))
  })

  test('a platform manifest of an index missing', async () => {
    const copy = await copyOf(multiTar)
    const index = JSON.parse(await readFile(join(copy, 'index.json'), 'utf8'))
    const nested = JSON.parse(await readFile(blobFile(copy, index.manifests[0].digest), 'utf8'))
    const arm = nested.manifests.find((m: any) => m.platform?.architecture === 'arm64')
    await unlink(blobFile(copy, arm.digest))
    await expectLoadError(copy, ImageFormatError, new RegExp(`missing blob ${arm.digest}.*only some platforms`))
  })

  test('index.json with the wrong schemaVersion', async () => {
    const copy = await copyOf(layout)
    await editJson(join(copy, 'index.json'), (json) => { json.schemaVersion = 1 })
    await expectLoadError(copy, ImageFormatError, /index\.json.*schemaVersion 1, expected 2/)
  })

  test('index.json with no manifests', async () => {
    const copy = await copyOf(layout)
    await editJson(join(copy, 'index.json'), (json) => { json.manifests = [] })
    await expectLoadError(copy, ImageFormatError, /lists no manifests/)
  })

  test('index.json that is not JSON', async () => {
    const copy = await copyOf(layout)
    await writeFile(join(copy, 'index.json'), '{oops')
    await expectLoadError(copy, ImageFormatError, /index\.json.*not valid JSON/)
  })

  test('an unsupported manifest media type', async () => {
    const copy = await copyOf(layout)
    await editJson(join(copy, 'index.json'), (json) => { json.manifests[0].mediaType = 'application/vnd.docker.distribution.manifest.v1+prettyjws' })
    await expectLoadError(copy, ImageFormatError, /unsupported media type.*schema 1/)
  })

  test('a sha512 digest', async () => {
    const copy = await copyOf(layout)
    await editJson(join(copy, 'index.json'), (json) => { json.manifests[0].digest = `sha512:${'a'.repeat(128)}` })
    await expectLoadError(copy, ImageFormatError, /unsupported digest 'sha512:/)
  })

  test('an unknown oci-layout version', async () => {
    const copy = await copyOf(layout)
    await writeFile(join(copy, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}')
    await expectLoadError(copy, ImageFormatError, /image layout version '2\.0\.0'/)
  })

  test('missing attestation manifests are skipped, real platforms kept', async () => {
    const copy = await copyOf(multiTar)
    const indexPath = join(copy, 'index.json')
    const index = JSON.parse(await readFile(indexPath, 'utf8'))
    const nestedPath = blobFile(copy, index.manifests[0].digest)
    const nested = JSON.parse(await readFile(nestedPath, 'utf8'))
    nested.manifests.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${'0'.repeat(64)}`,
      size: 100,
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest' }
    })
    const bytes = Buffer.from(JSON.stringify(nested))
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    await writeFile(blobFile(copy, digest), bytes)
    index.manifests[0].digest = digest
    index.manifests[0].size = bytes.length
    await writeFile(indexPath, JSON.stringify(index))
    const image = await load(copy)
    expect(image.root.digest).toBe(digest)
    expect(image.images.map((i) => i.platform.architecture)).toEqual(['amd64', 'arm64'])
  })
})

describe('legacy docker archive', () => {
  test('manifest.json naming a missing config', async () => {
    const copy = await copyOf(saved)
    const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8'))
    await unlink(join(copy, manifest[0].Config))
    await expectLoadError(await repack(copy), ImageFormatError, new RegExp(`missing '${manifest[0].Config as string}', named in manifest\\.json`))
  })

  test('manifest.json naming a missing layer', async () => {
    const copy = await copyOf(saved)
    const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8'))
    await unlink(join(copy, manifest[0].Layers[0]))
    await expectLoadError(await repack(copy), ImageFormatError, new RegExp(`missing '${manifest[0].Layers[0] as string}'`))
  })

  test('config altered: digest mismatch against its file name', async () => {
    const copy = await copyOf(saved)
    const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8'))
    await editJson(join(copy, manifest[0].Config), (json) => { json.config.Labels['com.example.x'] = 'z' })
    await expectLoadError(await repack(copy), DigestMismatchError, new RegExp(`${manifest[0].Config as string}.*hashes to`))
  })

  test('manifest.json that is not a list', async () => {
    const copy = await copyOf(saved)
    await writeFile(join(copy, 'manifest.json'), '{"Config":"x"}')
    await expectLoadError(await repack(copy), ImageFormatError, /manifest\.json.*not a non-empty list/)
  })

  test('neither an OCI layout nor a docker archive', async () => {
    const copy = await copyOf(saved)
    await unlink(join(copy, 'manifest.json'))
    await expectLoadError(await repack(copy), ImageFormatError, /neither an OCI image layout.*nor a docker save archive/)
  })
})
