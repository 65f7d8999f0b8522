import { multihashToIPNSRoutingKey } from 'ipns'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import type { MultihashDigest } from 'multiformats/hashes/interface'
import { InputError } from '../errors.js'
import { quote } from '../escape.js'

/** The libp2p-key multicodec: the CID of an IPNS name. */
const LIBP2P_KEY = 0x72

/** An IPNS name: the multihash of a public key. */
export interface IpnsName {
  /** The canonical form, a base36 CIDv1 (`k51…`), as Kubo prints it. */
  readonly text: string
  readonly multihash: MultihashDigest<0x00 | 0x12>
  /** `/ipns/` + the multihash bytes: what records are stored and validated under. */
  readonly routingKey: Uint8Array
}

export function ipnsNameFromMultihash (multihash: MultihashDigest<0x00 | 0x12>): IpnsName {
  return {
    text: CID.createV1(LIBP2P_KEY, multihash).toString(base36),
    multihash,
    routingKey: multihashToIPNSRoutingKey(multihash)
  }
}

/**
 * Reads an IPNS name as users write it: `k51…`, any other CIDv1 of codec
 * libp2p-key, a peer ID (`12D3Koo…`, `Qm…`), with or without `/ipns/`.
 */
export function parseIpnsName (value: string, input = 'ipns-name'): IpnsName {
  const text = value.trim().replace(/^\/?ipns\//, '')
  const expected = 'expected an IPNS name such as k51… (a libp2p-key CID) or a peer ID (12D3Koo…, Qm…)'
  if (!/^[A-Za-z0-9]{1,200}$/.test(text)) throw new InputError(input, `${quote(value, 80)} is not an IPNS name (${expected})`)
  let multihash: MultihashDigest
  try {
    if (text.startsWith('Qm') || text.startsWith('1')) {
      multihash = Digest.decode(base58btc.baseDecode(text))
    } else {
      const cid = CID.parse(text, text.startsWith('k') ? base36 : undefined)
      if (cid.version !== 1 || cid.code !== LIBP2P_KEY) {
        throw new InputError(input, `${quote(value, 80)} is a CID of content, not of a key (${expected})`)
      }
      multihash = cid.multihash
    }
  } catch (err) {
    if (err instanceof InputError) throw err
    throw new InputError(input, `${quote(value, 80)} is not an IPNS name (${expected})`)
  }
  if (multihash.code !== 0x00 && multihash.code !== 0x12) {
    throw new InputError(input, `${quote(value, 80)} is not an IPNS name (its multihash is neither identity nor sha2-256; ${expected})`)
  }
  return ipnsNameFromMultihash(multihash as MultihashDigest<0x00 | 0x12>)
}
