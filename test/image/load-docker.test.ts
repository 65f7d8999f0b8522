import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createReadStream, createWriteStream } from 'node:fs'
import { existsSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { DigestMismatchError, ImageFormatError } from '../../src/core/errors.js'
import { openImageArchive } from '../../src/core/image/archive.js'
import { loadImage } from '../../src/core/image/load.js'
import { MEDIA_TYPES } from '../../src/core/image/model.js'
import type { NormalizedImage } from '../../src/core/image/model.js'
import { tagFolderFiles } from '../../src/core/image/tag-folder.js'
import {
  buildOciLayout, dockerBuild, dockerLoadEachWay, dockerRemove, dockerSave, makeTempDir, skopeoCopy, uniqueName, writeTagFolder
} from '../helpers/images.js'
import { run } from '../helpers/tools.js'
import { writeGzipBomb } from './hostile.js'

async function runCli (args: string[]): Promise<{ code: number, stderr: string }> {
  const child = spawn(process.execPath, ['dist/cli.js', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c) => { stderr += String(c) })
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
  return { code, stderr }
}

const labels = { 'org.opencontainers.image.description': 'legacy test image', 'com.example.kind': 'docker' }

let dir: string
let ref: string
let imageId: string
let saved: string

async function load (path: string, input = 'image-file', ref?: string): Promise<NormalizedImage> {
  const archive = await openImageArchive(path, { input, tempDir: dir })
  try {
    return await loadImage(archive, { input, ref })
  } finally {
    await archive.close()
  }
}

/** Writes the tag folder of `path` and docker-loads it each way; all must give `expectedId`. */
async function roundTrip (path: string, tag: string, expectedId: string): Promise<string> {
  const name = `localhost/${uniqueName('ipcr-rt')}`
  const folder = await makeTempDir('ipcr-tag-folder-')
  const archive = await openImageArchive(path, { input: 'image-file', tempDir: dir })
  try {
    const image = await loadImage(archive, { input: 'image-file' })
    await writeTagFolder(folder, tagFolderFiles(image, { name, tag }))
  } finally {
    await archive.close()
  }
  expect(await dockerLoadEachWay(folder, `${name}:${tag}`)).toEqual({ full: expectedId, manifestOnly: expectedId, ociOnly: expectedId })
  return folder
}

beforeAll(async () => {
  dir = await makeTempDir()
  ref = `localhost/${uniqueName()}:v1`
  imageId = await dockerBuild(ref, { 'hello.txt': 'hello\n', 'etc/app.conf': 'a=1\n' }, labels)
  saved = join(dir, 'saved.tar')
  await dockerSave(ref, saved)
  // Round trips must not lean on layers Docker already has.
  await dockerRemove(ref)
})

afterAll(async () => {
  await dockerRemove(ref)
  await rm(dir, { recursive: true, force: true })
})

describe('legacy docker save archive (podman)', () => {
  test('loads with the docker image ID as config digest', async () => {
    const image = await load(saved)
    expect(image.sourceFormat).toBe('docker-archive')
    expect(image.primary.config.digest).toBe(imageId)
    expect(image.labels).toMatchObject(labels)
    expect(image.repoTags.some((tag) => tag.endsWith(ref.replace(/^localhost\//, '')))).toBe(true)
    expect(image.images).toHaveLength(1)
    expect(image.primary.platform).toEqual({ os: 'linux', architecture: 'amd64' })
    expect(image.root).toBe(image.primary.manifest)
    expect(image.primary.layers).toHaveLength(1)
    const layer = image.primary.layers[0]!
    expect(layer.mediaType).toBe(MEDIA_TYPES.ociLayer)
    expect(layer.digest).toBe(image.primary.configJson.rootfs.diff_ids[0])
    const manifest = JSON.parse(Buffer.from(image.root.bytes!).toString())
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: imageId, size: image.primary.config.size },
      layers: [{ mediaType: MEDIA_TYPES.ociLayer, digest: layer.digest, size: layer.size }]
    })
    expect(image.blobs.map((b) => b.digest)).toEqual([image.root.digest, imageId, layer.digest])
  })

  test('generates the same manifest bytes every time', async () => {
    const a = await load(saved)
    const b = await load(saved)
    expect(a.root.digest).toBe(b.root.digest)
    expect(tagFolderFiles(a, { name: 'x/y', tag: '1' }).map((f) => [f.path, f.size]))
      .toEqual(tagFolderFiles(b, { name: 'x/y', tag: '1' }).map((f) => [f.path, f.size]))
  })

  test('tag folder loads back into docker with the same image ID', async () => {
    const folder = await roundTrip(saved, 'legacy', imageId)
    const raw = JSON.parse(await run('skopeo', ['inspect', '--raw', `oci:${folder}:legacy`]))
    expect(raw.config.digest).toBe(imageId)
    await rm(folder, { recursive: true, force: true })
  })

  test('a gzip-compressed docker save loads the same', async () => {
    const gz = join(dir, 'saved.tar.gz.bin')
    await pipeline(createReadStream(saved), createGzip(), createWriteStream(gz))
    const image = await load(gz)
    const plain = await load(saved)
    expect(image.root.digest).toBe(plain.root.digest)
    expect(image.primary.config.digest).toBe(imageId)
  })
})

describe('docker save of several images', () => {
  test('a reference chooses the image of manifest.json; none is an error listing them', async () => {
    const other = `localhost/${uniqueName()}:second`
    const otherId = await dockerBuild(other, { 'second.txt': '2\n' })
    const firstRef = `localhost/${uniqueName()}:first`
    const archive = join(dir, 'first.tar')
    try {
      // Re-load the saved image under a new name, then save both.
      await run('docker', ['load', '--input', saved])
      await run('docker', ['tag', imageId, firstRef])
      await run('docker', ['save', '--output', archive, firstRef, other])
    } finally {
      await dockerRemove(other, firstRef)
    }
    await expect(load(archive)).rejects.toThrow(/holds 2 images: '.*:first', '.*:second'; choose one by reference with 'image'/)
    const image = await load(archive, 'image-file', firstRef)
    expect(image.primary.config.digest).toBe(imageId)
    expect(image.repoTags).toEqual([firstRef])
    const second = await load(archive, 'image-file', other)
    expect(second.primary.config.digest).toBe(otherId)
    expect(second.repoTags).toEqual([other])
  })
})

describe('skopeo docker-archive', () => {
  test('loads an umoci image converted by skopeo, and round-trips', async () => {
    const layout = join(dir, 'layout-sk')
    const built = await buildOciLayout(layout, {
      tag: 'v2',
      layers: [{ files: { 'a.txt': 'a\n' } }, { files: { 'b/c.txt': 'c\n' } }],
      labels: { 'com.example.kind': 'skopeo' }
    })
    const file = join(dir, 'skopeo-docker.tar')
    await skopeoCopy(`oci:${layout}:v2`, `docker-archive:${file}:example.com/sk/app:v2`)
    const image = await load(file)
    expect(image.sourceFormat).toBe('docker-archive')
    // skopeo keeps the config bytes, so the config digest is umoci's.
    expect(image.primary.config.digest).toBe(built.configDigest)
    expect(image.labels).toEqual({ 'com.example.kind': 'skopeo' })
    expect(image.repoTags).toEqual(['example.com/sk/app:v2'])
    expect(image.primary.layers).toHaveLength(2)
    const folder = await roundTrip(file, 'sk', built.configDigest)
    await rm(folder, { recursive: true, force: true })
  })
})

describe('legacy archive with gzip layers', () => {
  test('hashes compressed layers and marks them +gzip', async () => {
    // Recompress the layer of a real docker save, as some tools write archives.
    const extracted = join(dir, 'gz-layers')
    await run('mkdir', ['-p', extracted])
    await run('tar', ['-C', extracted, '-xf', saved])
    const manifest = JSON.parse(await readFile(join(extracted, 'manifest.json'), 'utf8'))
    const layerPath = join(extracted, manifest[0].Layers[0])
    await run('sh', ['-c', 'gzip -n -c "$1" > "$1.gz" && rm "$1" && mv "$1.gz" "$1"', 'sh', layerPath])
    const file = join(dir, 'gz-layers.tar')
    await run('tar', ['-C', extracted, '-cf', file, '.'])
    const image = await load(file)
    const layer = image.primary.layers[0]!
    expect(layer.mediaType).toBe(MEDIA_TYPES.ociLayerGzip)
    const expected = `sha256:${(await run('sha256sum', [layerPath])).split(' ')[0]}`
    expect(layer.digest).toBe(expected)
    expect(image.primary.config.digest).toBe(imageId)
  })

  /** The saved archive with its layer replaced by `write(layerPath)`'s gzip file; returns the archive and the layer's path in it. */
  async function withLayer (name: string, write: (layerPath: string) => Promise<void>): Promise<{ file: string, layer: string }> {
    const extracted = join(dir, name)
    await run('mkdir', ['-p', extracted])
    await run('tar', ['-C', extracted, '-xf', saved])
    const manifest = JSON.parse(await readFile(join(extracted, 'manifest.json'), 'utf8'))
    const layer = manifest[0].Layers[0] as string
    await write(join(extracted, layer))
    const file = join(dir, `${name}.tar`)
    await run('tar', ['-C', extracted, '-cf', file, '.'])
    return { file, layer }
  }

  test('a gzip layer whose content does not hash to its diff_id is a DigestMismatchError naming the input and the layer', async () => {
    const { file, layer } = await withLayer('gz-wrong-diff-id', async (layerPath) => {
      // Another valid layer tar, gzipped: its content is not what the config's diff_ids name.
      const other = join(dir, 'other-layer')
      await run('mkdir', ['-p', other])
      await writeFile(join(other, 'hello.txt'), 'not the same\n')
      await run('sh', ['-c', 'tar -C "$1" -cf - . | gzip -n > "$2"', 'sh', other, layerPath])
    })
    const err = await load(file).then(() => undefined, (e: Error) => e)
    expect(err).toBeInstanceOf(DigestMismatchError)
    expect(err?.message).toContain("Input 'image-file'")
    expect(err?.message).toContain(`layer '${layer}'`)
    expect(err?.message).toMatch(/rootfs\.diff_ids says sha256:[0-9a-f]{64}/)
    // The real CLI: exit 1 naming the input, no CAR, no .partial.
    const car = join(dir, 'wrong-diff-id.car')
    const cli = await runCli(['push', '--file', file, '--name', 'x/y', '--car', car])
    expect(cli.code).toBe(1)
    expect(cli.stderr).toMatch(/^ipcr: --file: layer .*rootfs\.diff_ids says/)
    expect(existsSync(car)).toBe(false)
    expect(existsSync(`${car}.partial`)).toBe(false)
  })

  test('a gzip bomb layer is decompressed only up to max-decompressed-size', async () => {
    const { file, layer } = await withLayer('gz-bomb-layer', async (layerPath) => { await writeGzipBomb(layerPath, 512 * 1024 * 1024) })
    const archive = await openImageArchive(file, { input: 'image-file', tempDir: dir })
    try {
      const err = await loadImage(archive, { input: 'image-file', maxDecompressedSize: 16 * 1024 * 1024 }).then(() => undefined, (e: Error) => e)
      expect(err).toBeInstanceOf(ImageFormatError)
      expect(err?.message).toContain(`Input 'image-file': layer '${layer}'`)
      expect(err?.message).toMatch(/gzip-decompresses to more than 16\.0 MiB; .*max-decompressed-size/)
    } finally {
      await archive.close()
    }
  })
})
