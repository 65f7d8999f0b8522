import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { chmod, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { publish } from '../../src/core/publish.js'
import { DEMO_GREETING, demoImage, helloProgram, writeSampleImage } from '../../src/core/sample.js'
import { dockerLoad, dockerRemove, makeTempDir, uniqueName } from '../helpers/images.js'
import { run } from '../helpers/tools.js'
import { extractFromCars } from '../publish/helpers.js'

let dir: string

beforeAll(async () => { dir = await makeTempDir('ipcr-sample-') })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

describe('the demo image runs', () => {
  test('the generated program writes its line and exits 0 (x86-64 Linux)', async () => {
    const file = join(dir, 'hello')
    await writeFile(file, helloProgram('one line\n'))
    await chmod(file, 0o755)
    expect(await run(file, [])).toBe('one line\n')
  })

  test('published, taken out of the CAR and docker-loaded, its Cmd runs and prints the greeting', async () => {
    const image = await writeSampleImage(join(dir, 'image'), demoImage)
    const name = `${uniqueName('ipcr')}/demo`
    const result = await publish({ image: { kind: 'file', path: image.dir }, name, tags: ['latest'], carPath: join(dir, 'demo.car'), tempDir: dir })
    const folder = await extractFromCars([result.car.path], result.rootCid, [...name.split('/'), 'tags', 'latest'])
    const ref = `localhost/${name}:latest`
    try {
      await dockerLoad(folder)
      const cmd = JSON.parse(await run('docker', ['image', 'inspect', '--format', '{{json .Config.Cmd}}', ref]))
      expect(cmd).toEqual(['/hello'])
      expect((await run('docker', ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', ref])).trim()).toBe('linux/amd64')
      // `docker run` itself needs a sandbox that may set rlimits (this one may not): run the
      // container's file system as docker exports it instead, the Cmd from the loaded config.
      const id = (await run('docker', ['create', ref])).trim()
      const rootfs = join(dir, 'rootfs')
      try {
        await run('docker', ['export', '--output', `${rootfs}.tar`, id])
      } finally {
        await run('docker', ['rm', '--force', id])
      }
      await run('mkdir', ['-p', rootfs])
      await run('tar', ['-C', rootfs, '-xf', `${rootfs}.tar`])
      expect(await run(join(rootfs, cmd[0]), cmd.slice(1))).toBe(DEMO_GREETING)
    } finally {
      await dockerRemove(ref)
    }
  }, 60_000)
})
