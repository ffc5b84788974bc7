// Catch-up (anti-entropy) protocol. The puller sends, per topic, what it holds of each origin's stream
// (a low mark plus held ranges); the server answers with every envelope it holds that the puller lacks,
// in batches, and (1.1.0) with its floor per origin: the seq below which it holds nothing any more
// (pruned by retention or given up), so a puller stops waiting for what no peer can give. The puller acks each batch once it is on disk and the server keeps at most WINDOW batches
// unacked, so a slow disk or a huge backlog never piles up in memory on either side. Gaps in the middle are found the same way as
// missing tails, and any peer that holds a message can serve it.
// 1.2.0 starts with digests (see digest.ts): the puller sends per topic a fixed-size hash of what it holds,
// the server answers which buckets of origins differ, and only for those does the puller list its origins
// and the server diff them; two peers holding the same exchange two small frames and are done.
import { Encoder } from 'cbor-x'
import { encodeCbor } from '../cbor-owned.js'
import { lpStream } from '@libp2p/utils'
import type { Stream, PeerId } from '@libp2p/interface'
import { RangeSet, type Range } from '../../store/ranges.js'
import type { Store, OriginState } from '../../store/store.js'
import { TOPIC_PATTERN, MAX_PAYLOAD_BYTES } from '../limits.js'
import { MAX_ORIGIN_CHARS } from '../envelope.js'
import { claimBlocked, type BlockedFrom } from '../forks.js'
import { decodePlainBatch } from './batch-frame.js'
import { assertPlainCbor } from './plain-cbor.js'
import { RequestIndex, type Asked } from './asked.js'
import { withDeadline } from '../deadline.js'
import { monotonicNow } from '../monotonic.js'
import { DIGEST_BUCKETS, bucketOf, diffMask, inMask, parseDigestAnswer, parseDigestRequest, type DigestAnswer, type DigestCache, type DigestRequest } from './digest.js'

/** digest-first (see digest.ts); pullers fall back to the older versions for peers without it */
export const SYNC_PROTOCOL_1_2 = '/gossipd/sync/1.2.0'
/** full summaries and floors */
export const SYNC_PROTOCOL = '/gossipd/sync/1.1.0'
/** the first version: same frames without floors. Served still; pulled from when a peer lacks 1.1.0 */
export const SYNC_PROTOCOL_1_0 = '/gossipd/sync/1.0.0'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const BATCH_MAX_MESSAGES = 1000
const BATCH_MAX_BYTES = 1024 * 1024
const MAX_TOPICS_PER_REQUEST = 1000
const MAX_ORIGINS_PER_TOPIC = 10_000
const MAX_RANGES_PER_ORIGIN = 10_000
/** origins and ranges in one request, all topics together */
const MAX_ORIGINS_PER_REQUEST = 10_000
const MAX_RANGES_PER_REQUEST = 250_000
/** ranges per origin a puller lists (below what a server accepts) */
const SUMMARY_RANGES = 2_000
/**
 * A puller pages its request to stay well inside what servers accept (1,000 topics, 10,000 origins per
 * topic, a frame of about 2 MiB, see lp()): one pull per page. Past a limit, servers reset the stream,
 * so one request for everything would break sync for every topic at once.
 */
const PAGE_TOPICS = 500
const PAGE_ORIGINS = 5_000
const PAGE_BYTES = 512 * 1024
/** a full topic's listed part, alone in its request: within the frame any server reads (lp: BATCH_MAX_BYTES and more) */
const LISTED_PART_BYTES = 960 * 1024
/** floors a server puts in one frame */
const FLOORS_PER_FRAME = 5_000
/** batches the server may send ahead of the puller's acks: keeps both sides busy, memory stays bounded */
const WINDOW = 3

/**
 * `listed`: send only the origins listed here (an optional field: servers from before it ignore it and
 * send everything). A puller whose topic is at its origin limit sets it (origin-limit.ts): messages of
 * other origins would only be refused.
 */
export interface TopicWant { topic: string, origins: OriginState[], listed?: boolean }
/** puller → server: first frame */
interface SyncRequest { want: TopicWant[] }
/** server → puller: a batch of raw envelopes; `more` says whether another batch follows */
interface SyncBatch { msgs: Uint8Array[], more: boolean, floors?: Floor[] }
/** [topic, origin, below]: the server holds no seq <= below of this origin (1.1.0; old pullers ignore it) */
export type Floor = [string, string, number]

