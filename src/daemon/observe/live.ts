// What the swarm page and `gossipd top` show: a snapshot of the node (peers, topics with their mesh,
// per-second message rates and latencies over the last minute, recent sync pulls, consumers) and a feed
// of messages for the live tail. Kept in small ring buffers fed by the node's events.
import type { GossipNode, ReceivedMessage } from '../../core/node.js'
import type { SwarmSnapshot, SyncEntry, TailMessage } from '../../wire/observe.js'

export const WINDOW_S = 60
const SYNC_KEPT = 20
const PREVIEW_CHARS = 200

interface Second { t: number, count: number, latSum: number, latN: number, latMax: number }

export type { TailMessage, SyncEntry }
export type Snapshot = SwarmSnapshot

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** where to cut `bytes` at about `max`: not inside a UTF-8 character (a cut one made valid text read as binary) */
function utf8Cut (bytes: Uint8Array, max: number): number {
  let end = Math.min(max, bytes.byteLength)
  // back over continuation bytes (10xxxxxx) to the start of the character the cut falls in
  if (end < bytes.byteLength) for (let i = 0; i < 3 && end > 0 && (bytes[end] & 0xc0) === 0x80; i++) end--
  return end
}

export function tailMessage (m: ReceivedMessage): TailMessage {
  let preview: string
  let binary = false
  try { preview = utf8.decode(m.payload.subarray(0, utf8Cut(m.payload, PREVIEW_CHARS * 4))) } catch { preview = Buffer.from(m.payload.subarray(0, PREVIEW_CHARS)).toString('base64'); binary = true }
  if (preview.length > PREVIEW_CHARS) {
    // nor between the two halves of a surrogate pair (an emoji)
    const cut = /[\uD800-\uDBFF]/.test(preview[PREVIEW_CHARS - 1]) ? PREVIEW_CHARS - 1 : PREVIEW_CHARS
    preview = preview.slice(0, cut) + '…'
  }
  return { topic: m.topic, origin: m.origin, seq: m.seq, ts: m.ts, source: m.source, offset: m.offset, size: m.payload.byteLength, preview, binary }
}

export class LiveView {
  private readonly seconds = new Map<string, Second[]>()
  private readonly recentSync: SyncEntry[] = []
  private pulls = 0
  private failed = 0
  private syncStored = 0
  private readonly tails = new Set<(m: TailMessage) => void>()

  constructor (private readonly node: GossipNode, private readonly extra: () => Record<string, unknown> = () => ({})) {
    node.on('message', m => {
      const s = this.second(m.topic)
      s.count++
      if (m.source !== 'local') {
        const lat = Math.max(0, Date.now() - m.ts)
        s.latSum += lat; s.latN++; if (lat > s.latMax) s.latMax = lat
      }
      if (this.tails.size > 0) {
        const t = tailMessage(m)
        for (const fn of this.tails) fn(t)
      }
    })
    node.on('sync', s => {
      this.pulls++
      this.syncStored += s.stored
      this.pushSync({ time: Date.now(), peer: s.peer, ok: true, received: s.received, stored: s.stored, ms: s.ms })
    })
    node.on('sync:failed', f => {
      this.pulls++
      this.failed++
      this.pushSync({ time: Date.now(), peer: f.peer, ok: false, received: 0, stored: 0, ms: 0, error: f.error })
    })
  }

  private pushSync (e: SyncEntry): void {
    this.recentSync.push(e)
    if (this.recentSync.length > SYNC_KEPT) this.recentSync.shift()
  }

  private second (topic: string): Second {
    const t = Math.floor(Date.now() / 1000)
    let list = this.seconds.get(topic)
    if (list == null) { list = []; this.seconds.set(topic, list) }
    let last = list[list.length - 1]
    if (last == null || last.t !== t) {
      last = { t, count: 0, latSum: 0, latN: 0, latMax: 0 }
      list.push(last)
      while (list.length > 0 && list[0].t <= t - WINDOW_S) list.shift()
    }
    return last
  }

  /** subscribe to committed messages (returns the unsubscribe function) */
  onMessage (fn: (m: TailMessage) => void): () => void {
    this.tails.add(fn)
    return () => { this.tails.delete(fn) }
  }

  snapshot (): Snapshot {
    const node = this.node
    const now = Date.now()
    const nowS = Math.floor(now / 1000)
    // the current second is still filling: series end with the last complete one
    const series = (topic: string, pick: (s: Second) => number | null, empty: number | null): Array<number | null> => {
      const bySecond = new Map((this.seconds.get(topic) ?? []).map(s => [s.t, s]))
      const out: Array<number | null> = []
      for (let t = nowS - WINDOW_S; t < nowS; t++) {
        const s = bySecond.get(t)
        out.push(s != null ? pick(s) : empty)
      }
      return out
    }
    return {
      now,
      self: { ...node.status(), ...this.extra() },
      peers: node.peers(),
      topics: node.topics().map(t => ({
        topic: t.topic,
        messages: t.messages,
        bytes: t.bytes,
        peers: t.peers,
        mesh: node.meshPeers(t.topic),
        rate: series(t.topic, s => s.count, 0) as number[],
        latencyMeanMs: series(t.topic, s => s.latN > 0 ? s.latSum / s.latN : null, null),
        latencyMaxMs: series(t.topic, s => s.latN > 0 ? s.latMax : null, null),
      })),
      sync: { recent: [...this.recentSync].reverse(), pulls: this.pulls, failed: this.failed, stored: this.syncStored },
      consumers: node.consumerStats(),
    }
  }
}
