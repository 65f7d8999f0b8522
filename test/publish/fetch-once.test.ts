import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { GatewayBlockSource } from '../../src/core/blocks/gateway.js'
import type { BlockSource } from '../../src/core/blocks/types.js'
import { publish, type CarScope } from '../../src/core/publish.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { startKubo, type KuboNode } from '../helpers/kubo.js'

// Gateway requests of a registry update, counted at the block source: a real Kubo gateway
// answers each get with one request (no retries happen against a healthy local node).
let dir: string
let app: string
let tool: string
let kubo: KuboNode
const now = new Date('2026-11-03T00:00:00Z')
let small: string
let large: string

/** A GatewayBlockSource to the Kubo node that records every CID asked for. */
function countingGateway (): { source: BlockSource, asked: string[] } {
  const gateway = new GatewayBlockSource([kubo.gatewayUrl])
  const asked: string[] = []
  return {
    asked,
    source: { label: gateway.label, get: async (cid, options) => { asked.push(cid.toString()); return await gateway.get(cid, options) } }
  }
}

async function update (root: string, car: string, scope: CarScope = 'new'): Promise<{ total: number, distinct: number }> {
  const { source, asked } = countingGateway()
  await publish({ image: { kind: 'file', path: app }, name: 'team/app', tags: ['next'], previousRoot: CID.parse(root), sources: [source], carPath: join(dir, car), carScope: scope, tempDir: dir, now })
  return { total: asked.length, distinct: new Set(asked).size }
}

beforeAll(async () => {
  dir = await makeTempDir('ipcr-fetch-once-')
  app = join(dir, 'app')
  tool = join(dir, 'tool')
  await buildOciLayout(app, { tag: 'v1', layers: [{ files: { 'app.txt': 'app\n' } }] })
  await buildOciLayout(tool, { tag: 'v1', layers: [{ files: { 'tool.txt': 'tool\n' } }] })
  kubo = await startKubo()
  // One tag of one repository.
  const one = await publish({ image: { kind: 'file', path: app }, name: 'team/app', tags: ['v1'], carPath: join(dir, 'one.car'), tempDir: dir, now })
  await kubo.ipfs('dag', 'import', one.car.path)
  small = one.rootCid
  // 300 tags of that repository, and a second repository.
  const tags = Array.from({ length: 300 }, (_, i) => `v${i + 1}`)
  const many = await publish({ image: { kind: 'file', path: app }, name: 'team/app', tags, carPath: join(dir, 'many.car'), tempDir: dir, now })
  await kubo.ipfs('dag', 'import', many.car.path)
  const second = await publish({ image: { kind: 'file', path: tool }, name: 'team/tool', tags: ['v1'], previousRoot: CID.parse(many.rootCid), sources: [new GatewayBlockSource([kubo.gatewayUrl])], carPath: join(dir, 'second.car'), tempDir: dir, now })
  await kubo.ipfs('dag', 'import', second.car.path)
  large = second.rootCid
}, 300_000)

afterAll(async () => {
  await kubo?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('a registry update', () => {
  test('fetches each block once, and as many blocks from 300 tags and two repositories as from one tag', async () => {
    const one = await update(small, 'next-one.car')
    const many = await update(large, 'next-many.car')
    expect(one.total).toBe(one.distinct)
    expect(many.total).toBe(many.distinct)
    // The extra reads: the most recent tags' folders searched for reusable blobs (REUSE_TAGS, 8), bounded whatever the tag count.
    expect(many.total).toBeLessThanOrEqual(one.total + 8)
  }, 120_000)

  test('copying the unchanged registry into a full CAR fetches nothing twice', async () => {
    const full = await update(large, 'next-full.car', 'full')
    expect(full.total).toBe(full.distinct)
  }, 120_000)
})
