import { describe, expect, it } from '@jest/globals'
import { importer } from 'ipfs-unixfs-importer'
import type { CID } from 'multiformats/cid'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { importBytes, importFile } from '../../src/core/unixfs/file.js'
import { buildDirectory } from '../../src/core/unixfs/directory.js'
import { bytesOf, text } from './fixtures.js'

const MiB = 1024 * 1024

async function reference(bytes: Uint8Array): Promise<{ cid: CID, size: number }> {
  let result: { cid: CID, size: bigint } | undefined
  const blockstore = { put: async (cid: CID) => cid }
  for await (const entry of importer([{ content: bytes }], blockstore, { profile: 'unixfs-v1-2025' })) result = entry
  if (result == null) throw new Error('no result')
  return { cid: result.cid, size: Number(result.size) }
}

async function * chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

describe('importFile', () => {
  it('gives the known CID for "hello world"', async () => {
    const store = new MemoryBlockStore()
    const node = await importBytes(text('hello world'), store)
    expect(node.cid.toString()).toBe('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
    expect(node.size).toBe(11)
    expect(node.bytes).toBe(11)
    expect(await store.get(node.cid)).toEqual(text('hello world'))
  })

  it('gives the known CID for an empty directory', async () => {
    const node = await buildDirectory([], new MemoryBlockStore())
    expect(node.cid.toString()).toBe('bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354')
    expect(node.size).toBe(4)
  })

  for (const length of [0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 12345]) {
    it(`matches the importer for ${length} bytes, whatever the input chunking`, async () => {
      const bytes = bytesOf(length, length + 7)
      const expected = await reference(bytes)
      for (const chunkSize of [MiB, 65536, 1000003]) {
        const store = new MemoryBlockStore()
        const node = await importFile(chunked(bytes, chunkSize), store)
        expect(node.cid.toString()).toBe(expected.cid.toString())
        expect(node.size).toBe(expected.size)
        expect(node.bytes).toBe(length)
        expect(await store.has(node.cid)).toBe(true)
      }
      const fromBytes = await importBytes(bytes, new MemoryBlockStore())
      expect(fromBytes.cid.toString()).toBe(expected.cid.toString())
    })
  }

  it('writes a multi-block file as raw leaves under a dag-pb root, Tsize = all block bytes', async () => {
    const bytes = bytesOf(2 * MiB + 5, 3)
    const store = new MemoryBlockStore()
    const node = await importBytes(bytes, store)
    expect(node.cid.code).toBe(0x70)
    const blocks = [...store.entries()]
    expect(blocks.filter((b) => b.cid.code === 0x55)).toHaveLength(3)
    expect(node.size).toBe(blocks.reduce((sum, b) => sum + b.bytes.length, 0))
  })

  it('stops when aborted', async () => {
    const controller = new AbortController()
    async function * endless (): AsyncGenerator<Uint8Array> {
      for (let i = 0; ; i++) {
        if (i === 3) controller.abort(new Error('stop'))
        yield new Uint8Array(MiB)
      }
    }
    await expect(importFile(endless(), new MemoryBlockStore(), { signal: controller.signal })).rejects.toThrow('stop')
  })
})
