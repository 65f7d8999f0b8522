import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTempDir } from '../helpers/images.js'
import type { NameReport, PipelineResult } from '../../src/core/index.js'
import type { RepublishResult } from '../../src/core/ipns/republish.js'

// setOutputs / writeSummary of src/action/outputs.ts, called in-process: @actions/core writes
// to the GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files as on a runner.
let dir: string
let outputFile: string
let summaryFile: string
let outputs: typeof import('../../src/action/outputs.js')

const hostile = '<script>alert(1)</script> | **bold** [x](javascript:alert(1))'

beforeAll(async () => {
  dir = await makeTempDir('ipcr-outputs-')
  outputFile = join(dir, 'output')
  summaryFile = join(dir, 'summary')
  process.env.GITHUB_OUTPUT = outputFile
  process.env.GITHUB_STEP_SUMMARY = summaryFile
  outputs = await import('../../src/action/outputs.js')
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })
beforeEach(async () => {
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')
})

async function readOutputs (): Promise<Record<string, string>> {
  const text = await readFile(outputFile, 'utf8')
  const found: Record<string, string> = {}
  for (const m of text.matchAll(/^([\w-]+)<<(ghadelimiter_[\w-]+)\n([\s\S]*?)\n\2$/gm)) found[m[1] as string] = m[3] as string
  return found
}

const signedHere: NameReport = {
  kind: 'ipns',
  label: 'IPNS (signed here)',
  name: 'k51qzi5uqu5dsigned',
  value: '/ipfs/bafyroot',
  sequence: '7',
  expires: '2026-12-01T12:00:00.000Z',
  recordPath: '/tmp/ipcr/ipns-record.bin',
  targets: [
    { label: 'http://127.0.0.1:5001 (routing put)', ok: true, detail: 'accepted' },
    { label: 'https://router.example', ok: false, detail: hostile }
  ]
}
const keystore: NameReport = { kind: 'kubo-ipns', label: 'IPNS (Kubo keystore)', name: 'k51qzi5uqu5dkeystore', value: '/ipfs/bafyroot' }

function pipelineResult (names: NameReport[]): PipelineResult {
  return {
    rootCid: 'bafyroot',
    name: 'team/app',
    tags: [{ tag: '1', cid: 'bafytag' }],
    imageCid: 'bafytag',
    digest: 'sha256:0',
    imageId: 'sha256:1',
    platforms: ['linux/amd64'],
    size: 10,
    sourceFormat: 'oci-layout',
    car: { path: '/tmp/r.car', scope: 'new', blocks: 1, bytes: 10 },
    reusedBlobs: 0,
    destinations: [{ kind: 'kubo', label: 'Kubo http://127.0.0.1:5001', details: {} }],
    names
  } as unknown as PipelineResult
}

describe('IPNS outputs', () => {
  test('come from the record signed here, not the keystore name, when both moved', async () => {
    outputs.setOutputs(pipelineResult([keystore, signedHere]), [])
    const o = await readOutputs()
    expect(o['ipns-name']).toBe('k51qzi5uqu5dsigned')
    expect(o['ipns-sequence']).toBe('7')
    expect(o['ipns-expires']).toBe('2026-12-01T12:00:00.000Z')
    expect(o['ipns-record-path']).toBe('/tmp/ipcr/ipns-record.bin')
  })

  test('the keystore name alone still sets ipns-name; no IPNS: every IPNS output is empty', async () => {
    outputs.setOutputs(pipelineResult([keystore]), [])
    let o = await readOutputs()
    expect(o['ipns-name']).toBe('k51qzi5uqu5dkeystore')
    expect(o['ipns-sequence']).toBe('')
    await writeFile(outputFile, '')
    outputs.setOutputs(pipelineResult([]), [])
    o = await readOutputs()
    for (const key of ['ipns-name', 'ipns-sequence', 'ipns-expires', 'ipns-record-path']) expect(o[key]).toBe('')
  })

  test('republish sets the same outputs from its result', async () => {
    const result: RepublishResult = { ...signedHere, sequence: '8', resigned: true, reason: 'valid for 3h, within 24h: re-signed' }
    outputs.setRepublishOutputs(result)
    const o = await readOutputs()
    expect(o['ipns-name']).toBe('k51qzi5uqu5dsigned')
    expect(o['ipns-sequence']).toBe('8')
    expect(JSON.parse(o.metadata as string).resigned).toBe(true)
  })
})

describe('IPNS rows in the job summary', () => {
  test('publish: the name, its record (sequence, expiry, file) and one row per target, escaped', async () => {
    await outputs.writeSummary(pipelineResult([signedHere]), [])
    const summary = await readFile(summaryFile, 'utf8')
    expect(summary).toContain('sequence 7, valid until 2026-12-01T12:00:00.000Z')
    expect(summary).toContain('<code>/tmp/ipcr/ipns-record.bin</code>')
    expect(summary).toMatch(/IPNS \(signed here\) → http:\/\/127\.0\.0\.1:5001 \(routing put\)<\/td><td>ok: accepted/)
    expect(summary).toMatch(/IPNS \(signed here\) → https:\/\/router\.example<\/td><td>failed: /)
    expect(summary).not.toContain('<script>')
    expect(summary).not.toContain('**bold**')
  })

  test('republish: name, value, re-signed or not and why, expiry and each target, escaped', async () => {
    const kept: RepublishResult = { ...signedHere, resigned: false, reason: `valid for 40h, more than 24h: put again unchanged ${hostile}` }
    await outputs.writeRepublishSummary(kept)
    const summary = await readFile(summaryFile, 'utf8')
    expect(summary).toContain('Republished /ipns/k51qzi5uqu5dsigned')
    expect(summary).toContain('<code>/ipfs/bafyroot</code>')
    expect(summary).toContain('no: the existing record was put again unchanged')
    expect(summary).toContain('valid for 40h, more than 24h: put again unchanged')
    expect(summary).toContain('2026-12-01T12:00:00.000Z')
    expect(summary).toMatch(/https:\/\/router\.example<\/td><td>failed: /)
    expect(summary).not.toContain('<script>')
    expect(summary).not.toContain('**bold**')
  })
})
