// The message envelope: who published it (origin peer id), its place in that origin's stream for the topic
// (seq), when, what, and the origin's signature over all of that. Because the envelope carries its own
// signature, any peer can relay it (by gossip or by sync) and every receiver can still check it.
import { Encoder } from 'cbor-x'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey, PublicKey } from '@libp2p/interface'

export const ENVELOPE_VERSION = 1
const SIGNING_DOMAIN = 'gossipd/envelope/1'

export interface Envelope {
  origin: string
  topic: string
  seq: number
  ts: number
  payload: Uint8Array
  sig: Uint8Array
}

// CBOR array [version, origin, topic, seq, ts, payload, sig]: compact, schema-free, well-kept encoder
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

export function envelopeId (e: Pick<Envelope, 'origin' | 'topic' | 'seq'>): string {
  return `${e.origin}:${e.topic}:${e.seq}`
}

function signingBytes (e: Omit<Envelope, 'sig'>): Uint8Array {
  return cbor.encode([SIGNING_DOMAIN, e.origin, e.topic, e.seq, e.ts, e.payload])
}

/**
 * Sign and encode a new envelope. Synchronous on purpose: Ed25519 signing in @libp2p/crypto is, and the
 * node reserves a seq, signs and queues the write in one tick (see Store.flush on failed commits).
 */
export function sealEnvelope (key: PrivateKey, origin: string, topic: string, seq: number, ts: number, payload: Uint8Array): { envelope: Envelope, bytes: Uint8Array } {
  const unsigned = { origin, topic, seq, ts, payload }
  const sig = key.sign(signingBytes(unsigned))
  if (sig instanceof Promise) throw new Error(`${key.type} keys sign asynchronously; gossipd identities must be Ed25519`)
  const envelope = { ...unsigned, sig }
  return { envelope, bytes: encodeEnvelope(envelope) }
}

export function encodeEnvelope (e: Envelope): Uint8Array {
  return cbor.encode([ENVELOPE_VERSION, e.origin, e.topic, e.seq, e.ts, e.payload, e.sig])
}

export class MalformedEnvelopeError extends Error {
  override name = 'MalformedEnvelopeError'
}

/** Decode without verifying. Throws MalformedEnvelopeError on anything that is not a v1 envelope. */
export function decodeEnvelope (bytes: Uint8Array): Envelope {
  let v: unknown
  try {
    v = cbor.decode(bytes)
  } catch (err) {
    throw new MalformedEnvelopeError(`not CBOR: ${(err as Error).message}`)
  }
  if (!Array.isArray(v) || v.length !== 7 || v[0] !== ENVELOPE_VERSION) throw new MalformedEnvelopeError('not a gossipd v1 envelope')
  const [, origin, topic, seq, ts, payload, sig] = v
  if (typeof origin !== 'string' || typeof topic !== 'string' || !Number.isSafeInteger(seq) || seq < 1 ||
    !Number.isSafeInteger(ts) || !(payload instanceof Uint8Array) || !(sig instanceof Uint8Array)) {
    throw new MalformedEnvelopeError('envelope fields have wrong types')
  }
  return { origin, topic, seq, ts, payload, sig }
}

// Public keys are embedded in Ed25519 peer ids; parsing one costs more than a verify, so keep them.
const keyCache = new Map<string, PublicKey | null>()

function originKey (origin: string): PublicKey | null {
  let key = keyCache.get(origin)
  if (key === undefined) {
    try {
      key = peerIdFromString(origin).publicKey ?? null
    } catch {
      key = null
    }
    if (keyCache.size > 10_000) keyCache.clear()
    keyCache.set(origin, key)
  }
  return key
}

/** True when sig is the origin's signature over the envelope. The origin must be a key-bearing peer id. */
export async function verifyEnvelope (e: Envelope): Promise<boolean> {
  const key = originKey(e.origin)
  if (key == null) return false
  try {
    return await key.verify(signingBytes(e), e.sig)
  } catch {
    return false
  }
}
