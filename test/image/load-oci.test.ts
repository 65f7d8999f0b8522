import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openImageArchive } from '../../src/core/image/archive.js'
import { loadImage } from '../../src/core/image/load.js'
import { MEDIA_TYPES } from '../../src/core/image/model.js'
import type { NormalizedImage } from '../../src/core/image/model.js'
import { tagFolderFiles } from '../../src/core/image/tag-folder.js'
import {
  buildMultiPlatformLayout, buildOciLayout, dockerLoadEachWay, makeTempDir, regctlExport, skopeoCopy, uniqueName, writeTagFolder
} from '../helpers/images.js'
import type { BuiltOciImage } from '../helpers/images.js'
import { run } from '../helpers/tools.js'

const labels = { 'org.opencontainers.image.description': 'oci test image', 'com.example.kind': 'oci' }

let dir: string
let layout: string
let built: BuiltOciImage
let multiLayout: string
let multi: Awaited<ReturnType<typeof buildMultiPlatformLayout>>

async function load (path: string, ref?: string): Promise<NormalizedImage> {
  const archive = await openImageArchive(path, { input: 'image-file', tempDir: dir })
  try {
    return await loadImage(archive, { input: 'image-file', ref })
  } finally {
    await archive.close()
  }
}

function sha256 (bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

/** Writes the tag folder, checks skopeo reads the root and docker loads the primary each way. */
async function roundTrip (path: string, expectedId: string): Promise<NormalizedImage> {
  const name = `localhost/${uniqueName('ipcr-rt')}`
  const tag = 'rt'
  const folder = await makeTempDir('ipcr-tag-folder-')
  try {
    const archive = await openImageArchive(path, { input: 'image-file', tempDir: dir })
    let image: NormalizedImage
    try {
      image = await loadImage(archive, { input: 'image-file' })
      await writeTagFolder(folder, tagFolderFiles(image, { name, tag }))
    } finally {
      await archive.close()
    }
    const raw = await run('skopeo', ['inspect', '--raw', `oci:${folder}:${tag}`])
    expect(sha256(raw)).toBe(image.root.digest)
    const inspected = JSON.parse(await run('skopeo', ['inspect', `oci:${folder}:${tag}`]))
    expect(inspected.Labels ?? {}).toEqual(image.labels)
    expect(await dockerLoadEachWay(folder, `${name}:${tag}`)).toEqual({ full: expectedId, manifestOnly: expectedId, ociOnly: expectedId })
    return image
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}

beforeAll(async () => {
  dir = await makeTempDir()
  layout = join(dir, 'layout')
  built = await buildOciLayout(layout, {
    tag: 'v1',
    labels,
    layers: [{ files: { 'app/one.txt': 'one\n' } }, { files: { 'app/two.txt': 'two\n' } }]
  })
  multiLayout = join(dir, 'multi')
  multi = await buildMultiPlatformLayout(multiLayout, { 'com.example.kind': 'multi' })
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function expectSingle (image: NormalizedImage): void {
  expect(image.root.digest).toBe(built.manifestDigest)
  expect(image.root.mediaType).toBe(MEDIA_TYPES.ociManifest)
  expect(image.primary.manifest).toBe(image.root)
  expect(image.primary.config.digest).toBe(built.configDigest)
  expect(image.primary.layers.map((l) => l.digest)).toEqual(built.layerDigests)
  expect(image.primary.layers.every((l) => l.mediaType === MEDIA_TYPES.ociLayerGzip)).toBe(true)
  expect(image.primary.platform).toEqual({ os: 'linux', architecture: 'amd64' })
  expect(image.labels).toEqual(labels)
  expect(image.blobs.map((b) => b.digest)).toEqual([built.manifestDigest, built.configDigest, ...built.layerDigests])
}

describe('OCI image layout directory (umoci)', () => {
  test('loads and round-trips', async () => {
    const image = await roundTrip(layout, built.configDigest)
    expect(image.sourceFormat).toBe('oci-layout')
    expectSingle(image)
    expect(image.repoTags).toEqual(['v1'])
  })

  test('blob streams give the blob bytes', async () => {
    const image = await load(layout)
    for (const blob of image.blobs) {
      const chunks: Buffer[] = []
      for await (const chunk of blob.open()) chunks.push(Buffer.from(chunk as Uint8Array))
      expect(sha256(Buffer.concat(chunks))).toBe(blob.digest)
    }
  })
})

describe('skopeo oci-archive', () => {
  test('loads and round-trips', async () => {
    const file = join(dir, 'skopeo-oci.tar')
    await skopeoCopy(`oci:${layout}:v1`, `oci-archive:${file}`)
    const image = await roundTrip(file, built.configDigest)
    expect(image.sourceFormat).toBe('oci-layout')
    expectSingle(image)
  })
})

describe('Docker 25+ docker save format (regctl image export)', () => {
  test('loads, takes RepoTags from manifest.json, and round-trips', async () => {
    const file = join(dir, 'docker25.tar')
    await regctlExport(layout, 'v1', file, 'example.com/team/app:v1')
    const image = await roundTrip(file, built.configDigest)
    expect(image.sourceFormat).toBe('docker-oci-archive')
    expectSingle(image)
    expect(image.repoTags).toEqual(['example.com/team/app:v1'])
  })
})

describe('multi-platform', () => {
  test('a nested image index (regctl export of an index) keeps the index as root', async () => {
    const file = join(dir, 'multi.tar')
    await regctlExport(multiLayout, 'multi', file, 'example.com/team/multi:1')
    const image = await roundTrip(file, multi.amd64.configDigest)
    expect(image.sourceFormat).toBe('oci-layout')
    expect(image.root.digest).toBe(multi.indexDigest)
    expect(image.root.mediaType).toBe(MEDIA_TYPES.ociIndex)
    expect(image.images.map((i) => i.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' }
    ])
    expect(image.primary.config.digest).toBe(multi.amd64.configDigest)
    expect(image.images[1]!.config.digest).toBe(multi.arm64.configDigest)
    expect(image.labels).toEqual({ 'com.example.kind': 'multi' })
    expect(image.blobs).toHaveLength(7)
    expect(image.repoTags).toEqual(['example.com/team/multi:1'])
  })

  test('a layout listing one image per platform gets a generated index as root', async () => {
    const two = join(dir, 'two')
    await skopeoCopy(`oci:${multiLayout}:amd64`, `oci:${two}:amd64`)
    await skopeoCopy(`oci:${multiLayout}:arm64`, `oci:${two}:arm64`)
    const file = join(dir, 'two.tar')
    await run('tar', ['-C', two, '-cf', file, '.'])
    const image = await roundTrip(file, multi.amd64.configDigest)
    expect(image.root.mediaType).toBe(MEDIA_TYPES.ociIndex)
    const index = JSON.parse(Buffer.from(image.root.bytes!).toString())
    expect(index).toEqual({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        { mediaType: MEDIA_TYPES.ociManifest, digest: multi.amd64.manifestDigest, size: expect.any(Number), platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: MEDIA_TYPES.ociManifest, digest: multi.arm64.manifestDigest, size: expect.any(Number), platform: { os: 'linux', architecture: 'arm64' } }
      ]
    })
    expect((await load(two)).root.digest).toBe(image.root.digest)
    expect(image.repoTags).toEqual(['amd64', 'arm64'])
  })

  test('arm64 listed first still makes amd64 the primary', async () => {
    const two = join(dir, 'two-reversed')
    await skopeoCopy(`oci:${multiLayout}:arm64`, `oci:${two}:arm64`)
    await skopeoCopy(`oci:${multiLayout}:amd64`, `oci:${two}:amd64`)
    const image = await load(two)
    expect(image.images[0]!.platform.architecture).toBe('arm64')
    expect(image.primary.platform.architecture).toBe('amd64')
  })

  test('images and an index side by side: a reference chooses one, none is an error listing them', async () => {
    // The umoci layout has tags amd64, arm64 and the index 'multi'.
    await expect(load(multiLayout)).rejects.toThrow(/^Input 'image-file': .* holds 3 images: 'amd64', 'arm64', 'multi'; choose one by reference with 'image'/)
    const image = await load(multiLayout, 'multi')
    expect(image.root.digest).toBe(multi.indexDigest)
    expect(image.images).toHaveLength(2)
    expect((await load(multiLayout, 'arm64')).root.digest).toBe(multi.arm64.manifestDigest)
  })

  test('several images of one platform: the reference chooses, by ref name or manifest digest', async () => {
    const copy = join(dir, 'two-tags')
    await run('cp', ['-a', layout, copy])
    const second = await buildOciLayout(copy, { tag: 'v2', layers: [{ files: { 'v2.txt': '2\n' } }] })
    await expect(load(copy)).rejects.toThrow(/holds 2 images: 'v1', 'v2'/)
    const image = await load(copy, 'v2')
    expect(image.root.digest).toBe(second.manifestDigest)
    expect(image.repoTags).toEqual(['v2'])
    expect((await load(copy, built.manifestDigest)).repoTags).toEqual(['v1'])
  })
})

describe('index.json edge cases', () => {
  test('an index.json entry without mediaType is detected from the blob', async () => {
    const copy = join(dir, 'no-media-type')
    await run('cp', ['-a', layout, copy])
    const index = JSON.parse(await readFile(join(copy, 'index.json'), 'utf8'))
    delete index.manifests[0].mediaType
    await writeFile(join(copy, 'index.json'), JSON.stringify(index))
    const image = await load(copy)
    expect(image.root.digest).toBe(built.manifestDigest)
    expect(image.root.mediaType).toBe(MEDIA_TYPES.ociManifest)
  })
})
