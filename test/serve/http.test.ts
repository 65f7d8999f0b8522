import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import * as dagPb from '@ipld/dag-pb'
import { createServer } from 'node:http'
import { CID } from 'multiformats/cid'
import { GatewayBlockSource } from '../../src/core/blocks/gateway.js'
import { resolvePath } from '../../src/core/unixfs/tree.js'
import { FirstSource } from '../../src/core/blocks/multi.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import type { Logger } from '../../src/core/logger.js'
import { startRegistryServer, type RegistryServer } from '../../src/core/serve/server.js'
import type { NamedRegistry } from '../../src/core/registry/resolve.js'
import { editTree } from '../../src/core/unixfs/edit.js'
import { importBytes } from '../../src/core/unixfs/file.js'
import { blobFile, makeTempDir } from '../helpers/images.js'
import { BIG_FILE_BYTES, publishRegistry, request, type PublishedRegistry } from './fixture.js'

let dir: string
let registry: PublishedRegistry
let server: RegistryServer
let base: string
const warnings: string[] = []
const logger: Logger = { debug () {}, info () {}, warn (m) { warnings.push(m) }, group: async (_n, fn) => await fn() }

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/** The blob `digest` as the layout umoci wrote holds it. */
async function original (digest: string): Promise<Buffer> {
  return await readFile(blobFile(registry.layout, digest))
}

/** The layer holding the 3 MiB file: the largest blob of team/app:1.0. */
async function bigLayer (): Promise<{ digest: string, bytes: Buffer }> {
  let best: { digest: string, bytes: Buffer } = { digest: '', bytes: Buffer.alloc(0) }
  for (const digest of registry.app.layerDigests) {
    const bytes = await original(digest)
    if (bytes.length > best.bytes.length) best = { digest, bytes }
  }
  return best
}

beforeAll(async () => {
  dir = await makeTempDir('ipcr-serve-')
  registry = await publishRegistry(dir)
  server = await startRegistryServer({ listen: '127.0.0.1:0', source: registry.source, defaultRegistry: { kind: 'ipfs', root: registry.root }, logger })
  base = `${server.url}/v2/ipfs/${registry.root.toString()}`
})

afterAll(async () => {
  await server?.close()
  await registry?.close()
  await rm(dir, { recursive: true, force: true })
})

test('GET /v2/ answers 200 with the API version header', async () => {
  const answer = await request(`${server.url}/v2/`)
  expect(answer.status).toBe(200)
  expect(answer.headers['docker-distribution-api-version']).toBe('registry/2.0')
  expect(JSON.parse(answer.body.toString())).toEqual({})
})