export interface SyncStats { received: number, stored: number, batches: number, ms: number, floors: Floor[] }

/** A pull ended because the server made no progress (see PullLimits): the peer is stalling. */
export class SyncStallError extends Error {
  constructor (msg: string) { super(msg); this.name = 'SyncStallError' }
}

export interface PullLimits {
  /** a whole pull (all pages) ends after this long (default 120 s) */
  deadlineMs?: number
  /** this many batches in a row with no message asked for (asked.ts) and no floor, yet `more`, end the pull (default 3) */
  emptyBatches?: number
  /** less than minBytes received within any progressWindowMs ends the pull (default 16 KiB per 20 s) */
  minBytes?: number
  progressWindowMs?: number
  /** the server sends nothing for this long while the puller waits on it: the pull ends as a stall (default 30 s) */
  frameTimeoutMs?: number
  /** the peer does not open a sync stream within this: the pull ends as a stall (default 10 s) */
  dialTimeoutMs?: number
}

/** What a batch brought: envelopes stored (once on disk), and the count and bytes of the well-formed ones
 * the server had reason to send (`asked`, see asked.ts), held or not: what counts as the pull's progress */
export interface Accepted { stored: number, asked: number, askedBytes: number }
/** How the puller hands a batch of received envelopes to the node. */
export type AcceptBatch = (raws: Uint8Array[], from: PeerId, asked?: Asked) => Promise<Accepted>

/** a frame holds up to BATCH_MAX_BYTES, or one message of up to the largest payload this swarm allows */
function lp (stream: Stream, maxPayloadBytes: number) {
  const maxFrame = BATCH_MAX_BYTES + maxPayloadBytes + 64 * 1024
  return lpStream(stream, { maxDataLength: maxFrame, maxBufferSize: (WINDOW + 1) * maxFrame })
}

/** a peer that sends nothing for this long is treated as gone, so one stuck pull cannot stall the others */
const FRAME_TIMEOUT_MS = 30_000
/** a frame that cannot be written for this long (the other side stopped reading) ends the stream */
const WRITE_TIMEOUT_MS = 30_000

/** Sees every frame written, by side, with its size on the wire (tests and measurements); unset, it costs nothing. */
export const syncMeter: { frame?: (side: 'pull' | 'serve', bytes: number, frame: unknown) => void } = {}

type Framed = ReturnType<typeof lp>

/**
 * one frame; `fast` may decode a common shape from the chunks as they came (undefined: the generic decoder).
 * A peer that sends nothing within `timeoutMs` is stalling (a SyncStallError): a puller backs it off as long
 * as one that sends nothing useful, not for the seconds of a dropped connection, so silent peers cannot
 * keep the few pull slots taken, one frame timeout after another.
 */
async function readFrame (s: Framed, signal?: AbortSignal, fast?: (chunks: Iterable<Uint8Array>) => unknown, timeoutMs = FRAME_TIMEOUT_MS): Promise<unknown> {
  const list = await withDeadline(timeoutMs, signal, async d => await s.read({ signal: d.signal }).catch((err: Error) => {
    throw d.expired ? new SyncStallError(`sync: nothing from the peer for ${timeoutMs} ms`) : err
  }))
  // nothing a peer sends may decode into more than it sent (plain-cbor.ts)
  return fast?.(list) ?? cbor.decode(assertPlainCbor(list.subarray()))
}

async function writeFrame (s: Framed, side: 'pull' | 'serve', frame: unknown, signal?: AbortSignal): Promise<void> {
  const bytes = encodeCbor(cbor, frame)
  syncMeter.frame?.(side, bytes.byteLength, frame)
  await withDeadline(WRITE_TIMEOUT_MS, signal, async d => { await s.write(bytes, { signal: d.signal }) })
}

/**
 * Resolves once `stream` holds nothing unsent (all of it is in the muxer's window and the socket). A frame's
 * write resolves at the first 'drain' event, and libp2p fires those on every stream of a connection whose
 * socket drained, so a puller that stopped reading (no yamux window updates) had each stream queue up to
 * WINDOW batches at the server. Judged by the stream's own unsent byte count: a stream whose count does not
 * go down for WRITE_TIMEOUT_MS ends, so a slow but honest link keeps its pull.
 */
