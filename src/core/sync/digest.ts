// Digests for the digest-first sync (1.2.0): what a node holds of a topic, folded into a fixed number of
// bucket hashes so that two peers holding the same find out in one small frame each way, whatever the
// history or the number of origins. Origins fall into buckets by a hash of their id; a bucket's hash is a
// truncated SHA-256 over its origins' (origin, done, ranges above), sorted by origin. Only the origins of
// buckets that differ are then listed and diffed, as in 1.1.0.
// `done` is the top of the run of seqs done from 1 (at or below the low mark, or held right above it):
// equal entries mean neither side holds a seq the other lacks, however differently the two pruned.
import { createHash } from 'node:crypto'
import type { Store, OriginState } from '../../store/store.js'
import type { Range } from '../../store/ranges.js'
import { TOPIC_PATTERN } from '../limits.js'

/** buckets a puller asks with (a power of two; a server accepts any up to MAX_BUCKETS) */
export const DIGEST_BUCKETS = 16
export const MAX_BUCKETS = 256
/** bytes of each bucket's hash */
export const HASH_BYTES = 8
const MAX_DIGEST_TOPICS = 1000

/** bucket of each origin id seen (hashing it again each pull would cost as much as the digest itself) */
const bucketHashes = new Map<string, number>()
const MAX_REMEMBERED = 100_000

/** the bucket an origin falls into, the same on every node */
export function bucketOf (origin: string, buckets: number): number {
  let h = bucketHashes.get(origin)
  if (h == null) {
    h = createHash('sha256').update(origin).digest().readUInt32BE(0)
    if (bucketHashes.size >= MAX_REMEMBERED) bucketHashes.clear()
    bucketHashes.set(origin, h)
  }
  return h % buckets
}

const EMPTY_BUCKET = createHash('sha256').digest().subarray(0, HASH_BYTES)

/** An origin as hashed: [origin, done, ranges above done], or null if nothing of it is done nor held. */
function entryOf (s: OriginState): [string, number, Range[]] | null {
  let done = s.low
  let i = 0
  while (i < s.ranges.length && s.ranges[i][0] <= done + 1) done = Math.max(done, s.ranges[i++][1])
  return done === 0 && i === s.ranges.length ? null : [s.origin, done, s.ranges.slice(i)]
}

/** The bucket hashes of a topic's summary: `buckets` × HASH_BYTES bytes. */
export function topicDigest (states: OriginState[], buckets: number): Uint8Array {
  const byBucket: Array<Array<[string, number, Range[]]>> = Array.from({ length: buckets }, () => [])
  for (const s of states) {
    const e = entryOf(s)
    if (e != null) byBucket[bucketOf(s.origin, buckets)].push(e)
  }
  const out = new Uint8Array(buckets * HASH_BYTES)
  for (let b = 0; b < buckets; b++) {
    if (byBucket[b].length === 0) { out.set(EMPTY_BUCKET, b * HASH_BYTES); continue }
    // JSON of each entry, one per line: unambiguous, and the same bytes on every node
    const lines = byBucket[b].sort((x, y) => x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0).map(e => JSON.stringify(e))
    out.set(createHash('sha256').update(lines.join('\n')).digest().subarray(0, HASH_BYTES), b * HASH_BYTES)
  }
  return out
}

/** The buckets where two digests differ, as a bitmask (bit b of byte b >> 3), or null if none do. */
export function diffMask (a: Uint8Array, b: Uint8Array, buckets: number): Uint8Array | null {
  const mask = new Uint8Array(Math.ceil(buckets / 8))
  let any = false
  for (let i = 0; i < buckets; i++) {
    for (let k = i * HASH_BYTES; k < (i + 1) * HASH_BYTES; k++) {
      if (a[k] !== b[k]) { mask[i >> 3] |= 1 << (i & 7); any = true; break }
    }
  }
  return any ? mask : null
}

export function inMask (mask: Uint8Array, bucket: number): boolean {
  return (mask[bucket >> 3] & (1 << (bucket & 7))) !== 0
}

/**
 * Each topic's digest, recomputed only when what the store holds of the topic changed (its held version).
 * Only digests of DIGEST_BUCKETS buckets of topics the store holds are kept: a peer naming many topics,
 * or asking with another bucket count, can neither grow this nor evict what our own pulls use.
 */
export class DigestCache {
  private readonly cache = new Map<string, { version: number, digest: Uint8Array }>()
  /** digests computed (not taken from the cache), for tests and measurements */
  computed = 0

  constructor (private readonly store: Store) {}

  digest (topic: string, buckets: number): Uint8Array {
    const held = this.store.hasTopic(topic)
    if (!held) this.cache.delete(topic)
    if (!held || buckets !== DIGEST_BUCKETS) return topicDigest(this.store.summary(topic), buckets)
    const version = this.store.heldVersion(topic)
    const hit = this.cache.get(topic)
    if (hit != null && hit.version === version) return hit.digest
    this.computed++
    const digest = topicDigest(this.store.summary(topic), buckets)
    this.cache.set(topic, { version, digest })
    return digest
  }
}

/** puller → server, first frame of 1.2.0: bucket count and per topic its digest */
export interface DigestRequest { b: number, d: Array<[string, Uint8Array]> }
/** server → puller: the topics whose digests differ, each with the buckets that differ */
export interface DigestAnswer { diff: Array<[string, Uint8Array]> }

function isBytes (v: unknown, length: number): v is Uint8Array {
  return v instanceof Uint8Array && v.byteLength === length
}

/** A digest request from the wire; throws (ending the stream) on anything malformed. */
export function parseDigestRequest (v: unknown): DigestRequest {
  const req = v as DigestRequest
  const b = req?.b
  if (req == null || !Number.isSafeInteger(b) || b < 1 || b > MAX_BUCKETS || !Array.isArray(req.d) || req.d.length > MAX_DIGEST_TOPICS) throw new Error('sync: malformed digest request')
  const seen = new Set<string>()
  for (const e of req.d) {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || !TOPIC_PATTERN.test(e[0]) || seen.has(e[0]) || !isBytes(e[1], b * HASH_BYTES)) throw new Error('sync: malformed digest entry')
    seen.add(e[0])
  }
  return req
}

/**
 * The server's answer from the wire: per topic of `asked`, the mask of differing buckets. Throws on anything
 * malformed, on a topic not asked about, and on a mask naming buckets past `buckets`.
 */
export function parseDigestAnswer (v: unknown, asked: ReadonlySet<string>, buckets: number): Map<string, Uint8Array> {
  const ans = v as DigestAnswer
  if (ans == null || !Array.isArray(ans.diff) || ans.diff.length > asked.size) throw new Error('sync: malformed digest answer')
  const masks = new Map<string, Uint8Array>()
  const bytes = Math.ceil(buckets / 8)
  for (const e of ans.diff) {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || !asked.has(e[0]) || masks.has(e[0]) || !isBytes(e[1], bytes)) throw new Error('sync: malformed digest answer entry')
    const mask = e[1]
    // bits past the last bucket, or no bit at all, are not an answer a server gives
    if (buckets % 8 !== 0 && (mask[bytes - 1] >> (buckets % 8)) !== 0) throw new Error('sync: digest mask out of range')
    if (mask.every(x => x === 0)) throw new Error('sync: empty digest mask')
    masks.set(e[0], mask)
  }
  return masks
}
