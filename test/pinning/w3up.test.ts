import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { CarReader } from '@ipld/car'
import * as ed25519 from '@ucanto/principal/ed25519'
import { readFile, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { InputError } from '../../src/core/errors.js'
import { W3upDestination, type W3upConfig } from '../../src/core/pinning/w3up.js'
import { runPipeline } from '../../src/core/pipeline.js'
import { ServiceError } from '../../src/core/service.js'
import type { Logger } from '../../src/core/logger.js'
import { buildOciLayout, makeTempDir } from '../helpers/images.js'
import { agentKeyText, delegationText, startW3upService, type W3upService } from '../helpers/w3up.js'

const UPLOAD = ['space/blob/add', 'space/index/add', 'upload/add']

let dir: string
let layout: string
let service: W3upService
let agent: { signer: ed25519.EdSigner, text: string }
let space: ed25519.EdSigner
let spaceDid: `did:key:${string}`

beforeAll(async () => {
  dir = await makeTempDir('ipcr-w3up-')
  layout = join(dir, 'layout')
  await buildOciLayout(layout, { tag: 'v1', layers: [{ files: { 'a.txt': 'w3up destination\n', 'b.bin': new Uint8Array(300_000).fill(7) } }] })
  service = await startW3upService()
  agent = await agentKeyText()
  ;({ space, spaceDid } = await service.registerSpace(agent.signer))
})

afterAll(async () => {
  await service?.stop()
  await rm(dir, { recursive: true, force: true })
})

function config (proof: string, extra: Partial<W3upConfig> = {}): W3upConfig {
  return { key: agent.text, proof, serviceUrl: service.url, serviceDid: service.did, ...extra }
}

function recordingLogger (): Logger & { lines: string[] } {
  const lines: string[] = []
  return { lines, debug: (m) => lines.push(m), info: (m) => lines.push(m), warn: (m) => lines.push(`warn: ${m}`), group: async (_n, fn) => await fn() }
}

async function blockCids (bytes: Uint8Array): Promise<string[]> {
  const reader = await CarReader.fromBytes(bytes)
  const cids: string[] = []
  for await (const block of reader.blocks()) cids.push(block.cid.toString())
  return cids.sort()
}

async function refusal (p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a refusal')
}

function expectNoSecrets (message: string, ...secrets: string[]): void {
  for (const secret of secrets) {
    for (const line of secret.split('\n').map((l) => l.trim()).filter((l) => l.length > 8 && !l.startsWith('#'))) {
      expect(message).not.toContain(line.slice(0, 12))
    }
  }
}

describe('w3up destination against upload-api in-process (HTTP on 127.0.0.1)', () => {
  test('stores a published registry: the service lists the upload with its root and shard, the shard holds every block', async () => {
    const proof = await delegationText(space, agent.signer, UPLOAD)
    const dest = new W3upDestination(config(proof))
    const logger = recordingLogger()
    const carPath = join(dir, 'registry.car')
    const result = await runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: ['v1'], carPath, tempDir: dir, destinations: [dest], logger })

    const report = result.destinations[0]
    expect(report?.ok).not.toBe(false)
    expect(report?.kind).toBe('w3up')
    expect(report?.details.space).toBe(spaceDid)
    expect(report?.details.root).toBe(result.rootCid)
    const shards = String(report?.details.shards).split(' ')
    expect(shards).toHaveLength(1)

    // The service's own stores: the upload (root, shard) in the space, and the shard's bytes.
    const uploads = service.context.uploadTable.items.filter((u: any) => u.space === spaceDid)
    expect(uploads.map((u: any) => u.root.toString())).toEqual([result.rootCid])
    expect(uploads[0].shards.map((s: any) => s.toString())).toEqual(shards)
    const { CID } = await import('multiformats/cid')
    const shard = CID.parse(shards[0] as string)
    const stream = await service.context.blobsStorage.stream(shard.multihash)
    expect(stream.error).toBeUndefined()
    const stored = new Uint8Array(await new Response(stream.ok).arrayBuffer())
    expect(await blockCids(stored)).toEqual(await blockCids(new Uint8Array(await readFile(carPath))))
    // A proof with the upload abilities only: preflight could check the service, not read the space.
    expect(logger.lines.some((l) => l.startsWith('warn:') && l.includes('no read ability'))).toBe(true)
    // The blob/accept receipt was polled from the service's receipt endpoint, as the client does.
    expect(service.requests.some((r) => r.startsWith('GET /receipt/'))).toBe(true)
  })

  test('an upload the service refuses (a space it does not know, upload-only proof) fails the run, naming the refusal', async () => {
    const other = await ed25519.generate()
    const proof = await delegationText(other, agent.signer, UPLOAD)
    const dest = new W3upDestination(config(proof))
    const err = await refusal(runPipeline({ image: { kind: 'file', path: layout }, name: 'team/app', tags: ['v1'], tempDir: dir, destinations: [dest] }))
    expect(err.message).toContain(`to space ${other.did()} failed`)
    expect(err.message).toMatch(/space\/blob\/add/)
    expectNoSecrets(err.message, agent.text, proof)
    expect(service.context.uploadTable.items.filter((u: any) => u.space === other.did())).toEqual([])
  })

  test('preflight reads the space when the proof grants space/info', async () => {
    const proof = await delegationText(space, agent.signer, [...UPLOAD, 'space/info'])
    const logger = recordingLogger()
    await new W3upDestination(config(proof)).preflight({ logger })
    expect(logger.lines.some((l) => l.includes(`space ${spaceDid} is accessible (space/info)`))).toBe(true)
  })

  test('a proof for a space the service does not know is refused in preflight, without secrets', async () => {
    const other = await ed25519.generate()
    const proof = await delegationText(other, agent.signer, [...UPLOAD, 'space/info'])
    const err = await refusal(new W3upDestination(config(proof)).preflight({}))
    expect(err).toBeInstanceOf(ServiceError)
    expect(err.message).toContain(service.did)
    expect(err.message).toContain(`space ${other.did()}`)
    expectNoSecrets(err.message, agent.text, proof)
  })

  test('a proof not issued by the space (a forged chain) is refused in preflight', async () => {
    const mallory = await ed25519.generate()
    const proof = await delegationText(mallory, agent.signer, [...UPLOAD, 'space/info'], spaceDid)
    const err = await refusal(new W3upDestination(config(proof)).preflight({}))
    expect(err).toBeInstanceOf(ServiceError)
    expect(err.message).toMatch(/Unauthorized/)
    expectNoSecrets(err.message, agent.text, proof)
  })

  test('a wrong service DID is refused in preflight', async () => {
    const proof = await delegationText(space, agent.signer, [...UPLOAD, 'space/info'])
    const err = await refusal(new W3upDestination(config(proof, { serviceDid: 'did:web:other.example' })).preflight({}))
    expect(err).toBeInstanceOf(ServiceError)
    expect(err.message).toContain('InvalidAudience')
    expect(err.message).toContain('is did:web:other.example the DID of this service?')
  })

  test('a wrong service DID also fails the upload-only proof (no read ability) in preflight', async () => {
    const proof = await delegationText(space, agent.signer, UPLOAD)
    const err = await refusal(new W3upDestination(config(proof, { serviceDid: 'did:web:other.example' })).preflight({}))
    expect(err).toBeInstanceOf(ServiceError)
    expect(err.message).toContain('InvalidAudience')
  })
})

