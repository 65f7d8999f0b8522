// CAR target: a valid CARv1 or CARv2 of a small UnixFS tree, encoded here, with its header,
// sections, CIDs and v2 offsets mutated, then its bytes; read with CarBlockSource.open, get of
// every indexed block, and walkDag + exportToDirectory of its roots, as `ipcr get` reads a CAR.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { CarBlockSource } from '../../src/core/blocks/car-source.js'
import { MemoryBlockStore } from '../../src/core/blocks/memory.js'
import { buildDirectory } from '../../src/core/unixfs/directory.js'
import { exportToDirectory } from '../../src/core/unixfs/export.js'
import { importBytes } from '../../src/core/unixfs/file.js'
import { walkDag } from '../../src/core/unixfs/tree.js'
import { exportLimits } from './dag.js'
import { CountingSource, sometimes, step, tryStep, type Sandbox, type Target } from './harness.js'

interface Block { cid: CID, bytes: Uint8Array }

let base: { root: CID, blocks: Block[] } | undefined

/** A small tree: a directory with a text file, a 1.2 MiB file (two leaves and a root) and a sub-directory. */
async function buildBase (): Promise<{ root: CID, blocks: Block[] }> {
  const store = new MemoryBlockStore()
  const text = await importBytes(new TextEncoder().encode('hello car\n'), store)
  const big = await importBytes(new Uint8Array(1.2 * 1024 * 1024).map((_, i) => (i * 7) & 0xff), store)
  const sub = await buildDirectory([{ name: 'inner.txt', cid: text.cid, size: text.size }], store)
  const root = await buildDirectory([
    { name: 'big.bin', cid: big.cid, size: big.size },
    { name: 'hello.txt', cid: text.cid, size: text.size },
    { name: 'sub', cid: sub.cid, size: sub.size }
  ], store)
  return { root: root.cid, blocks: [...store.entries()].reverse() }
}

// Hand-written dag-cbor, so that headers can be broken in any way.
function cborHead (major: number, value: number): Uint8Array {
  if (value < 24) return Uint8Array.of((major << 5) | value)
  if (value < 256) return Uint8Array.of((major << 5) | 24, value)
  if (value < 65536) return Uint8Array.of((major << 5) | 25, value >> 8, value & 0xff)
  return Uint8Array.of((major << 5) | 26, (value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff)
}
const cborText = (s: string): Uint8Array => concat([cborHead(3, Buffer.byteLength(s)), Buffer.from(s)])
const cborCid = (bytes: Uint8Array): Uint8Array => concat([Uint8Array.of(0xd8, 0x2a), cborHead(2, bytes.length + 1), Uint8Array.of(0), bytes])

function uvarint (value: number): Uint8Array {
  const out: number[] = []
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  out.push(value)
  return Uint8Array.from(out)
}

function concat (parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

type RootsKind = 'ok' | 'none' | 'many' | 'junk' | 'cidv0' | 'absent' | 'unknown'
type HeaderVersion = 1 | 2 | 0 | 3 | 'text' | 'missing'
type SectionOp =
  | { op: 'duplicate' | 'drop' | 'swap', at: number }
  | { op: 'length', at: number, delta: number }
  | { op: 'hugeLength', at: number, value: number }
  | { op: 'cid', at: number, kind: 'v0' | 'identity' | 'sha512' | 'codec' | 'truncated' | 'version' }
  | { op: 'garbage', at: number, bytes: Uint8Array }

export interface CarInput {
  v2: boolean
  roots: RootsKind
  version: HeaderVersion
  sections: SectionOp[]
  /** CARv2 header fields: null keeps the right value, else a replacement. */
  dataOffset: number | null
  dataSize: number | null
  padding: number
  flips: Array<[number, number]>
  truncate: number | null
}

const u64 = fc.oneof(fc.nat(5000), fc.constantFrom(0, 2 ** 32, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 63))

export const carInput: fc.Arbitrary<CarInput> = fc.record({
  v2: fc.boolean(),
  roots: fc.oneof({ arbitrary: fc.constant<RootsKind>('ok'), weight: 20 }, fc.constantFrom<RootsKind>('none', 'many', 'junk', 'cidv0', 'absent', 'unknown')),
  version: fc.oneof({ arbitrary: fc.constant<HeaderVersion>(1), weight: 20 }, fc.constantFrom<HeaderVersion>(2, 0, 3, 'text', 'missing')),
  sections: fc.oneof({ arbitrary: fc.constant<SectionOp[]>([]), weight: 2 }, fc.array(fc.oneof(
    fc.record({ op: fc.constantFrom('duplicate' as const, 'drop' as const, 'swap' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('length' as const), at: fc.nat(), delta: fc.integer({ min: -40, max: 40 }) }),
    fc.record({ op: fc.constant('hugeLength' as const), at: fc.nat(), value: fc.constantFrom(2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1, 2 ** 40) }),
    fc.record({ op: fc.constant('cid' as const), at: fc.nat(), kind: fc.constantFrom('v0' as const, 'identity' as const, 'sha512' as const, 'codec' as const, 'truncated' as const, 'version' as const) }),
    fc.record({ op: fc.constant('garbage' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 40 }) })
  ), { minLength: 1, maxLength: 4 })),
  dataOffset: sometimes(u64, 4),
  dataSize: sometimes(u64, 4),
  padding: fc.nat(64),
  flips: fc.oneof({ arbitrary: fc.constant<Array<[number, number]>>([]), weight: 3 }, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })),
  truncate: sometimes(fc.integer({ min: 0, max: 999 }), 6)
})

