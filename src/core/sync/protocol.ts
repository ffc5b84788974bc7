// Catch-up (anti-entropy) protocol. The puller sends, per topic, what it holds of each origin's stream
// (a low mark plus held ranges); the server answers with every envelope it holds that the puller lacks,
// in batches. The puller acks each batch once it is on disk and the server keeps at most WINDOW batches
// unacked, so a slow disk or a huge backlog never piles up in memory on either side. Gaps in the middle are found the same way as
// missing tails, and any peer that holds a message can serve it.
import { Encoder } from 'cbor-x'
import { lpStream } from '@libp2p/utils'
import type { Stream, PeerId } from '@libp2p/interface'
import { RangeSet, type Range } from '../../store/ranges.js'
import type { Store, OriginState } from '../../store/store.js'
import { TOPIC_PATTERN, MAX_PAYLOAD_BYTES } from '../limits.js'

export const SYNC_PROTOCOL = '/gossipd/sync/1.0.0'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const BATCH_MAX_MESSAGES = 1000
const BATCH_MAX_BYTES = 1024 * 1024
const MAX_TOPICS_PER_REQUEST = 1000
const MAX_ORIGINS_PER_TOPIC = 10_000
const MAX_RANGES_PER_ORIGIN = 10_000
/** ranges per origin a puller lists (below what a server accepts) */
const SUMMARY_RANGES = 2_000
/** batches the server may send ahead of the puller's acks: keeps both sides busy, memory stays bounded */
const WINDOW = 3

interface TopicWant { topic: string, origins: OriginState[] }
/** puller → server: first frame */
interface SyncRequest { want: TopicWant[] }
/** server → puller: a batch of raw envelopes; `more` says whether another batch follows */
interface SyncBatch { msgs: Uint8Array[], more: boolean }

export interface SyncStats { received: number, stored: number, batches: number, ms: number }

/** How the puller hands a batch of received envelopes to the node: resolves with how many were stored, once on disk. */
export type AcceptBatch = (raws: Uint8Array[], from: PeerId) => Promise<number>

/** a frame holds up to BATCH_MAX_BYTES, or one message of up to the largest payload this swarm allows */
function lp (stream: Stream, maxPayloadBytes: number) {
  const maxFrame = BATCH_MAX_BYTES + maxPayloadBytes + 64 * 1024
  return lpStream(stream, { maxDataLength: maxFrame, maxBufferSize: (WINDOW + 1) * maxFrame })
}

/** a peer that sends nothing for this long is treated as gone, so one stuck pull cannot stall the others */
const FRAME_TIMEOUT_MS = 30_000

async function readFrame (s: ReturnType<typeof lp>, signal?: AbortSignal): Promise<unknown> {
  const timeout = AbortSignal.timeout(FRAME_TIMEOUT_MS)
  const buf = await s.read({ signal: signal != null ? AbortSignal.any([signal, timeout]) : timeout })
  return cbor.decode(buf.subarray())
}

/** Client side: pull everything `peer` holds of `topics` that we lack. */
export async function pullFrom (stream: Stream, peer: PeerId, store: Store, topics: string[], accept: AcceptBatch, signal?: AbortSignal, maxPayloadBytes = MAX_PAYLOAD_BYTES): Promise<SyncStats> {
  const started = Date.now()
  const s = lp(stream, maxPayloadBytes)
  const stats: SyncStats = { received: 0, stored: 0, batches: 0, ms: 0 }
  const want: TopicWant[] = topics.map(topic => ({ topic, origins: store.summary(topic).map(truncateRanges) }))
  await s.write(cbor.encode({ want } satisfies SyncRequest), { signal })
  for (;;) {
    const frame = await readFrame(s, signal) as SyncBatch
    if (frame == null || !Array.isArray(frame.msgs)) throw new Error('sync: malformed batch from server')
    stats.batches++
    stats.received += frame.msgs.length
    stats.stored += await accept(frame.msgs, peer)
    if (frame.more !== true) break
    await s.write(cbor.encode({ next: true }), { signal })
  }
  await stream.close({ signal }).catch(() => stream.abort(new Error('sync close failed')))
  stats.ms = Date.now() - started
  return stats
}

/**
 * A stream riddled with holes (overload sends many messages by sync) can have more ranges than a request
 * may carry. Sending only the first ones is safe: the server then also sends what we hold above the last
 * range we listed, and the duplicates are dropped here by id before any verification.
 */
function truncateRanges (o: OriginState): OriginState {
  return o.ranges.length <= SUMMARY_RANGES ? o : { ...o, ranges: o.ranges.slice(0, SUMMARY_RANGES) }
}

function parseRequest (v: unknown): TopicWant[] {
  const req = v as SyncRequest
  if (req == null || !Array.isArray(req.want) || req.want.length > MAX_TOPICS_PER_REQUEST) throw new Error('sync: malformed request')
  for (const t of req.want) {
    if (typeof t?.topic !== 'string' || !TOPIC_PATTERN.test(t.topic) || !Array.isArray(t.origins) || t.origins.length > MAX_ORIGINS_PER_TOPIC) throw new Error('sync: malformed topic entry')
    for (const o of t.origins) {
      if (typeof o?.origin !== 'string' || !Number.isSafeInteger(o.low) || !Array.isArray(o.ranges) || o.ranges.length > MAX_RANGES_PER_ORIGIN) throw new Error('sync: malformed origin entry')
    }
  }
  return req.want
}

/** Every (origin, missing range) of `topic` that we hold and the puller lacks. */
function missingFor (store: Store, want: TopicWant): Array<{ origin: string, ranges: Range[] }> {
  const theirs = new Map(want.origins.map(o => [o.origin, o]))
  const out: Array<{ origin: string, ranges: Range[] }> = []
  for (const mine of store.summary(want.topic)) {
    const t = theirs.get(mine.origin)
    const theirSet = RangeSet.from((t?.ranges ?? []).filter(r => Array.isArray(r) && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1])) as Range[])
    const ranges = RangeSet.from(mine.ranges).minus(theirSet, t?.low ?? 0)
    if (ranges.length > 0) out.push({ origin: mine.origin, ranges })
  }
  return out
}

/** Server side: answer one pull. */
export async function serveSync (stream: Stream, store: Store, signal?: AbortSignal, maxPayloadBytes = MAX_PAYLOAD_BYTES): Promise<number> {
  const s = lp(stream, maxPayloadBytes)
  const wants = parseRequest(await readFrame(s, signal))
  let sent = 0
  let batch: Uint8Array[] = []
  let bytes = 0
  let unacked = 0
  const awaitAck = async (): Promise<void> => {
    const ack = await readFrame(s, signal) as { next?: boolean }
    if (ack?.next !== true) throw new Error('sync: puller stopped')
    unacked--
  }
  const flush = async (more: boolean): Promise<void> => {
    await s.write(cbor.encode({ msgs: batch, more } satisfies SyncBatch), { signal })
    sent += batch.length
    batch = []; bytes = 0
    if (more) {
      unacked++
      if (unacked >= WINDOW) await awaitAck()
    } else {
      while (unacked > 0) await awaitAck()
    }
  }
  for (const want of wants) {
    if (!store.hasTopic(want.topic)) continue
    for (const { origin, ranges } of missingFor(store, want)) {
      for (const [a, b] of ranges) {
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
  await stream.close({ signal }).catch(() => {})
  return sent
}

