// The message envelope: who published it (origin peer id), its place in that origin's stream for the topic
// (seq), when, what, and the origin's signature. Because the envelope carries its own signature, any peer
// can relay it (by gossip or by sync) and every receiver can still check it.
//
// Wire format (CBOR): [version, body, sig] where body is the CBOR encoding of
// ["gossipd/envelope/1", origin, topic, seq, ts, payload] and sig is the origin's Ed25519 signature over
// exactly those body bytes. Verifying never re-encodes anything, and the domain string keeps these
// signatures from being valid for any other protocol's messages.
import { Encoder } from 'cbor-x'
import { createPrivateKey, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'

export const ENVELOPE_VERSION = 1
const SIGNING_DOMAIN = 'gossipd/envelope/1'

export interface Envelope {
  origin: string
  topic: string
  seq: number
  ts: number
  payload: Uint8Array
  /** the signed bytes, as received (kept so verification needs no re-encoding) */
  body: Uint8Array
  sig: Uint8Array
}

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

export function envelopeId (e: Pick<Envelope, 'origin' | 'topic' | 'seq'>): string {
  return `${e.origin}:${e.topic}:${e.seq}`
}

// DER prefixes that wrap raw Ed25519 keys so node:crypto can use them directly
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')
const signingKeys = new WeakMap<PrivateKey, KeyObject>()

function signingKey (key: PrivateKey): KeyObject {
  let k = signingKeys.get(key)
  if (k == null) {
    if (key.type !== 'Ed25519') throw new Error(`${key.type} keys are not supported; gossipd identities are Ed25519`)
    k = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, key.raw.subarray(0, 32)]), format: 'der', type: 'pkcs8' })
    signingKeys.set(key, k)
  }
  return k
}

/** Sign and encode a new envelope. Synchronous: the node reserves a seq, seals and queues the write in one tick. */
export function sealEnvelope (key: PrivateKey, origin: string, topic: string, seq: number, ts: number, payload: Uint8Array): { envelope: Envelope, bytes: Uint8Array } {
  const body = cbor.encode([SIGNING_DOMAIN, origin, topic, seq, ts, payload])
  const sig = edSign(null, body, signingKey(key))
  const envelope = { origin, topic, seq, ts, payload, body, sig }
  return { envelope, bytes: encodeEnvelope(envelope) }
}

/** Encode an envelope from its fields; `body` is re-derived, so changing a field invalidates the signature. */
export function encodeEnvelope (e: Omit<Envelope, 'body'> & { body?: Uint8Array }): Uint8Array {
  const body = cbor.encode([SIGNING_DOMAIN, e.origin, e.topic, e.seq, e.ts, e.payload])
  return cbor.encode([ENVELOPE_VERSION, body, e.sig])
}

export class MalformedEnvelopeError extends Error {
  override name = 'MalformedEnvelopeError'
}

function decodeCbor (bytes: Uint8Array, what: string): unknown {
  try {
    return cbor.decode(bytes)
  } catch (err) {
    throw new MalformedEnvelopeError(`${what} is not CBOR: ${(err as Error).message}`)
  }
}

/** Decode without verifying. Throws MalformedEnvelopeError on anything that is not a v1 envelope. */
export function decodeEnvelope (bytes: Uint8Array): Envelope {
  const outer = decodeCbor(bytes, 'envelope')
  if (!Array.isArray(outer) || outer.length !== 3 || outer[0] !== ENVELOPE_VERSION || !(outer[1] instanceof Uint8Array) || !(outer[2] instanceof Uint8Array)) {
    throw new MalformedEnvelopeError('not a gossipd v1 envelope')
  }
  const body: Uint8Array = outer[1]
  const inner = decodeCbor(body, 'envelope body')
  if (!Array.isArray(inner) || inner.length !== 6 || inner[0] !== SIGNING_DOMAIN) throw new MalformedEnvelopeError('not a gossipd v1 envelope body')
  const [, origin, topic, seq, ts, payload] = inner
  if (typeof origin !== 'string' || typeof topic !== 'string' || !Number.isSafeInteger(seq) || seq < 1 ||
    !Number.isSafeInteger(ts) || !(payload instanceof Uint8Array)) {
    throw new MalformedEnvelopeError('envelope fields have wrong types')
  }
  return { origin, topic, seq, ts, payload, body, sig: outer[2] }
}

// Ed25519 peer ids embed the public key; parsing one and building a KeyObject costs more than a verify
const keyCache = new Map<string, KeyObject | null>()

function originKey (origin: string): KeyObject | null {
  let key = keyCache.get(origin)
  if (key === undefined) {
    try {
      const pub = peerIdFromString(origin).publicKey
      key = pub?.type === 'Ed25519' ? createPublicKey({ key: Buffer.concat([SPKI_ED25519, pub.raw]), format: 'der', type: 'spki' }) : null
    } catch {
      key = null
    }
    if (keyCache.size > 10_000) keyCache.clear()
    keyCache.set(origin, key)
  }
  return key
}

/**
 * True when sig is the origin's signature over the body. The origin must be an Ed25519 peer id.
 * Runs on libuv's thread pool, so verifying a sync batch uses every core while the main thread stores.
 */
export async function verifyEnvelope (e: Envelope): Promise<boolean> {
  const key = originKey(e.origin)
  if (key == null || e.sig.byteLength !== 64) return false
  return await new Promise(resolve => {
    edVerify(null, e.body, key, e.sig, (err, ok) => resolve(err == null && ok))
  })
}
