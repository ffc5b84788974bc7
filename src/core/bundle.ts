// Bundles: several envelopes of one topic carried by one gossip message. Under load the outbox packs what
// queued up while the previous publish was in flight; at low rates a message goes alone, as a plain
// envelope, so bundling adds no latency. A bundle from one publisher is one linked run of its hash chain,
// so the receiver checks one signature for all of it (sync/verify-batch.ts).
//
// Wire format (CBOR): ["gossipd/bundle/1", [envelope, envelope, ...]], each envelope the exact bytes of a
// single envelope ([version, body, sig], envelope.ts), so what is stored and served by sync is unchanged.
// A single envelope begins 0x83 0x01 (array of 3, version 1); a bundle begins 0x82 0x70 and the domain
// string (array of 2, text of 16): the first bytes tell them apart, and a decoder that knows only single
// envelopes refuses a bundle as "not a v1 envelope".
import { Encoder } from 'cbor-x'
import { encodeCbor } from './cbor-owned.js'

export const BUNDLE_DOMAIN = 'gossipd/bundle/1'
/** most envelopes in one bundle: the sender packs no more, the receiver refuses more before decoding */
export const MAX_BUNDLE_COUNT = 256
/** most bytes of one bundle on the wire: well under gossipsub's inbound limit (4 MiB, gossip.ts) */
export const MAX_BUNDLE_BYTES = 256 * 1024

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const PREFIX = Buffer.concat([Buffer.from([0x82, 0x60 + BUNDLE_DOMAIN.length]), Buffer.from(BUNDLE_DOMAIN)])
/** the prefix, the list's header (at most 3 bytes for 256) */
const BUNDLE_OVERHEAD = PREFIX.length + 3
/** a byte string's header, at most 5 bytes below 4 GiB */
const ITEM_OVERHEAD = 5

export class MalformedBundleError extends Error {
  override name = 'MalformedBundleError'
}

/** Whether gossip data is a bundle (else it should be a single envelope). */
export function isBundle (data: Uint8Array): boolean {
  return data.byteLength >= PREFIX.length && Buffer.from(data.buffer, data.byteOffset, PREFIX.length).equals(PREFIX)
}

/** An upper bound of the encoded size of a bundle of envelopes of these sizes (for packing). */
export function bundleBytes (count: number, envelopeBytes: number): number {
  return BUNDLE_OVERHEAD + count * ITEM_OVERHEAD + envelopeBytes
}

export function encodeBundle (raws: Uint8Array[]): Uint8Array {
  if (raws.length === 0 || raws.length > MAX_BUNDLE_COUNT) throw new RangeError(`a bundle holds 1 to ${MAX_BUNDLE_COUNT} envelopes, not ${raws.length}`)
  // Buffers encode as plain byte strings (cbor-x tags a bare Uint8Array)
  return encodeCbor(cbor, [BUNDLE_DOMAIN, raws.map(r => Buffer.from(r.buffer, r.byteOffset, r.byteLength))])
}

/**
 * The envelopes' bytes of a bundle, each still to be decoded. The size and the list's declared length are
 * checked before any decoding, so a hostile bundle costs at most MAX_BUNDLE_BYTES of work.
 * Throws MalformedBundleError on anything else.
 */
export function decodeBundle (data: Uint8Array): Uint8Array[] {
  if (!isBundle(data)) throw new MalformedBundleError('not a gossipd bundle')
  if (data.byteLength > MAX_BUNDLE_BYTES) throw new MalformedBundleError(`bundle of ${data.byteLength} bytes is over the ${MAX_BUNDLE_BYTES} limit`)
  const count = listLength(data, PREFIX.length)
  if (count < 1 || count > MAX_BUNDLE_COUNT) throw new MalformedBundleError(`bundle declares ${count} envelopes; 1 to ${MAX_BUNDLE_COUNT} allowed`)
  let outer: unknown
  try {
    outer = cbor.decode(data)
  } catch (err) {
    throw new MalformedBundleError(`bundle is not CBOR: ${(err as Error).message}`)
  }
  if (!Array.isArray(outer) || outer.length !== 2 || outer[0] !== BUNDLE_DOMAIN || !Array.isArray(outer[1]) || outer[1].length !== count ||
    !outer[1].every((r: unknown) => r instanceof Uint8Array)) {
    throw new MalformedBundleError('bundle is not a list of envelopes')
  }
  return outer[1] as Uint8Array[]
}

/** the length of the CBOR array whose header is at `at`, or -1 for anything but a definite-length array header */
function listLength (data: Uint8Array, at: number): number {
  const head = data[at]
  if (head == null || head >> 5 !== 4) return -1
  const info = head & 0x1f
  if (info < 24) return info
  if (info === 24 && at + 1 < data.byteLength) return data[at + 1]
  if (info === 25 && at + 2 < data.byteLength) return (data[at + 1] << 8) | data[at + 2]
  return -1
}