async function leftSendBuffer (stream: Stream, signal?: AbortSignal): Promise<void> {
  let left = stream.writeBufferLength
  let since = monotonicNow()
  while (stream.writeBufferLength > 0) {
    if (stream.writeBufferLength < left) { left = stream.writeBufferLength; since = monotonicNow() }
    const wait = WRITE_TIMEOUT_MS - (monotonicNow() - since)
    if (wait <= 0) throw new Error(`sync: the puller took none of ${left} bytes for ${WRITE_TIMEOUT_MS} ms`)
    // 'idle': the send buffer emptied; 'drain': some of it may move (a window update, the socket drained)
    await withDeadline(wait, signal, async d => { await nextEvent(stream, ['idle', 'drain'], d.signal) }).catch((err: Error) => {
      if (stream.status !== 'open' || signal?.aborted === true) throw err
    })
  }
}

/** the first of `types` on `stream`; rejects when the stream closes or `signal` aborts */
async function nextEvent (stream: Stream, types: Array<'idle' | 'drain'>, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      for (const t of types) stream.removeEventListener(t, onEvent)
      stream.removeEventListener('close', onClose)
      signal.removeEventListener('abort', onAbort)
    }
    const onEvent = (): void => { done(); resolve() }
    const onClose = (): void => { done(); reject(new Error('sync: stream closed')) }
    const onAbort = (): void => { done(); reject(signal.reason) }
    if (signal.aborted) { reject(signal.reason); return }
    if (stream.status !== 'open') { reject(new Error('sync: stream closed')); return }
    for (const t of types) stream.addEventListener(t, onEvent)
    stream.addEventListener('close', onClose)
    signal.addEventListener('abort', onAbort)
  })
}

/**
 * Split what we hold of `topics` into requests a server accepts. A topic with more origins than a server
 * takes lists only the first ones: the server then also sends what we hold of the others, dropped here by
 * id before any verification (as with truncated ranges).
 */
export function requestPages (store: Store, topics: string[], blockedFrom?: BlockedFrom, isFull?: (topic: string) => boolean): TopicWant[][] {
  const pages: TopicWant[][] = []
  let page: TopicWant[] = []
  let origins = 0
  let bytes = 0
  for (const topic of topics) {
    const all = store.summary(topic)
    // a forked stream is listed as held from its fork up (forks.ts), after truncating: the claim is kept
    const claim = (o: OriginState): OriginState => {
      const from = blockedFrom?.(topic, o.origin)
      return from == null ? o : claimBlocked(o, from)
    }
    // a want over what a request carries lists each origin's first 16 ranges
    const shortened = (o: OriginState): OriginState => claim({ ...o, ranges: o.ranges.slice(0, 16) })
    // a topic at its origin limit (origin-limit.ts) lists every origin it knows and asks for those only: the
    // messages of others would be refused, again at every pull. Listed in parts, one request each, each part
    // within a page (a server answers each for the origins it lists): 9,000 origins riddled with holes are
    // megabytes, more than a server reads in a frame
    const listed = isFull?.(topic) === true
    let parts = [all.slice(0, PAGE_ORIGINS).map(truncateRanges).map(claim)]
    if (listed) {
      let list = all.map(truncateRanges).map(claim)
      // more than one part: ranges cut to 16 each, as for any want over a page, so a topic is a few requests
      // (at most 4 for 9,000 origins), well within the requests a server serves a peer at once (burst 10)
      if (encodeCbor(cbor, { topic, origins: list, listed }).byteLength > LISTED_PART_BYTES) list = list.map(shortened)
      parts = listedParts(list)
    }
    parts.forEach((part, i) => {
      const want: TopicWant = { topic, origins: part }
      if (listed) want.listed = true
      const size = encodeCbor(cbor, want).byteLength
      // a topic is named once per request
      if (page.length > 0 && (i > 0 || page.length >= PAGE_TOPICS || origins + want.origins.length > PAGE_ORIGINS || bytes + size > PAGE_BYTES)) {
        pages.push(page); page = []; origins = 0; bytes = 0
      }
      if (!listed && size > PAGE_BYTES) want.origins = want.origins.map(shortened)
      page.push(want); origins += want.origins.length; bytes += size
    })
  }
  if (page.length > 0) pages.push(page)
  return pages
}

