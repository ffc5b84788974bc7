// cbor-x encodes into one buffer shared by all its encoders, hands back views of it, and grows it to about
// four times the largest value it has encoded, never shrinking it. After one sync frame of 1,000 envelopes
// (~1 MiB) or one large payload, every small encoding after it was a view pinning a multi-MB buffer, and a
// 1 MiB envelope sat in a 4 MiB one: memory that no byte count of a queue sees (32 kept 1 MiB envelopes held
// 68 MB of buffers; in isolation a 1 KiB body encode also took 5.2 instead of 2.3 us after one large frame).
// Here a result in a buffer past MAX_SHARED_BYTES is copied out, and the shared buffer is put back to a
// small one.
import type { Encoder } from 'cbor-x'

/** a shared buffer up to this size is left alone (cbor-x starts with 8 KiB) */
export const MAX_SHARED_BYTES = 64 * 1024
const FRESH_BYTES = 8 * 1024

/** encoder.encode(value), in a buffer of its own if cbor-x's shared one had grown large */
export function encodeCbor (encoder: Encoder, value: unknown): Buffer {
  const out = encoder.encode(value)
  if (out.buffer.byteLength <= MAX_SHARED_BYTES) return out
  const own = Buffer.allocUnsafeSlow(out.byteLength)
  own.set(out)
  // cbor-x's own hand-over of a buffer it may write into (untyped): nothing else holds this one
  ;(encoder as unknown as { useBuffer: (b: Buffer) => void }).useBuffer(Buffer.allocUnsafeSlow(FRESH_BYTES))
  return own
}
