import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ImageFormatError } from '../../src/core/errors.js'
import { openImageArchive } from '../../src/core/image/archive.js'
import { loadImage } from '../../src/core/image/load.js'
import { makeTempDir } from '../helpers/images.js'

let dir: string

beforeAll(async () => { dir = await makeTempDir('ipcr-json-shape-') })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

async function layoutWith (name: string, files: Record<string, string>): Promise<string> {
  const layout = join(dir, name)
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true })
  for (const [path, text] of Object.entries(files)) await writeFile(join(layout, path), text)
  return layout
}

async function load (layout: string): Promise<unknown> {
  const archive = await openImageArchive(layout, { input: 'image-file', tempDir: dir })
  try {
    return await loadImage(archive, { input: 'image-file' })
  } finally {
    await archive.close()
  }
}

describe('JSON from an image archive is bounded before it is parsed', () => {
  // Found by the fuzzer: deep JSON overflowed the stack in JSON.stringify inside the error message.
  it.each([
    ['oci-layout', { 'oci-layout': '['.repeat(200_000) + ']'.repeat(200_000), 'index.json': '{}' }],
    ['index.json', { 'oci-layout': '{"imageLayoutVersion":"1.0.0"}', 'index.json': '{"schemaVersion":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}' }]
  ])('deep JSON in %s is an ImageFormatError naming the input and the file', async (file, files) => {
    const attempt = load(await layoutWith(`deep-${file}`, files))
    await expect(attempt).rejects.toThrow(ImageFormatError)
    await expect(attempt).rejects.toThrow(`Input 'image-file': '${file}' in `)
    await expect(attempt).rejects.toThrow('is nested deeper than 32 levels')
  })

  it('a schemaVersion that is an object is described, not printed whole', async () => {
    const huge = JSON.stringify({ x: 'y'.repeat(1_000_000) })
    const attempt = load(await layoutWith('object-version', { 'oci-layout': '{"imageLayoutVersion":"1.0.0"}', 'index.json': `{"schemaVersion":${huge}}` }))
    await expect(attempt).rejects.toThrow('has schemaVersion an object, expected 2')
  })
})