describe('manifests', () => {
  test('a manifest asked for again is answered from the server\'s cache: its tree and its small JSON files are read from the sources once', async () => {
    let gets = 0
    const counting = { label: 'counting', get: async (cid: CID) => { gets++; return await registry.source.get(cid) } }
    const own = await startRegistryServer({ listen: '127.0.0.1:0', source: counting })
    try {
      const url = `${own.url}/v2/ipfs/${registry.root.toString()}/team/app/manifests/1.0`
      expect((await request(url)).status).toBe(200)
      const first = gets
      expect(first).toBeGreaterThan(3)
      const again = await request(url)
      expect(again.status).toBe(200)
      expect(again.body.equals(await original(registry.app.manifestDigest))).toBe(true)
      expect(gets).toBe(first)
    } finally {
      await own.close()
    }
  })

  test('by tag and by digest, GET and HEAD: the exact bytes, media type, digest and length', async () => {
    const bytes = await original(registry.app.manifestDigest)
    for (const reference of ['1.0', registry.app.manifestDigest]) {
      const get = await request(`${base}/team/app/manifests/${reference}`)
      expect(get.status).toBe(200)
      expect(get.body.equals(bytes)).toBe(true)
      expect(get.headers['content-type']).toBe('application/vnd.oci.image.manifest.v1+json')
      expect(get.headers['docker-content-digest']).toBe(registry.app.manifestDigest)
      expect(get.headers['content-length']).toBe(String(bytes.length))
      const head = await request(`${base}/team/app/manifests/${reference}`, { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.body.length).toBe(0)
      expect(head.headers['content-type']).toBe('application/vnd.oci.image.manifest.v1+json')
      expect(head.headers['docker-content-digest']).toBe(registry.app.manifestDigest)
      expect(head.headers['content-length']).toBe(String(bytes.length))
    }
  })

  test('a multi-platform tag is served as its index; its platform manifests by digest', async () => {
    const index = await request(`${base}/team/multi/manifests/1.0`)
    expect(index.status).toBe(200)
    expect(index.headers['content-type']).toBe('application/vnd.oci.image.index.v1+json')
    expect(index.headers['docker-content-digest']).toBe(registry.multi.indexDigest)
    expect(sha256(index.body)).toBe(registry.multi.indexDigest)
    const platforms = JSON.parse(index.body.toString()).manifests.map((m: any) => m.platform.architecture).sort()
    expect(platforms).toEqual(['amd64', 'arm64'])
    const arm = await request(`${base}/team/multi/manifests/${registry.multi.arm64.manifestDigest}`)
    expect(arm.status).toBe(200)
    expect(arm.headers['content-type']).toBe('application/vnd.oci.image.manifest.v1+json')
    expect(sha256(arm.body)).toBe(registry.multi.arm64.manifestDigest)
  })

  test('a manifest is also a blob under /blobs/', async () => {
    const answer = await request(`${base}/team/app/blobs/${registry.app.manifestDigest}`)
    expect(answer.status).toBe(200)
    expect(answer.body.equals(await original(registry.app.manifestDigest))).toBe(true)
  })

  test('a layer digest is no manifest', async () => {
    const answer = await request(`${base}/team/app/manifests/${registry.app.layerDigests[0] as string}`)
    expect(answer.status).toBe(404)
    expect(JSON.parse(answer.body.toString()).errors[0].code).toBe('MANIFEST_UNKNOWN')
  })

  test('the default registry answers without a registry part in the path', async () => {
    const answer = await request(`${server.url}/v2/team/app/manifests/2.0`)
    expect(answer.status).toBe(200)
    expect(answer.headers['docker-content-digest']).toBe(registry.app2.manifestDigest)
  })
})

describe('blobs', () => {
  test('GET gives the exact bytes; HEAD the size and no body', async () => {
    const { digest, bytes } = await bigLayer()
    expect(bytes.length).toBeGreaterThan(BIG_FILE_BYTES - 1024)
    const get = await request(`${base}/team/app/blobs/${digest}`)
    expect(get.status).toBe(200)
    expect(get.body.equals(bytes)).toBe(true)
    expect(get.headers['docker-content-digest']).toBe(digest)
    expect(get.headers['content-length']).toBe(String(bytes.length))
    const head = await request(`${base}/team/app/blobs/${digest}`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers['content-length']).toBe(String(bytes.length))
    expect(head.body.length).toBe(0)
  })

  test('HEAD reads no byte of a blob\'s content: only folders and the file\'s root node', async () => {
    const asked: CID[] = []
    const counting = { label: 'counting', get: async (cid: CID) => { asked.push(cid); return await registry.source.get(cid) } }
    const fresh = await startRegistryServer({ listen: '127.0.0.1:0', source: counting })
    try {
      const url = `${fresh.url}/v2/ipfs/${registry.root.toString()}/team/app/blobs`
      const { digest, bytes } = await bigLayer()
      const small = registry.app.configDigest
      for (const [blob, size] of [[digest, bytes.length], [small, (await original(small)).length]] as Array<[string, number]>) {
        const head = await request(`${url}/${blob}`, { method: 'HEAD' })
        expect(head.headers['content-length']).toBe(String(size))
      }
      expect(asked.filter((cid) => cid.code !== dagPb.code)).toEqual([])
      // A GET of the small (single raw block) blob then reads it.
      expect((await request(`${url}/${small}`)).body.equals(await original(small))).toBe(true)
      expect(asked.filter((cid) => cid.code !== dagPb.code)).toHaveLength(1)
    } finally {
      await fresh.close()
    }
  })

  test('a blob only a later tag has is found in that tag folder', async () => {
    const only = registry.app2.layerDigests.find((d) => !registry.app.layerDigests.includes(d)) as string
    const answer = await request(`${base}/team/app/blobs/${only}`)
    expect(answer.status).toBe(200)
    expect(sha256(answer.body)).toBe(only)
  })

  test('a blob of another repository is not served', async () => {
    const other = registry.multi.arm64.layerDigests[0] as string
    const answer = await request(`${base}/team/app/blobs/${other}`)
    expect(answer.status).toBe(404)
    expect(JSON.parse(answer.body.toString()).errors[0]).toMatchObject({ code: 'BLOB_UNKNOWN', detail: { digest: other } })
  })

  test('Range bytes=N-M and N- across leaf boundaries, before and after the blob was read whole', async () => {
    const { digest, bytes } = await bigLayer()
    // A fresh server: the first ranges are read from an unchecked file, the later ones from a checked one.
    const fresh = await startRegistryServer({ listen: '127.0.0.1:0', source: registry.source })
    try {
      const url = `${fresh.url}/v2/ipfs/${registry.root.toString()}/team/app/blobs/${digest}`
      const ranges: Array<[number, number | undefined]> = [[1048570, 2097160], [5, 5], [bytes.length - 1, undefined], [2 * 1048576 + 1, undefined], [1048576, 1048576 * 3]]
      for (let round = 0; round < 2; round++) {
        for (const [start, last] of ranges) {
          const answer = await request(url, { headers: { Range: `bytes=${start}-${last ?? ''}` } })
          const end = last == null ? bytes.length : Math.min(bytes.length, last + 1)
          expect(answer.status).toBe(206)
          expect(answer.headers['content-range']).toBe(`bytes ${start}-${end - 1}/${bytes.length}`)
          expect(answer.headers['content-length']).toBe(String(end - start))
          expect(answer.body.equals(bytes.subarray(start, end))).toBe(true)
        }
        if (round === 0) expect((await request(url)).body.equals(bytes)).toBe(true)
      }
      const past = await request(url, { headers: { Range: `bytes=${bytes.length}-` } })
      expect(past.status).toBe(416)
      expect(past.headers['content-range']).toBe(`bytes */${bytes.length}`)
    } finally {
      await fresh.close()
    }
  })
})

describe('errors', () => {
  const cases: Array<[string, string, number, string]> = [
    ['unknown repository', '/team/nothing/manifests/1.0', 404, 'NAME_UNKNOWN'],
    ['unknown repository, blob', `/team/nothing/blobs/sha256:${'a'.repeat(64)}`, 404, 'NAME_UNKNOWN'],
    ['unknown repository, tags', '/team/nothing/tags/list', 404, 'NAME_UNKNOWN'],
    ['unknown tag', '/team/app/manifests/9.9', 404, 'MANIFEST_UNKNOWN'],
    ['unknown manifest digest', `/team/app/manifests/sha256:${'b'.repeat(64)}`, 404, 'MANIFEST_UNKNOWN'],
    ['unknown blob digest', `/team/app/blobs/sha256:${'c'.repeat(64)}`, 404, 'BLOB_UNKNOWN'],
    ['invalid manifest digest', '/team/app/manifests/sha256:baddigeststring', 400, 'DIGEST_INVALID'],
    ['invalid blob digest', '/team/app/blobs/sha256:XYZ', 400, 'DIGEST_INVALID'],
    ['invalid referrers digest', '/team/app/referrers/nodigest', 400, 'DIGEST_INVALID'],
    ['invalid name', '/Team/App/manifests/1.0', 400, 'NAME_INVALID']
  ]
  test.each(cases)('%s', async (_what, path, status, code) => {
    const answer = await request(`${base}${path}`)
    expect(answer.status).toBe(status)
    expect(answer.headers['content-type']).toBe('application/json')
    const body = JSON.parse(answer.body.toString())
    expect(body.errors).toHaveLength(1)
    expect(body.errors[0].code).toBe(code)
    expect(typeof body.errors[0].message).toBe('string')
  })

  test('an ipfs/ part that is no CID is NAME_INVALID', async () => {
    const answer = await request(`${server.url}/v2/ipfs/notacid/team/app/manifests/1.0`)
    expect(answer.status).toBe(400)
    expect(JSON.parse(answer.body.toString()).errors[0].code).toBe('NAME_INVALID')
  })

  test('every write method answers 405 UNSUPPORTED', async () => {
    const writes: Array<[string, string]> = [
      ['PUT', '/team/app/manifests/1.0'],
      ['DELETE', '/team/app/manifests/1.0'],
      ['DELETE', `/team/app/blobs/${registry.app.layerDigests[0] as string}`],
      ['POST', '/team/app/blobs/uploads/'],
      ['PATCH', '/team/app/blobs/uploads/some-session'],
      ['PUT', '/team/app/blobs/uploads/some-session?digest=sha256:00'],
      ['DELETE', '/team/app/blobs/uploads/some-session'],
      ['POST', '/team/new/blobs/uploads/?mount=sha256:00&from=team/app']
    ]
    for (const [method, path] of writes) {
      const answer = await request(`${base}${path}`, { method, body: method === 'GET' ? undefined : '{}' })
      expect([method, path, answer.status]).toEqual([method, path, 405])
      expect(JSON.parse(answer.body.toString()).errors[0].code).toBe('UNSUPPORTED')
      expect(answer.headers.allow).toBe('GET, HEAD')
    }
  })
})

describe('listings', () => {
  test('tags/list with n and last pagination and Link headers', async () => {
    const all = await request(`${base}/team/app/tags/list`)
    expect(JSON.parse(all.body.toString())).toEqual({ name: `ipfs/${registry.root.toString()}/team/app`, tags: ['1.0', '2.0', 'latest', 'stable'] })
    expect(all.headers.link).toBeUndefined()
    const first = await request(`${base}/team/app/tags/list?n=2`)
    expect(JSON.parse(first.body.toString()).tags).toEqual(['1.0', '2.0'])
    const link = /^<([^>]+)>; rel="next"$/.exec(String(first.headers.link))
    expect(link).not.toBeNull()
    const second = await request(`${server.url}${(link as RegExpExecArray)[1] as string}`)
    expect(JSON.parse(second.body.toString()).tags).toEqual(['latest', 'stable'])
    expect(second.headers.link).toBeUndefined()
    const after = await request(`${base}/team/app/tags/list?last=latest`)
    expect(JSON.parse(after.body.toString()).tags).toEqual(['stable'])
    const none = await request(`${base}/team/app/tags/list?n=0`)
    expect(JSON.parse(none.body.toString()).tags).toEqual([])
    const bad = await request(`${base}/team/app/tags/list?n=-1`)
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body.toString()).errors[0].code).toBe('PAGINATION_NUMBER_INVALID')
  })

  test('_catalog of the default registry, paginated', async () => {
    const all = await request(`${server.url}/v2/_catalog`)
    expect(all.status).toBe(200)
    expect(JSON.parse(all.body.toString())).toEqual({ repositories: ['team/app', 'team/multi'] })
    const first = await request(`${server.url}/v2/_catalog?n=1`)
    expect(JSON.parse(first.body.toString()).repositories).toEqual(['team/app'])
    expect(first.headers.link).toBe('</v2/_catalog?n=1&last=team%2Fapp>; rel="next"')
  })

  test('_catalog of a tree without catalog.json: the folders that hold a tags folder', async () => {
    const store = new MemoryBlockStore()
    const file = await importBytes(new TextEncoder().encode('x\n'), store)
    const edits = [['a', 'b', 'tags', '1', 'index.json'], ['a', 'b', 'c', 'tags', '2', 'index.json'], ['d', 'tags', '3', 'index.json'], ['e', 'README.txt'], ['catalog.txt']]
    const tree = await editTree(null, edits.map((path) => ({ path, node: file })), null, store)
    const listing = await startRegistryServer({ listen: '127.0.0.1:0', source: store })
    try {
      const answer = await request(`${listing.url}/v2/ipfs/${tree.cid.toString()}/_catalog`)
      expect(JSON.parse(answer.body.toString())).toEqual({ repositories: ['a/b', 'a/b/c', 'd'] })
    } finally {
      await listing.close()
    }
  })

  test('referrers answer an empty OCI index', async () => {
    const answer = await request(`${base}/team/app/referrers/${registry.app.manifestDigest}`)
    expect(answer.status).toBe(200)
    expect(answer.headers['content-type']).toBe('application/vnd.oci.image.index.v1+json')
    expect(JSON.parse(answer.body.toString())).toEqual({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] })
  })
})

