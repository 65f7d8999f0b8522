import { chunkReader, readBlockHead, readHeader, type BytesReader } from '@ipld/car/decoder'
import { CID } from 'multiformats/cid'
import { MAX_BLOCK_BYTES } from './types.js'

/** Largest CAR header read (a header names its roots: a few hundred bytes in practice). */
const MAX_HEADER_BYTES = 64 * 1024

/** A CAR stream that cannot be read: malformed, or a section larger than allowed. */
export class CarStreamError extends Error {}

/**
 * The blocks of a CARv1 stream, in stream order, unverified (the caller checks each against
 * its CID). Memory stays bounded: no read asks for more than one block (`maxBlockBytes`) plus
 * its CID, so a section length claiming gigabytes is refused before anything is buffered.
 */
export async function * carStreamBlocks (chunks: AsyncIterable<Uint8Array>, options: { maxBlockBytes?: number } = {}): AsyncGenerator<{ cid: CID, bytes: Uint8Array }> {
  const maxBlockBytes = options.maxBlockBytes ?? MAX_BLOCK_BYTES
  const iterator = chunks[Symbol.asyncIterator]()
  const reader = capped(chunkReader(async () => {
    const next = await iterator.next()
    return next.done === true ? null : next.value
  }), Math.max(maxBlockBytes, MAX_HEADER_BYTES) + 1024)
  try {
    try {
      await readHeader(reader, 1)
    } catch (err: any) {
      throw new CarStreamError(`not a CARv1 stream: ${err?.message ?? err}`)
    }
    while ((await reader.upTo(1)).length > 0) {
      let head
      try {
        head = await readBlockHead(reader)
      } catch (err: any) {
        throw new CarStreamError(`bad block section at byte ${reader.pos}: ${err?.message ?? err}`)
      }
      if (head.blockLength > maxBlockBytes) throw new CarStreamError(`block ${head.cid} is ${head.blockLength} bytes, more than the ${maxBlockBytes} a block may have`)
      // The decoded CID is a view into the reader's window: keep a copy.
      const cid = CID.decode(head.cid.bytes.slice())
      let bytes: Uint8Array
      try {
        // A copy: the reader's window is reused.
        bytes = (await reader.exactly(head.blockLength, true)).slice()
      } catch (err: any) {
        throw new CarStreamError(`block ${cid} is cut short: ${err?.message ?? err}`)
      }
      yield { cid, bytes }
    }
  } finally {
    await iterator.return?.()
  }
}

/** `reader`, refusing any read longer than `max` bytes. */
function capped (reader: BytesReader, max: number): BytesReader {
  const check = (length: number): void => {
    if (length > max) throw new CarStreamError(`a CAR section of ${length} bytes is more than the ${max} allowed`)
  }
  return {
    get pos () { return reader.pos },
    upTo: async (length) => { check(length); return await reader.upTo(length) },
    exactly: async (length, seek) => { check(length); return await reader.exactly(length, seek) },
    seek: (length) => { reader.seek(length) }
  }
}
