import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm, stat } from 'node:fs/promises'
import { InputError, IpcrError } from '../../src/core/errors.js'
import { openImageArchive } from '../../src/core/image/archive.js'
import { nodeCommandRunner, saveDockerImage } from '../../src/core/image/docker.js'
import type { CommandRunner } from '../../src/core/image/docker.js'
import { loadImage } from '../../src/core/image/load.js'
import { dockerBuild, dockerRemove, makeTempDir, uniqueName } from '../helpers/images.js'

let dir: string
let ref: string
let imageId: string

beforeAll(async () => {
  dir = await makeTempDir()
  ref = `localhost/${uniqueName()}:saved`
  imageId = await dockerBuild(ref, { 'x.txt': 'x\n' }, { 'com.example.from': 'docker' })
})

afterAll(async () => {
  await dockerRemove(ref)
  await rm(dir, { recursive: true, force: true })
})

describe('saveDockerImage', () => {
  test('exports a local image to a tar under tempDir', async () => {
    const path = await saveDockerImage(ref, { run: nodeCommandRunner, tempDir: dir, input: 'image' })
    expect(path.startsWith(dir)).toBe(true)
    expect((await stat(path)).size).toBeGreaterThan(0)
    const archive = await openImageArchive(path, { input: 'image', tempDir: dir })
    const image = await loadImage(archive, { input: 'image' })
    await archive.close()
    expect(image.primary.config.digest).toBe(imageId)
    expect(image.labels['com.example.from']).toBe('docker')
  })

  test('an image Docker does not have is an InputError naming the input', async () => {
    const missing = `localhost/${uniqueName('ipcr-missing')}:nope`
    const error = await saveDockerImage(missing, { run: nodeCommandRunner, tempDir: dir, input: 'image' }).then(() => undefined, (err: unknown) => err)
    expect(error).toBeInstanceOf(InputError)
    expect((error as Error).message).toContain("Input 'image'")
    expect((error as Error).message).toContain(`Docker has no image '${missing}'`)
  })

  test('a reference that looks like an option is refused before running anything', async () => {
    const calls: string[][] = []
    const run: CommandRunner = async (command, args) => { calls.push([command, ...args]); return { exitCode: 0, stderr: '' } }
    await expect(saveDockerImage('--help', { run, tempDir: dir, input: 'image' })).rejects.toThrow(InputError)
    expect(calls).toEqual([])
  })

  test('a missing docker CLI and other failures are IpcrErrors', async () => {
    const notFound: CommandRunner = async () => ({ exitCode: 127, stderr: 'docker: command not found' })
    await expect(saveDockerImage('a:b', { run: notFound, tempDir: dir, input: 'image' })).rejects.toThrow(/Cannot run the docker CLI/)
    const failing: CommandRunner = async () => ({ exitCode: 1, stderr: 'Cannot connect to the Docker daemon' })
    const error = await saveDockerImage('a:b', { run: failing, tempDir: dir, input: 'image' }).then(() => undefined, (err: unknown) => err)
    expect(error).toBeInstanceOf(IpcrError)
    expect((error as IpcrError).code).toBe('ERR_DOCKER')
    expect((error as Error).message).toMatch(/exit code 1: Cannot connect/)
  })

  test('nodeCommandRunner reports exit codes, stderr and a missing command', async () => {
    expect(await nodeCommandRunner('sh', ['-c', 'echo oops >&2; exit 3'], {})).toEqual({ exitCode: 3, stderr: 'oops\n' })
    expect((await nodeCommandRunner('ipcr-no-such-command', [], {})).exitCode).toBe(127)
    const controller = new AbortController()
    const pending = nodeCommandRunner('sleep', ['10'], { signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toThrow()
  })
})