describe('named registries', () => {
  test('ipns/ and domain names are resolved, and resolved again after their TTL', async () => {
    const other = await publishedEmptyRoot()
    let clock = 0
    const roots = new Map<string, CID>([['ipns/k51qzi5uqu5dexample', registry.root], ['registry.example.org', registry.root]])
    const asked: string[] = []
    const resolveRoot = async (name: NamedRegistry): Promise<{ root: CID, ttlMs: number }> => {
      const key = name.kind === 'ipns' ? `ipns/${name.name}` : name.domain
      asked.push(key)
      const root = roots.get(key)
      if (root == null) throw new Error(`no such name ${key}`)
      return { root, ttlMs: 60_000 }
    }
    const named = await startRegistryServer({ listen: '127.0.0.1:0', source: new FirstSource([registry.source, other.store]), resolveRoot, now: () => clock })
    try {
      for (const prefix of ['ipns/k51qzi5uqu5dexample', 'registry.example.org']) {
        const answer = await request(`${named.url}/v2/${prefix}/team/app/manifests/1.0`)
        expect(answer.status).toBe(200)
        expect(answer.headers['docker-content-digest']).toBe(registry.app.manifestDigest)
      }
      expect(asked).toEqual(['ipns/k51qzi5uqu5dexample', 'registry.example.org'])
      // A new publish moves the domain: within the TTL the old root still answers, after it the new one.
      roots.set('registry.example.org', other.root)
      expect((await request(`${named.url}/v2/registry.example.org/team/app/manifests/1.0`)).status).toBe(200)
      clock += 60_001
      const moved = await request(`${named.url}/v2/registry.example.org/team/app/manifests/1.0`)
      expect(moved.status).toBe(404)
      expect(JSON.parse(moved.body.toString()).errors[0].code).toBe('NAME_UNKNOWN')
      expect(asked).toEqual(['ipns/k51qzi5uqu5dexample', 'registry.example.org', 'registry.example.org'])
      // Without a default registry, a bare name is NAME_UNKNOWN.
      const bare = await request(`${named.url}/v2/team/app/manifests/1.0`)
      expect(bare.status).toBe(404)
      expect(JSON.parse(bare.body.toString()).errors[0].code).toBe('NAME_UNKNOWN')
    } finally {
      await named.close()
    }
  })
})