/**
 * A listed topic's origins in parts (at least one), each a request of its own: at most the origins a server
 * takes per topic and LISTED_PART_BYTES, so the frame fits what any server reads (BATCH_MAX_BYTES and more).
 * One part where it fits: a server from before `listed` sends all it holds of the origins a part does not list.
 */
function listedParts (origins: OriginState[]): OriginState[][] {
  const parts: OriginState[][] = []
  let part: OriginState[] = []
  let bytes = 0
  for (const o of origins) {
    const size = encodeCbor(cbor, o).byteLength
    if (part.length > 0 && (part.length >= MAX_ORIGINS_PER_TOPIC || bytes + size > LISTED_PART_BYTES - 4_096)) { parts.push(part); part = []; bytes = 0 }
    part.push(o); bytes += size
  }
  if (part.length > 0 || parts.length === 0) parts.push(part)
  return parts
}

/** Tracks whether a pull still makes progress; throws SyncStallError when it does not. */
export class Progress {
  private empty = 0
  // elapsed time (monotonic.ts): a wall clock stepped forward ended honest pulls at once, one stepped back kept a staller to the deadline
  private windowStart = monotonicNow()
  private windowBytes = 0
  private readonly emptyBatches: number
  private readonly minBytes: number
  private readonly windowMs: number
  /** how long the puller waits for any one frame of the server's */
  readonly frameTimeoutMs: number

  constructor (limits: PullLimits = {}) {
    this.frameTimeoutMs = limits.frameTimeoutMs ?? FRAME_TIMEOUT_MS
    this.emptyBatches = limits.emptyBatches ?? 3
    this.minBytes = limits.minBytes ?? 16 * 1024
    this.windowMs = limits.progressWindowMs ?? 20_000
  }

  /**
   * one batch received: `asked` and `askedBytes`, its messages the server had reason to send (asked.ts),
   * held or not (an honest server's batches are duplicates when another pull got there first), while a
   * message we listed as held is no progress: a server resending those cannot keep a pull (and one of the
   * few pull slots) busy. `floors`: how many floors it carried for the topics asked about (a server with
   * many to report sends frames of only those: such a frame is not empty); `newFloors`: how many of them
   * were new in this pull, which alone count as progress, for the same reason.
   */
  batch (asked: number, askedBytes: number, more: boolean, floors = 0, newFloors = floors): void {
    this.empty = asked === 0 && floors === 0 && more ? this.empty + 1 : 0
    if (this.empty >= this.emptyBatches) throw new SyncStallError(`sync: ${this.empty} empty batches in a row (nothing asked for)`)
    this.windowBytes += newFloors * 32 + askedBytes
    const now = monotonicNow()
    if (now - this.windowStart >= this.windowMs) {
      if (this.windowBytes < this.minBytes && more) throw new SyncStallError(`sync: ${this.windowBytes} bytes in ${now - this.windowStart} ms`)
      this.windowStart = now; this.windowBytes = 0
    }
  }
}

/** Client side (1.0.0, 1.1.0): pull everything `peer` holds of one page of our topics (see requestPages) that we lack. */
export async function pullFrom (stream: Stream, peer: PeerId, want: TopicWant[], accept: AcceptBatch, signal?: AbortSignal, maxPayloadBytes = MAX_PAYLOAD_BYTES, progress = new Progress()): Promise<SyncStats> {
  return await pullSession(stream, maxPayloadBytes, signal, async (s, stats) => {
    await writeFrame(s, 'pull', { want } satisfies SyncRequest, signal)
    await receiveBatches(s, peer, stats, accept, progress, want, signal)
  })
}

/** one pull on `stream`, whatever the version: `exchange` does the frames; the stream is closed and the time counted here */
async function pullSession (stream: Stream, maxPayloadBytes: number, signal: AbortSignal | undefined, exchange: (s: Framed, stats: SyncStats) => Promise<void>): Promise<SyncStats> {
  const started = Date.now()
  const stats: SyncStats = { received: 0, stored: 0, batches: 0, ms: 0, floors: [] }
  await exchange(lp(stream, maxPayloadBytes), stats)
  await stream.close({ signal }).catch(() => stream.abort(new Error('sync close failed')))
  stats.ms = Date.now() - started
  return stats
}

/**
 * Client side (1.2.0): send the digests of one page of our topics; for the buckets the server says differ,
 * list our origins and receive what we lack as 1.1.0 does. `digestOf` gives each topic's digest of
 * DIGEST_BUCKETS buckets (a DigestCache's).
 */
