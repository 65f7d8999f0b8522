import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { sha256, sha512 } from 'multiformats/hashes/sha2'
import { FsBlockStore } from '../../src/core/blocks/fs-store.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { FirstSource } from '../../src/core/blocks/multi.js'
import type { BlockSource } from '../../src/core/blocks/types.js'
import { verifyBlock } from '../../src/core/blocks/verify.js'
import { BlockNotFoundError, DigestMismatchError, IpcrError } from '../../src/core/errors.js'

const bytes = new TextEncoder().encode('some block')
const other = new TextEncoder().encode('other block')
let cid: CID
let dir: string
beforeAll(async () => {
  cid = CID.createV1(raw.code, await sha256.digest(bytes))
  dir = await mkdtemp(join(tmpdir(), 'ipcr-store-'))
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

describe('verifyBlock', () => {
  it('accepts matching sha2-256 and identity blocks, rejects the rest', async () => {
    verifyBlock(cid, bytes)
    verifyBlock(cid.toV1(), bytes)
    expect(() => verifyBlock(cid, other)).toThrow(DigestMismatchError)
    const inline = CID.createV1(raw.code, identity.digest(bytes))
    verifyBlock(inline, bytes)
    expect(() => verifyBlock(inline, other)).toThrow(DigestMismatchError)
    const unsupported = CID.createV1(raw.code, await sha512.digest(bytes))
    const error = (() => { try { verifyBlock(unsupported, bytes) } catch (err) { return err } })() as IpcrError
    expect(error).toBeInstanceOf(IpcrError)
    expect(error.code).toBe('ERR_UNSUPPORTED_HASH')
    expect(error.message).toMatch(/unsupported multihash 0x13/)
  })
})

describe('MemoryBlockStore', () => {
  it('stores verified blocks, found by CIDv0 or v1', async () => {
    const store = new MemoryBlockStore()
    await expect(store.put(cid, other)).rejects.toThrow(DigestMismatchError)
    await store.put(cid, bytes)
    expect(await store.has(cid)).toBe(true)
    expect(await store.get(CID.createV1(0x70, cid.multihash))).toBe(bytes)
    await expect(store.get(CID.createV1(raw.code, await sha256.digest(other)))).rejects.toThrow(BlockNotFoundError)
    expect(store.size).toBe(1)
  })
})

describe('FsBlockStore', () => {
  it('writes one file per block in sharded folders, atomically, and verifies on read', async () => {
    const store = new FsBlockStore(join(dir, 'blocks'))
    await expect(store.get(cid)).rejects.toThrow(BlockNotFoundError)
    await store.put(cid, bytes)
    await store.put(cid, bytes)
    expect(await store.has(cid)).toBe(true)
    expect(Buffer.from(await store.get(cid)).equals(bytes)).toBe(true)
    const name = cid.toString()
    expect(store.pathOf(cid)).toBe(join(dir, 'blocks', name.slice(-3, -1), name))
    expect(await readdir(join(dir, 'blocks', name.slice(-3, -1)))).toEqual([name])
    await writeFile(store.pathOf(cid), other)
    await expect(store.get(cid)).rejects.toThrow(DigestMismatchError)
    // a second store on the same folder sees the blocks
    const otherCid = CID.createV1(raw.code, await sha256.digest(other))
    await store.put(otherCid, other)
    expect(await new FsBlockStore(join(dir, 'blocks')).has(otherCid)).toBe(true)
  })

  it('calls onWritten once the block file is in place, and for a block it already has', async () => {
    const store = new FsBlockStore(join(dir, 'written'))
    const seen: boolean[] = []
    await store.put(cid, bytes, { onWritten: () => { seen.push(existsSync(store.pathOf(cid))) } })
    await store.put(cid, bytes, { onWritten: () => { seen.push(true) } })
    expect(seen).toEqual([true, true])
  })
})

describe('FirstSource', () => {
  it('tries each source in order and lists every failure', async () => {
    const empty = new MemoryBlockStore()
    const full = new MemoryBlockStore()
    await full.put(cid, bytes)
    const corrupt: BlockSource = { label: 'corrupt', get: async () => { throw new DigestMismatchError('bad bytes') } }
    const first = new FirstSource([empty, corrupt, full])
    expect(await first.get(cid)).toBe(bytes)
    const none = new FirstSource([empty, corrupt])
    await expect(none.get(cid)).rejects.toThrow(BlockNotFoundError)
    await expect(none.get(cid)).rejects.toThrow(/memory.*bad bytes/)
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await expect(first.get(cid, { signal: controller.signal })).rejects.toThrow('stop')
  })
})