/** A registry root holding only an empty `team` folder. */
async function publishedEmptyRoot (): Promise<{ root: CID, store: MemoryBlockStore }> {
  const store = new MemoryBlockStore()
  const readme = await importBytes(new TextEncoder().encode('nothing\n'), store)
  const node = await editTree(null, [{ path: ['team', 'README.txt'], node: readme }], null, store)
  return { root: node.cid, store }
}

describe('content that does not match its digest', () => {
  test('a blob file whose bytes do not hash to its name: the response is cut before its end, and logged', async () => {
    const { digest } = await bigLayer()
    const hex = digest.slice('sha256:'.length)
    const store = new MemoryBlockStore()
    const wrong = randomBytes(2 * 1024 * 1024 + 3)
    const file = await importBytes(wrong, store)
    const source = new FirstSource([store, registry.source])
    const paths = ['1.0', 'latest', 'stable', '2.0'].map((tag) => ['team', 'app', 'tags', tag, 'blobs', 'sha256', hex])
    const tampered = await editTree(registry.root, paths.map((path) => ({ path, node: file })), source, store)
    const bad = await startRegistryServer({ listen: '127.0.0.1:0', source, logger })
    try {
      const url = `${bad.url}/v2/ipfs/${tampered.cid.toString()}/team/app/blobs/${digest}`
      warnings.length = 0
      const answer = await request(url)
      expect(answer.status).toBe(200)
      expect(answer.headers['content-length']).toBe(String(wrong.length))
      expect(answer.cut).toBe(true)
      expect(answer.body.length).toBeLessThan(wrong.length)
      expect(warnings.join('\n')).toMatch(/refused GET .* hashes to sha256:/)
      // A range of it is refused too (it was never found to match); no byte was given out, so the answer is an error.
      const range = await request(url, { headers: { Range: 'bytes=10-20' } })
      expect(range.status).toBe(500)
      expect(JSON.parse(range.body.toString()).errors[0].code).toBe('UNKNOWN')
    } finally {
      await bad.close()
    }
  })

  test('a manifest whose bytes do not hash to its digest is not served', async () => {
    const hex = registry.app.manifestDigest.slice('sha256:'.length)
    const store = new MemoryBlockStore()
    const original = JSON.parse((await request(`${base}/team/app/manifests/1.0`)).body.toString())
    original.annotations = { forged: 'yes' }
    const file = await importBytes(new TextEncoder().encode(JSON.stringify(original)), store)
    const source = new FirstSource([store, registry.source])
    const paths = ['1.0', 'latest', 'stable'].map((tag) => ['team', 'app', 'tags', tag, 'blobs', 'sha256', hex])
    const tampered = await editTree(registry.root, paths.map((path) => ({ path, node: file })), source, store)
    const bad = await startRegistryServer({ listen: '127.0.0.1:0', source, logger })
    try {
      for (const reference of ['1.0', registry.app.manifestDigest]) {
        const answer = await request(`${bad.url}/v2/ipfs/${tampered.cid.toString()}/team/app/manifests/${reference}`)
        expect(answer.status).toBe(500)
        expect(answer.body.toString()).not.toContain('forged')
        expect(JSON.parse(answer.body.toString()).errors[0].code).toBe('UNKNOWN')
      }
    } finally {
      await bad.close()
    }
  })
})

