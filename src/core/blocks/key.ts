import { base64 } from 'multiformats/bases/base64'
import type { CID } from 'multiformats/cid'

/** A map key for a block: its multihash, so CIDv0 and CIDv1 of the same bytes meet. */
export function blockKey(cid: CID): string {
  return base64.baseEncode(cid.multihash.bytes)
}
