import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { CarWriter } from '@ipld/car/writer'
import { existsSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { runAction } from '../helpers/action.js'
import { buildOciLayout, dockerImageId, dockerLoad, dockerRemove, makeTempDir, uniqueName, type BuiltOciImage } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'
import { withToolsOnPath } from '../helpers/tools.js'
import { extractFromCars } from '../publish/helpers.js'
import { runProcess, type Finished } from '../helpers/process.js'

let dir: string
let first: BuiltOciImage
let second: BuiltOciImage
let kubo: KuboNode
const loaded: string[] = []

beforeAll(async () => {
  dir = await makeTempDir('ipcr-loop-')
  first = await buildOciLayout(join(dir, 'one'), { tag: 'v1', layers: [{ files: { 'one.txt': 'first release\n' } }] })
  second = await buildOciLayout(join(dir, 'two'), { tag: 'v1', layers: [{ files: { 'two.txt': 'second release\n' } }] })
  kubo = await startKubo()
})

afterAll(async () => {
  await dockerRemove(...loaded)
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

/** The image `docker load` reports: the ID when it prints one, else the ID of the reference it loaded. */
async function loadedImageId (output: string): Promise<string> {
  const id = /Loaded image ID: (sha256:[0-9a-f]{64})/.exec(output)?.[1]
  if (id != null) return id
  const ref = /Loaded image(?:\(s\))?: (\S+)/.exec(output)?.[1]
  if (ref == null) throw new Error(`docker load printed no image: ${output}`)
  loaded.push(ref)
  return await dockerImageId(ref)
}

async function carWithRoots (path: string, roots: CID[]): Promise<void> {
  const { writer, out } = CarWriter.create(roots)
  const chunks: Uint8Array[] = []
  const done = (async () => { for await (const c of out) chunks.push(c) })()
  await writer.close()
  await done
  await writeFile(path, Buffer.concat(chunks))
}

async function rawCid (text: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(text)))
}

describe('the workflow loop without Kubo: the last CAR is the previous registry', () => {
  test('run 2 gets only previous-car, updates the root in its header, and its full CAR holds both tags', async () => {
    // As in the README: the cached CAR is read as previous-car and replaced by the new one.
    const name = `${uniqueName('loop')}/app`
    const car = join(dir, 'cache', 'registry.car')
    const one = await runAction({ 'image-file': first.dir, name, tags: '1.0', 'car-scope': 'full', 'car-path': car })
    expect(one.code).toBe(0)
    const two = await runAction({ 'image-file': second.dir, name, tags: '1.1', 'car-scope': 'full', 'car-path': car, 'previous-car': car })
    expect(two.code).toBe(0)
    const root = two.outputs['root-cid'] as string
    expect(JSON.parse(two.outputs.metadata as string).previousRoot).toBe(one.outputs['root-cid'])
    expect(two.summary).toContain(one.outputs['root-cid'])
    expect(two.outputs['car-path']).toBe(car)

    // Run 2's CAR alone holds the registry: both tags load with docker.
    for (const [tag, image] of [['1.0', first], ['1.1', second]] as const) {
      const folder = await extractFromCars([car], root, [...name.split('/'), 'tags', tag])
      expect(await loadedImageId(await dockerLoad(folder))).toBe(image.configDigest)
    }
  })

  test('a previous CAR with two roots, or two CARs and no previous-root, fail naming the input', async () => {
    const twoRoots = join(dir, 'two-roots.car')
    await carWithRoots(twoRoots, [await rawCid('a'), await rawCid('b')])
    const r = await runAction({ 'image-file': first.dir, name: 'team/app', 'previous-car': twoRoots })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/::error::Input 'previous-car': '[^']*two-roots\.car' has 2 roots \(bafk\w+, bafk\w+\) in its header; expected exactly one/)
    expect(r.outputs).toEqual({})

    const noRoot = join(dir, 'no-root.car')
    await carWithRoots(noRoot, [])
    const none = await runAction({ 'image-file': first.dir, name: 'team/app', 'previous-car': noRoot })
    expect(none.code).toBe(1)
    expect(none.stdout).toMatch(/::error::Input 'previous-car': '[^']*no-root\.car' has no root in its header/)

    const oneRoot = join(dir, 'one-root.car')
    await carWithRoots(oneRoot, [await rawCid('c')])
    const both = await runAction({ 'image-file': first.dir, name: 'team/app', 'previous-car': `${oneRoot}\n${twoRoots}` })
    expect(both.code).toBe(1)
    expect(both.stdout).toMatch(/::error::Input 'previous-root': 2 previous-car files are given .* set previous-root/)
    expect(both.outputs).toEqual({})
  })
})

describe('a run with no destination says the content is only in the CAR', () => {
  test('summary, empty gateway-url, a pull command that works against a real Kubo, and imageid', async () => {
    const name = `${uniqueName('nodest')}/app`
    // A CAR path a shell would split: the pull command quotes it.
    const carPath = join(dir, "it's here", 'registry.car')
    const r = await runAction({ 'image-file': first.dir, name, tags: '1.0', gateways: 'https://gateway.example', 'car-path': carPath })
    expect(r.code).toBe(0)
    const car = r.outputs['car-path'] as string
    expect(car).toBe(carPath)
    expect(r.summary).toContain(`the content is only in the CAR at ${car.replace(/'/g, '&#39;')}`)
    expect(r.summary).toContain('Gateway link: not available yet')
    expect(r.summary).not.toContain('https://gateway.example/ipfs/')
    expect(r.outputs['gateway-url']).toBe('')
    expect(JSON.parse(r.outputs.metadata as string)).toMatchObject({ stored: false, gatewayUrl: '', imageId: first.configDigest })
    // imageid is the config digest, not the manifest digest.
    expect(r.outputs.imageid).toBe(first.configDigest)
    expect(r.outputs.digest).toBe(first.manifestDigest)
    expect(r.summary).toMatch(new RegExp(`Image ID</td><td><code>${first.configDigest}</code>`))

    // The pull command, run as written against a node that has never seen the root.
    const pull = r.outputs['pull-command'] as string
    expect(pull).toMatch(/^ipfs dag import /)
    const cwd = await makeTempDir('ipcr-pull-')
    const { code, stdout, stderr } = await shell(pull, cwd, { IPFS_PATH: kubo.ipfsPath })
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) })
    expect(existsSync(join(cwd, `${name.replace(/\//g, '_')}_1.0`, 'manifest.json'))).toBe(true)
    expect(await loadedImageId(stdout)).toBe(r.outputs.imageid)
    await rm(cwd, { recursive: true, force: true })
  })

  test('with a Kubo destination the gateway link stays and the summary reads as sentences', async () => {
    const r = await runAction({ 'image-file': first.dir, name: 'team/app', tags: '2.0', 'kubo-rpc-url': kubo.apiUrl })
    expect(r.code).toBe(0)
    expect(r.outputs['pull-command']).toMatch(/^ipfs get /)
    expect(r.outputs['gateway-url']).toBe(`https://ipfs.io/ipfs/${r.outputs['root-cid']}/team/app/tags/2.0/`)
    expect(r.summary).not.toContain('only in the CAR')
    expect(r.summary).not.toMatch(/pinName|importedBlocks|\w+[a-z][A-Z]\w*:/)
    expect(r.summary).toMatch(/pin name “ipcr registry”; \d+ blocks imported/)
  })
})

async function shell (command: string, cwd: string, env: Record<string, string>): Promise<Finished> {
  return await runProcess('sh', ['-c', command], { cwd, env: withToolsOnPath({ ...process.env, ...env }) })
}