describe('a gateway that corrupts a block', () => {
  /** A trustless gateway on loopback serving the tree's blocks, with the bytes of `corrupt` altered. */
  async function corruptingGateway (corrupt: Set<string>): Promise<{ url: string, close: () => Promise<void> }> {
    const gateway = createServer((req, res) => {
      const match = /^\/ipfs\/([^/?]+)\?format=raw$/.exec(req.url ?? '')
      if (match == null) { res.writeHead(400).end(); return }
      const cid = CID.parse(match[1] as string)
      registry.source.get(cid).then((bytes) => {
        const out = Buffer.from(bytes)
        if (corrupt.has(cid.toString())) out[out.length >> 1] = (out[out.length >> 1] as number) ^ 0xff
        res.writeHead(200, { 'Content-Type': 'application/vnd.ipld.raw', 'Content-Length': String(out.length) }).end(out)
      }, () => { res.writeHead(404).end() })
    })
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve))
    const port = (gateway.address() as { port: number }).port
    return { url: `http://127.0.0.1:${port}`, close: async () => { gateway.closeAllConnections(); await new Promise<void>((resolve) => gateway.close(() => { resolve() })) } }
  }

  test('the gateway source refuses the block: the blob stops before it and what was sent is the true prefix; a manifest answers 503', async () => {
    const { digest, bytes } = await bigLayer()
    const file = await resolvePath(registry.root, ['team', 'app', 'tags', '1.0', 'blobs', 'sha256', digest.slice(7)], registry.source)
    const links = dagPb.decode(await registry.source.get((file as { cid: CID }).cid)).Links
    expect(links.length).toBeGreaterThanOrEqual(3)
    const manifest = await resolvePath(registry.root, ['team', 'app', 'tags', '1.0', 'blobs', 'sha256', registry.app.manifestDigest.slice(7)], registry.source)
    const gateway = await corruptingGateway(new Set([(links[2] as dagPb.PBLink).Hash.toString(), (manifest as { cid: CID }).cid.toString()]))
    const source = new GatewayBlockSource([gateway.url], { retries: 0 })
    const served = await startRegistryServer({ listen: '127.0.0.1:0', source, logger })
    try {
      warnings.length = 0
      const url = `${served.url}/v2/ipfs/${registry.root.toString()}/team/app`
      const blob = await request(`${url}/blobs/${digest}`)
      expect(blob.status).toBe(200)
      expect(blob.cut).toBe(true)
      expect(blob.body.length).toBeLessThan(bytes.length)
      expect(blob.body.equals(bytes.subarray(0, blob.body.length))).toBe(true)
      expect(warnings.join('\n')).toContain((links[2] as dagPb.PBLink).Hash.toString())
      const head = await request(`${url}/blobs/${digest}`, { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.headers['content-length']).toBe(String(bytes.length))
      const refused = await request(`${url}/manifests/1.0`)
      expect(refused.status).toBe(503)
      expect(JSON.parse(refused.body.toString()).errors[0].code).toBe('UNAVAILABLE')
    } finally {
      await served.close()
      await gateway.close()
    }
  })
})