export async function pullDigest (stream: Stream, peer: PeerId, page: TopicWant[], digestOf: (topic: string) => Uint8Array, accept: AcceptBatch, signal?: AbortSignal, maxPayloadBytes = MAX_PAYLOAD_BYTES, progress = new Progress()): Promise<SyncStats> {
  return await pullSession(stream, maxPayloadBytes, signal, async (s, stats) => {
    await writeFrame(s, 'pull', { b: DIGEST_BUCKETS, d: page.map(w => [w.topic, digestOf(w.topic)]) } satisfies DigestRequest, signal)
    const masks = parseDigestAnswer(await readFrame(s, signal, undefined, progress.frameTimeoutMs), new Set(page.map(w => w.topic)), DIGEST_BUCKETS)
    // the answer is the pull's first (empty) batch, as a 1.1.0 server's answer to a peer holding the same is
    stats.batches++
    const want: TopicWant[] = []
    for (const w of page) {
      const mask = masks.get(w.topic)
      const differs = (o: OriginState): boolean => mask != null && inMask(mask, bucketOf(o.origin, DIGEST_BUCKETS))
      // where the buckets agree, the server holds nothing between our low mark and our first held seq:
      // that is the floor it would report (as 1.1.0 does), so a bottom hole no peer can fill is still given up
      for (const o of w.origins) {
        const floor = floorOf(o)
        if (!differs(o) && floor > o.low) stats.floors.push([w.topic, o.origin, floor])
      }
      if (mask != null) want.push({ ...w, origins: w.origins.filter(differs) })
    }
    if (want.length > 0) {
      await writeFrame(s, 'pull', { want } satisfies SyncRequest, signal)
      // only the differing buckets are answered for: an origin of another is nothing the server had reason to send
      const differing = (topic: string, origin: string): boolean => {
        const mask = masks.get(topic)
        return mask != null && inMask(mask, bucketOf(origin, DIGEST_BUCKETS))
      }
      await receiveBatches(s, peer, stats, accept, progress, want, signal, differing)
    }
  })
}

/** the puller's side of the batches, acks and floors, from the first batch to the last */
async function receiveBatches (s: Framed, peer: PeerId, stats: SyncStats, accept: AcceptBatch, progress: Progress, want: TopicWant[], signal?: AbortSignal, unlisted?: (topic: string, origin: string) => boolean): Promise<void> {
  // a floor matters only for an origin we listed (holes.ts): others are dropped, and each listed one is kept
  // once (the highest), so a server repeating floors cannot grow this pull's memory. An honest server also
  // sends floors of origins we did not list (its own low marks): they still make a frame not empty
  const request = new RequestIndex(want, unlisted)
  const kept = new Map<string, number>()
  for (;;) {
    // batch frames without joining their chunks (batch-frame.ts)
    const frame = await readFrame(s, signal, decodePlainBatch, progress.frameTimeoutMs) as SyncBatch
    if (frame == null || !Array.isArray(frame.msgs)) throw new Error('sync: malformed batch from server')
    stats.batches++
    stats.received += frame.msgs.length
    let floorsAsked = 0
    let newFloors = 0
    for (const f of Array.isArray(frame.floors) ? frame.floors : []) {
      if (!isFloor(f) || !request.asksTopic(f[0])) continue
      floorsAsked++
      if (!request.lists(f[0], f[1])) continue
      const key = `${f[0]}\u0000${f[1]}`
      const at = kept.get(key)
      if (at == null) {
        kept.set(key, stats.floors.length)
        stats.floors.push(f)
        newFloors++
      } else if (f[2] > stats.floors[at][2]) {
        stats.floors[at] = f
      }
    }
    const got = await accept(frame.msgs, peer, request.asked)
    stats.stored += got.stored
    progress.batch(got.asked, got.askedBytes, frame.more === true, floorsAsked, newFloors)
    if (frame.more !== true) break
    await writeFrame(s, 'pull', { next: true }, signal)
  }
}

function isFloor (f: unknown): f is Floor {
  return Array.isArray(f) && f.length === 3 && typeof f[0] === 'string' && typeof f[1] === 'string' && Number.isSafeInteger(f[2]) && f[2] > 0
}

/**
 * A stream riddled with holes (overload sends many messages by sync) can have more ranges than a request
 * may carry. Sending only the first ones is safe: the server then also sends what we hold above the last
 * range we listed, and the duplicates are dropped here by id before any verification.
 */