function header (input: CarInput, root: CID): Uint8Array {
  const entries: Array<[string, Uint8Array]> = []
  const rootsValue = {
    ok: () => concat([cborHead(4, 1), cborCid(root.bytes)]),
    none: () => cborHead(4, 0),
    many: () => concat([cborHead(4, 300), ...Array.from({ length: 300 }, () => cborCid(root.bytes))]),
    junk: () => concat([cborHead(4, 2), cborText('not a cid'), cborHead(0, 7)]),
    cidv0: () => concat([cborHead(4, 1), cborCid(CID.createV0(root.multihash as any).bytes)]),
    unknown: () => concat([cborHead(4, 1), cborCid(CID.create(1, 0x55, root.multihash).bytes)]),
    absent: () => undefined
  }[input.roots]()
  if (rootsValue != null) entries.push(['roots', rootsValue])
  if (input.version !== 'missing') entries.push(['version', input.version === 'text' ? cborText('1') : cborHead(0, input.version)])
  return concat([cborHead(5, entries.length), ...entries.flatMap(([k, v]) => [cborText(k), v])])
}

function alteredCid (cid: CID, kind: Extract<SectionOp, { op: 'cid' }>['kind']): Uint8Array {
  switch (kind) {
    case 'v0': return CID.createV0(cid.multihash as any).bytes
    case 'identity': return concat([Uint8Array.of(1, 0x55, 0x00, 40), new Uint8Array(40)])
    case 'sha512': return concat([Uint8Array.of(1, 0x55, 0x13, 64), new Uint8Array(64)])
    case 'codec': return CID.create(1, 0x71, cid.multihash).bytes
    case 'truncated': return cid.bytes.subarray(0, cid.bytes.length - 3)
    case 'version': return concat([Uint8Array.of(3), cid.bytes.subarray(1)])
  }
}

export function carInputBytes (input: CarInput, blocks: Block[], root: CID): Uint8Array {
  let sections: Uint8Array[] = blocks.map(({ cid, bytes }) => concat([uvarint(cid.bytes.length + bytes.length), cid.bytes, bytes]))
  for (const o of input.sections) {
    const at = o.at % Math.max(1, sections.length)
    const block = blocks[at % blocks.length] as Block
    const section = sections[at]
    switch (o.op) {
      case 'duplicate': if (section != null) sections.splice(at, 0, section); break
      case 'drop': sections.splice(at, 1); break
      case 'swap': if (section != null && sections.length > 1) sections = [...sections.slice(0, at), ...sections.slice(at + 1), section]; break
      case 'garbage': sections.splice(at, 0, o.bytes); break
      case 'length':
      case 'hugeLength': {
        const length = o.op === 'length' ? Math.max(0, block.cid.bytes.length + block.bytes.length + o.delta) : o.value
        sections[at] = concat([uvarint(length), block.cid.bytes, block.bytes])
        break
      }
      case 'cid': {
        const cidBytes = alteredCid(block.cid, o.kind)
        const length = cidBytes.length + block.bytes.length
        sections[at] = concat([uvarint(length), cidBytes, block.bytes])
        break
      }
    }
  }
  const head = header(input, root)
  const v1 = concat([uvarint(head.length), head, ...sections])
  let bytes = v1
  if (input.v2) {
    const pragma = Uint8Array.of(0x0a, 0xa1, 0x67, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x02)
    const fields = Buffer.alloc(40)
    const dataOffset = input.dataOffset ?? 51 + input.padding
    fields.writeBigUInt64LE(BigInt(dataOffset), 16)
    fields.writeBigUInt64LE(BigInt(input.dataSize ?? v1.length), 24)
    fields.writeBigUInt64LE(0n, 32)
    bytes = concat([pragma, fields, new Uint8Array(input.padding), v1])
  }
  for (const [position, value] of input.flips) if (bytes.length > 0) bytes[position % bytes.length] = value
  if (input.truncate != null) bytes = bytes.subarray(0, Math.floor(bytes.length * input.truncate / 1000))
  return bytes
}

async function baseDag (): Promise<{ root: CID, blocks: Block[] }> {
  base ??= await buildBase()
  return base
}

/** Reads a CAR as `ipcr get` does: open, every block, then walk and export each root. */
export async function readCar (path: string, sandbox: Sandbox, maxReads: number): Promise<void> {
  const car = await step(sandbox, 'CarBlockSource.open', undefined, async () => await CarBlockSource.open(path, { signal: sandbox.signal }))
  try {
    await tryStep(sandbox, 'CarBlockSource.get', undefined, async () => {
      for (const cid of [...car.cids()]) await car.get(cid, { signal: sandbox.signal })
    })
    const source = new CountingSource(car, maxReads)
    await mkdir(sandbox.out)
    for (const [i, root] of car.roots.slice(0, 3).entries()) {
      const cid = CID.asCID(root)
      if (cid == null) continue
      await tryStep(sandbox, 'walkDag', source, async () => {
        for await (const _ of walkDag(cid, source, { signal: sandbox.signal })) { /* read every block once */ }
      })
      await tryStep(sandbox, 'exportToDirectory', source, async () => await exportToDirectory(cid, join(sandbox.out, String(i)), source, { signal: sandbox.signal, limits: exportLimits(maxReads) }))
    }
  } finally {
    await car.close()
  }
}

export const carTarget: Target<CarInput> = {
  name: 'car',
  arbitrary: carInput,
  setup: async () => { await baseDag() },
  save: (input) => ({ ext: 'car', bytes: carInputBytes(input, (base as { blocks: Block[] }).blocks, (base as { root: CID }).root) }),
  run: async (input, sandbox) => {
    sandbox.step = 'encode'
    const { root, blocks } = await baseDag()
    const path = join(sandbox.dir, 'input.car')
    await writeFile(path, carInputBytes(input, blocks, root))
    await readCar(path, sandbox, sandbox.limits.maxReads)
  }
}
