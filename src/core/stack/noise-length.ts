// @libp2p/noise reads each frame's 2-byte length with a decoder that throws a RangeError when fewer than two
// bytes are buffered, and @libp2p/utils' LengthPrefixedDecoder catches it to mean "wait for more". So a read
// that ends exactly on a frame boundary, which is nearly every read, costs an Error with its stack trace:
// 0.37 s of ~8 s busy in a profile of 5 nodes at 50 msg/s (`uint16BEDecode`, the largest self time after
// Ed25519 and SQLite). quietNoiseLengths swaps in a decoder that, with fewer than two bytes, answers the
// longest frame Noise allows instead: the decoder's loop then stops for the same reason as before (a frame
// longer than what is buffered), consumes nothing and waits for more, without an exception. With two bytes
// or more it reads the same big-endian length as Noise's own.
// It is installed per connection, on the encrypted stream the upgrader hands to gossipd's muxer factory
// (yamux-window.ts), never on a class: other libp2p nodes in the process keep stock Noise. It relies on the
// stream's `decoder` field and the decoder's `lengthDecoder`/`encodingLength` (both TS-private); when they
// are not there, or not Noise's 2-byte lengths, nothing is changed (stock, slower, still correct), and
// test/noise-length.test.ts notices.

/** the longest Noise transport message: a 2-byte length cannot say more */
const NOISE_MAX_FRAME = 0xffff

interface ByteList { byteLength: number, get?: (i: number) => number }
interface LengthDecoderFields { lengthDecoder?: unknown, encodingLength?: unknown }

/** Noise's frame length, or (fewer than two bytes buffered) one that cannot fit yet, instead of a RangeError */
export function quietUint16BE (data: ByteList | Uint8Array): number {
  if (data.byteLength < 2) return NOISE_MAX_FRAME
  if (data instanceof Uint8Array) return (data[0] << 8) | data[1]
  const get = data.get
  if (typeof get !== 'function') return NOISE_MAX_FRAME
  return (get.call(data, 0) << 8) | get.call(data, 1)
}

const quieted = new WeakSet<object>()

/** Install quietUint16BE on a Noise-encrypted stream; true when it is (now or before) installed. */
export function quietNoiseLengths (stream: unknown): boolean {
  const decoder = (stream as { decoder?: LengthDecoderFields } | null)?.decoder
  if (decoder == null || typeof decoder !== 'object') return false
  if (quieted.has(decoder)) return true
  if (typeof decoder.lengthDecoder !== 'function' || typeof decoder.encodingLength !== 'function') return false
  // only Noise's fixed 2-byte prefix: a varint decoder (another encrypter) is left alone
  if ((decoder.encodingLength as (n: number) => number)(NOISE_MAX_FRAME) !== 2) return false
  decoder.lengthDecoder = quietUint16BE
  quieted.add(decoder)
  return true
}

/** whether a stream's length decoder is the quiet one (tests) */
export function hasQuietNoiseLengths (stream: unknown): boolean {
  const decoder = (stream as { decoder?: object } | null)?.decoder
  return decoder != null && quieted.has(decoder)
}