function truncateRanges (o: OriginState): OriginState {
  return o.ranges.length <= SUMMARY_RANGES ? o : { ...o, ranges: o.ranges.slice(0, SUMMARY_RANGES) }
}

/** the seq below which a node holding `o` holds nothing: below its first held seq, or its low mark */
function floorOf (o: OriginState): number {
  return o.ranges.length > 0 ? o.ranges[0][0] - 1 : o.low
}

function bottomHole (o: OriginState): boolean {
  const first = o.ranges[0]
  return Array.isArray(first) && Number.isSafeInteger(first[0]) && first[0] > o.low + 1
}

function parseRequest (v: unknown): TopicWant[] {
  const req = v as SyncRequest
  if (req == null || !Array.isArray(req.want) || req.want.length > MAX_TOPICS_PER_REQUEST) throw new Error('sync: malformed request')
  // the work of an answer grows with every entry: each topic is answered once, each origin listed once,
  // and the whole request is bounded, not only each entry (an honest page is far below: requestPages)
  const topics = new Set<string>()
  let origins = 0
  let ranges = 0
  for (const t of req.want) {
    if (typeof t?.topic !== 'string' || !TOPIC_PATTERN.test(t.topic) || !Array.isArray(t.origins) || t.origins.length > MAX_ORIGINS_PER_TOPIC) throw new Error('sync: malformed topic entry')
    if (topics.has(t.topic)) throw new Error('sync: a topic listed twice')
    topics.add(t.topic)
    const seen = new Set<string>()
    for (const o of t.origins) {
      if (typeof o?.origin !== 'string' || o.origin.length === 0 || o.origin.length > MAX_ORIGIN_CHARS || !Number.isSafeInteger(o.low) || !Array.isArray(o.ranges) || o.ranges.length > MAX_RANGES_PER_ORIGIN) throw new Error('sync: malformed origin entry')
      if (seen.has(o.origin)) throw new Error('sync: an origin listed twice')
      seen.add(o.origin)
      ranges += o.ranges.length
    }
    origins += t.origins.length
    if (origins > MAX_ORIGINS_PER_REQUEST || ranges > MAX_RANGES_PER_REQUEST) throw new Error('sync: request too large')
  }
  return req.want
}

/**
 * Every (origin, missing range) of `topic` that we hold and the puller lacks, and our floor for each
 * origin where it is above the puller's low mark: the seqs up to it we cannot give.
 */
function missingFor (store: Store, want: TopicWant, only: OriginFilter): Array<{ origin: string, ranges: Range[], floor: number }> {
  const theirs = new Map(want.origins.map(o => [o.origin, o]))
  const out: Array<{ origin: string, ranges: Range[], floor: number }> = []
  for (const mine of store.summary(want.topic)) {
    if (!only(want.topic, mine.origin)) continue
    const t = theirs.get(mine.origin)
    if (t == null && want.listed === true) continue
    const theirSet = RangeSet.from((t?.ranges ?? []).filter(r => Array.isArray(r) && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1])) as Range[])
    const ranges = RangeSet.from(mine.ranges).minus(theirSet, t?.low ?? 0)
    // nothing at or below our low is held, nor below our first held seq
    const floor = floorOf(mine)
    out.push({ origin: mine.origin, ranges, floor: floor > (t?.low ?? 0) ? floor : 0 })
  }
  return out
}

/** which (topic, origin) a server answers for: all of them, or (1.2.0) those of the differing buckets */
type OriginFilter = (topic: string, origin: string) => boolean
const everyOrigin: OriginFilter = () => true

/** Server side (1.0.0, 1.1.0): answer one pull (`floors`: whether the puller speaks 1.1.0; older ones ignore them anyway). */
export async function serveSync (stream: Stream, store: Store, signal?: AbortSignal, maxPayloadBytes = MAX_PAYLOAD_BYTES, floors = true): Promise<number> {
  const s = lp(stream, maxPayloadBytes)
  const wants = parseRequest(await readFrame(s, signal))
  const sent = await sendMissing(s, stream, store, wants, everyOrigin, floors, signal)
  await stream.close({ signal }).catch(() => {})
  return sent
}

