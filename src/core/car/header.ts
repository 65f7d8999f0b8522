import { varint } from 'multiformats'
import type { CID } from 'multiformats/cid'

const ROOTS_KEY = [0x65, ...new TextEncoder().encode('roots')]
const VERSION_KEY = [0x67, ...new TextEncoder().encode('version')]

/** The CARv1 header for `roots`: a varint length, then DAG-CBOR `{roots, version: 1}`. */
export function encodeCarHeader(roots: CID[]): Uint8Array {
  if (roots.length > 23) throw new RangeError('at most 23 CAR roots are supported')
  const body: number[] = [0xa2, ...ROOTS_KEY, 0x80 + roots.length]
  for (const root of roots) {
    const length = root.bytes.length + 1 // a leading 0x00 (the identity multibase prefix)
    body.push(0xd8, 0x2a) // tag 42: CID
    if (length < 24) body.push(0x40 + length)
    else if (length < 256) body.push(0x58, length)
    else body.push(0x59, length >> 8, length & 0xff)
    body.push(0x00, ...root.bytes)
  }
  body.push(...VERSION_KEY, 0x01)
  const prefix = varint.encodeTo(body.length, new Uint8Array(varint.encodingLength(body.length)))
  const header = new Uint8Array(prefix.length + body.length)
  header.set(prefix, 0)
  header.set(body, prefix.length)
  return header
}
