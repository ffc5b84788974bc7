// The message envelope: who published it (origin peer id), its place in that origin's stream for the topic
// (seq), when, what, and the origin's signature. Because the envelope carries its own signature, any peer
// can relay it (by gossip or by sync) and every receiver can still check it.
//
// Wire format (CBOR): [version, body, sig] where body is the CBOR encoding of
// ["gossipd/envelope/1", origin, topic, seq, ts, payload, prev] and sig is the origin's Ed25519 signature
// over exactly those body bytes. Verifying never re-encodes anything, and the domain string keeps these
// signatures from being valid for any other protocol's messages.
//
// prev is the SHA-256 of the body of the origin's previous message on the topic (seq - 1), or null when
// the origin does not know it. Each origin's stream is therefore a hash chain, as in Secure Scuttlebutt:
// one valid signature on the newest message of a run vouches for every older message linked below it,
// so catch-up checks one signature per batch instead of one per message (see sync/verify-batch.ts).
// Bodies of 6 fields (written before prev existed) still decode, with prev null.
import { Encoder } from 'cbor-x'
import { encodeCbor } from './cbor-owned.js'
import { TOPIC_PATTERN } from './limits.js'
import * as nodeCrypto from 'node:crypto'
import { createHash, createPrivateKey, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto'
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
  /** SHA-256 of the body of the origin's previous message on this topic, or null if not known */
  prev: Uint8Array | null
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

export const HASH_BYTES = 32
/** an Ed25519 signature: every genuine envelope's sig is this long */
export const SIG_BYTES = 64
/** envelope timestamps must fall in years 2000..2200 (ms since the epoch): anything else is a forgery or a broken clock */
export const MIN_TS = Date.UTC(2000, 0, 1)
export const MAX_TS = Date.UTC(2200, 0, 1)
/** a sanity bound only (base58 Ed25519 peer ids are 52 characters): whether the origin is a peer id whose key
 * signed the body is the signature check's job */
export const MAX_ORIGIN_CHARS = 256

// one-shot hashing (Node >= 20.12) skips a Hash object per call: a third of the cost of hashing a body
const oneShotHash = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash

/** SHA-256 of bytes on the per-message paths (chain links here, gossip message ids in stack/gossip.ts) */
export function sha256 (data: Uint8Array): Buffer {
  return oneShotHash != null ? oneShotHash('sha256', data, 'buffer') : createHash('sha256').update(data).digest()
}

/** The chain link: what the next message of the same origin and topic carries as prev. */
export function bodyHash (body: Uint8Array): Buffer {
  return sha256(body)
}

/**
 * The body and signature of an envelope in the shortest encoding (what gossipd writes), without a CBOR
 * decode; undefined for any other layout, which the general decoder then judges.
 */
function splitOuter (bytes: Uint8Array): { body: Uint8Array, sig: Uint8Array } | undefined {
  if (bytes.byteLength < 4 || bytes[0] !== 0x83 || bytes[1] !== ENVELOPE_VERSION) return undefined
  const body = byteString(bytes, 2)
  if (body == null) return undefined
  const sig = byteString(bytes, body.end)
  if (sig == null || sig.end !== bytes.byteLength) return undefined
  return { body: body.value, sig: sig.value }
}

/** a byte string in its shortest encoding at `at`, or undefined */
function byteString (bytes: Uint8Array, at: number): { value: Uint8Array, end: number } | undefined {
  const head = bytes[at]
  if (head == null || head >> 5 !== 2) return undefined
  const info = head & 0x1f
  let length = info
  let start = at + 1
  if (info === 24) {
    length = bytes[at + 1]
    start = at + 2
  } else if (info === 25) {
    length = (bytes[at + 1] << 8) | bytes[at + 2]
    start = at + 3
  } else if (info === 26) {
    length = bytes[at + 1] * 0x1000000 + ((bytes[at + 2] << 16) | (bytes[at + 3] << 8) | bytes[at + 4])
    start = at + 5
  } else if (info > 26) {
    return undefined
  }
  // a longer header than needed, or a truncated one: not what gossipd writes
  if (start > at + 1 && length < (info === 24 ? 24 : info === 25 ? 0x100 : 0x10000)) return undefined
  if (!(start + length <= bytes.byteLength)) return undefined
  // a view of the same memory, as cbor-x's decoder gives (a Buffer when the input is one)
  return { value: bytes.subarray(start, start + length), end: start + length }
}

/** whether `raw` is in gossipd's own (shortest) layout, as every gossipd writes it */
export function isOwnLayout (raw: Uint8Array): boolean {
  return splitOuter(raw) != null
}

/**
 * The envelope's bytes in gossipd's own (shortest) layout: `raw` itself when it already is, else rebuilt
 * from body and sig. Other layouts decode (tags such as self-describe 55799 wrapped any number of times,
 * longer headers) and the signature covers only the body, so a relay could pad a message it passes on by
 * kilobytes; what is stored and served onward is the origin's content, not the relay's wrapping.
 */
export function ownBytes (e: Pick<Envelope, 'body' | 'sig'>, raw: Uint8Array): Uint8Array {
  if (isOwnLayout(raw)) return raw
  return Buffer.concat([Buffer.from([0x83, ENVELOPE_VERSION]), bstrHead(e.body.byteLength), e.body, bstrHead(e.sig.byteLength), e.sig])
}

/** the shortest CBOR header of a byte string of `n` bytes */
function bstrHead (n: number): Uint8Array {
  if (n < 24) return Buffer.from([0x40 | n])
  if (n < 0x100) return Buffer.from([0x58, n])
  if (n < 0x10000) return Buffer.from([0x59, n >> 8, n & 0xff])
  const h = Buffer.alloc(5); h[0] = 0x5a; h.writeUInt32BE(n, 1)
  return h
}

type EnvelopeFields = Omit<Envelope, 'body' | 'prev'> & { prev?: Uint8Array | null }

function encodeBody (e: Omit<EnvelopeFields, 'sig'>): Uint8Array {
  return encodeCbor(cbor, [SIGNING_DOMAIN, e.origin, e.topic, e.seq, e.ts, e.payload, e.prev ?? null])
}

/**
 * Sign and encode a new envelope; `hash` is its body hash, the next message's prev.
 * Synchronous: the node reserves a seq, seals and queues the write in one tick.
 */
export function sealEnvelope (key: PrivateKey, origin: string, topic: string, seq: number, ts: number, payload: Uint8Array, prev: Uint8Array | null = null): { envelope: Envelope, bytes: Uint8Array, hash: Uint8Array } {
  const body = encodeBody({ origin, topic, seq, ts, payload, prev })
  const sig = edSign(null, body, signingKey(key))
  const envelope = { origin, topic, seq, ts, payload, prev, body, sig }
  return { envelope, bytes: encodeCbor(cbor, [ENVELOPE_VERSION, body, sig]), hash: bodyHash(body) }
}

/** Encode an envelope from its fields; `body` is re-derived, so changing a field invalidates the signature. */
export function encodeEnvelope (e: EnvelopeFields & { body?: Uint8Array }): Uint8Array {
  return encodeCbor(cbor, [ENVELOPE_VERSION, encodeBody(e), e.sig])
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
  let parts = splitOuter(bytes)
  if (parts == null) {
    const outer = decodeCbor(bytes, 'envelope')
    if (!Array.isArray(outer) || outer.length !== 3 || outer[0] !== ENVELOPE_VERSION || !(outer[1] instanceof Uint8Array) || !(outer[2] instanceof Uint8Array)) {
      throw new MalformedEnvelopeError('not a gossipd v1 envelope')
    }
    parts = { body: outer[1], sig: outer[2] }
  }
  const { body, sig } = parts
  const inner = decodeCbor(body, 'envelope body')
  if (!Array.isArray(inner) || (inner.length !== 6 && inner.length !== 7) || inner[0] !== SIGNING_DOMAIN) throw new MalformedEnvelopeError('not a gossipd v1 envelope body')
  const [, origin, topic, seq, ts, payload, prev = null] = inner
  if (typeof origin !== 'string' || typeof topic !== 'string' || !Number.isSafeInteger(seq) || seq < 1 ||
    !Number.isSafeInteger(ts) || !(payload instanceof Uint8Array) ||
    (prev !== null && !(prev instanceof Uint8Array && prev.byteLength === HASH_BYTES))) {
    throw new MalformedEnvelopeError('envelope fields have wrong types')
  }
  // every field is checked here, at the boundary, so nothing that later renders a message can fail on it
  if (ts < MIN_TS || ts > MAX_TS) throw new MalformedEnvelopeError(`envelope ts ${ts} is outside years 2000..2200`)
  // a topic no API could name is refused
  if (!TOPIC_PATTERN.test(topic)) throw new MalformedEnvelopeError('envelope topic is not a valid topic name')
  if (origin.length === 0 || origin.length > MAX_ORIGIN_CHARS || !/^[\x21-\x7e]+$/.test(origin)) throw new MalformedEnvelopeError('envelope origin is not a peer id (printable ASCII, at most 256 characters)')
  return { origin, topic, seq, ts, payload, prev, body, sig }
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

/** the origin's key, or null when the envelope cannot be a valid signature (not Ed25519, not 64 bytes) */
function verifyingKey (e: Envelope): KeyObject | null {
  return e.sig.byteLength === SIG_BYTES ? originKey(e.origin) : null
}

/**
 * True when sig is the origin's signature over the body. The origin must be an Ed25519 peer id.
 * Runs on libuv's thread pool, so verifying a sync batch uses every core while the main thread stores.
 */
export async function verifyEnvelope (e: Envelope): Promise<boolean> {
  const key = verifyingKey(e)
  if (key == null) return false
  return await new Promise(resolve => {
    edVerify(null, e.body, key, e.sig, (err, ok) => resolve(err == null && ok))
  })
}

/** verifyEnvelope on the calling thread: no pool round trip, ~80 µs of this thread instead */
export function verifyEnvelopeNow (e: Envelope): boolean {
  const key = verifyingKey(e)
  if (key == null) return false
  try { return edVerify(null, e.body, key, e.sig) } catch { return false }
}

/** The held envelope of (topic, origin, seq), decoded; undefined if not held or undecodable (quarantine's business). */
export function readHeldEnvelope (store: Pick<import('../store/store.js').Store, 'readRawRange'>, topic: string, origin: string, seq: number): Envelope | undefined {
  const row = store.readRawRange(topic, origin, seq, seq, 1)[0]
  if (row == null) return undefined
  try { return decodeEnvelope(row.raw) } catch { return undefined }
}

/** What the store reads out of the envelopes it keeps as opaque bytes. */
export const envelopeCodec: import('../store/store.js').RowCodec = {
  payload: raw => decodeEnvelope(raw).payload,
  bodyHash: raw => bodyHash(decodeEnvelope(raw).body),
}