/**
 * Server side (1.2.0): answer the puller's digests with the buckets that differ; if any do, its want for
 * those buckets with what it lacks of them, as 1.1.0 does (floors included). The masks the server sent
 * bound what it answers: origins of agreeing buckets are not listed by the puller and must not be resent.
 */
export async function serveDigest (stream: Stream, store: Store, digests: DigestCache, signal?: AbortSignal, maxPayloadBytes = MAX_PAYLOAD_BYTES): Promise<number> {
  const s = lp(stream, maxPayloadBytes)
  const req = parseDigestRequest(await readFrame(s, signal))
  const diff: Array<[string, Uint8Array]> = []
  for (const [topic, theirs] of req.d) {
    const mask = diffMask(digests.digest(topic, req.b), theirs, req.b)
    if (mask != null) diff.push([topic, mask])
  }
  await writeFrame(s, 'serve', { diff } satisfies DigestAnswer, signal)
  let sent = 0
  if (diff.length > 0) {
    const masks = new Map(diff)
    const wants = parseRequest(await readFrame(s, signal))
    const only: OriginFilter = (topic, origin) => {
      const mask = masks.get(topic)
      return mask != null && inMask(mask, bucketOf(origin, req.b))
    }
    sent = await sendMissing(s, stream, store, wants, only, true, signal)
  }
  await stream.close({ signal }).catch(() => {})
  return sent
}

/** the server's side of the batches, acks and floors: what the puller lacks of `wants`, limited to `only` */
async function sendMissing (s: Framed, stream: Stream, store: Store, wants: TopicWant[], only: OriginFilter, floors: boolean, signal?: AbortSignal): Promise<number> {
  let sent = 0
  let batch: Uint8Array[] = []
  let marks: Floor[] = []
  let bytes = 0
  let unacked = 0
  const awaitAck = async (): Promise<void> => {
    const ack = await readFrame(s, signal) as { next?: boolean }
    if (ack?.next !== true) throw new Error('sync: puller stopped')
    unacked--
  }
  const flush = async (more: boolean): Promise<void> => {
    const frame: SyncBatch = { msgs: batch, more }
    if (marks.length > 0) frame.floors = marks
    // a puller that stops reading cannot pin this stream: the write times out
    await writeFrame(s, 'serve', frame, signal)
    sent += batch.length
    batch = []; bytes = 0; marks = []
    if (more) {
      unacked++
      // the next batch is read and queued only once this one is out of the stream's send buffer: a puller
      // that stops reading pins about one batch here, beyond its window, not WINDOW of them (the acks
      // still pipeline: an honest puller's window takes a batch while it stores the one before)
      await leftSendBuffer(stream, signal)
      if (unacked >= WINDOW) await awaitAck()
    } else {
      while (unacked > 0) await awaitAck()
    }
  }
  const mark = async (topic: string, origin: string, floor: number): Promise<void> => {
    if (!floors) return
    if (marks.length >= FLOORS_PER_FRAME) await flush(true)
    marks.push([topic, origin, floor])
  }
  for (const want of wants) {
    const heldTopic = store.hasTopic(want.topic)
    // a hole at the bottom of the puller's stream that we cannot fill at all: say so, or it waits for us
    for (const o of want.origins) {
      if (bottomHole(o) && only(want.topic, o.origin) && (!heldTopic || store.heldState(want.topic, o.origin) == null)) await mark(want.topic, o.origin, Number.MAX_SAFE_INTEGER)
    }
    if (!heldTopic) continue
    for (const { origin, ranges, floor } of missingFor(store, want, only)) {
      if (floor > 0) await mark(want.topic, origin, floor)
      // our own newest messages only once on disk: served before, then lost to a power loss, they would be
      // published again with other bodies, a fork of our own stream at every peer that got them
      const servable = store.servableUpTo(want.topic, origin)
      for (const [a, whole] of ranges) {
        const b = Math.min(whole, servable)
        let from = a
        while (from <= b) {
          const rows = store.readRawRange(want.topic, origin, from, b, BATCH_MAX_MESSAGES)
          if (rows.length === 0) break
          for (const { raw } of rows) {
            if (batch.length >= BATCH_MAX_MESSAGES || (bytes + raw.byteLength > BATCH_MAX_BYTES && batch.length > 0)) await flush(true)
            batch.push(raw); bytes += raw.byteLength
          }
          from = rows[rows.length - 1].seq + 1
        }
      }
    }
  }
  await flush(false)
  return sent
}