describe('w3up service that never answers', () => {
  test('preflight gives up at the timeout, naming the service', async () => {
    const hanging = http.createServer(() => {})
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = hanging.address() as AddressInfo
      const proof = await delegationText(space, agent.signer, [...UPLOAD, 'space/info'])
      const dest = new W3upDestination(config(proof, { serviceUrl: `http://127.0.0.1:${port}/`, timeoutMs: 300 }))
      const err = await refusal(dest.preflight({}))
      expect(err).toBeInstanceOf(ServiceError)
      expect(err.message).toContain(`w3up service ${service.did} http://127.0.0.1:${port}`)
      expect(err.message).toContain('could not ask for space/info')
    } finally {
      hanging.closeAllConnections()
      await new Promise<void>((resolve) => hanging.close(() => resolve()))
    }
  })
})

describe('w3up configuration, checked without network', () => {
  test('service URL and DID are required: no default, and the message says why', async () => {
    const proof = await delegationText(space, agent.signer, UPLOAD)
    for (const [key, cfg] of [['w3up-service-url', { serviceUrl: undefined }], ['w3up-service-did', { serviceDid: ' ' }]] as const) {
      const err = await refusal((async () => new W3upDestination(config(proof, cfg)))())
      expect(err).toBeInstanceOf(InputError)
      expect((err as InputError).input).toBe(key)
      expect(err.message).toContain('May 2026')
    }
  })

  test('a proof without the upload abilities is refused, naming what it grants', async () => {
    const proof = await delegationText(space, agent.signer, ['space/info', 'upload/list'])
    const err = await refusal((async () => new W3upDestination(config(proof)))())
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).input).toBe('w3up-proof')
    expect(err.message).toContain('space/blob/add')
    expect(err.message).toContain(`${spaceDid}: space/info, upload/list`)
    expectNoSecrets(err.message, agent.text, proof)
  })

  test('`space/*` and `*` cover the upload abilities', async () => {
    for (const can of ['space/*', '*']) {
      const proof = await delegationText(space, agent.signer, [can, 'upload/*'])
      expect(new W3upDestination(config(proof)).space).toBe(spaceDid)
    }
  })

  test('a proof delegated to another agent, a bad key and a bad proof are refused', async () => {
    const someone = await ed25519.generate()
    const proof = await delegationText(space, someone, UPLOAD)
    const toOther = await refusal((async () => new W3upDestination(config(proof)))())
    expect((toOther as InputError).input).toBe('w3up-proof')
    expect(toOther.message).toContain(`not to the agent key (${agent.signer.did()})`)

    const goodProof = await delegationText(space, agent.signer, UPLOAD)
    const badKey = await refusal((async () => new W3upDestination({ ...config(goodProof), key: 'MgNotAKeyAtAll1234' }))())
    expect((badKey as InputError).input).toBe('w3up-key')
    expect(badKey.message).not.toContain('MgNotAKeyAtAll1234')

    const badProof = await refusal((async () => new W3upDestination({ ...config(goodProof), proof: 'mAYIEAKMFOqJlcm9vdHOB' }))())
    expect((badProof as InputError).input).toBe('w3up-proof')
  })
})
