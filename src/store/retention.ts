// Retention: how much of each topic the local queue keeps. Oldest messages (by arrival) go first, and
// the low mark of their origin rises past them so sync does not fetch them again. Age is measured from
// when this node received a message, never from the origin's clock, which may be days off.
import type Database from 'better-sqlite3'
import type { Topics } from './topics.js'
import type { HeldIndex } from './held.js'

export interface Retention {
  /** most messages kept per topic */
  maxMessages: number
  /** most bytes (encoded envelopes) kept per topic */
  maxBytes: number
  /** messages received (by this node) longer ago than this are deleted; 0 keeps them forever */
  maxAgeMs: number
}

export const DEFAULT_RETENTION: Retention = {
  maxMessages: 1_000_000,
  maxBytes: 1024 * 1024 * 1024,
  maxAgeMs: 7 * 24 * 3600 * 1000,
}

type Pruned = Array<{ origin: string, seq: number, size: number }>

/** What one retention pass removed from a topic, by the limit that removed it. */
export interface PruneReport { topic: string, removed: number, byCount: number, byBytes: number, byAge: number }

export class Pruner {
  private readonly pruneOldest: Database.Statement
  private readonly pruneOlderThan: Database.Statement

  /** report is told what each pass removed (the store has no logger; the node logs it) */
  constructor (private readonly db: Database.Database, private readonly topics: Topics, private readonly held: HeldIndex,
    private readonly report: (r: PruneReport) => void = () => {}) {
    this.pruneOldest = db.prepare('DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE topic = ? ORDER BY id LIMIT ?) RETURNING origin, seq, size')
    this.pruneOlderThan = db.prepare('DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE topic = ? AND recv < ? ORDER BY id LIMIT ?) RETURNING origin, seq, size')
  }

  /** Count and byte limits are checked after every commit (in memory, cheap); age by the node's timer. */
  afterCommit (topics: Iterable<string>): void {
    for (const topic of topics) {
      const st = this.topics.get(topic)
      if (st != null && (st.messages > st.retention.maxMessages || st.bytes > st.retention.maxBytes)) this.enforce(topic)
    }
  }

  /** Delete the oldest messages of a topic while it is over its count or byte limit, or older than max age. */
  enforce (topic: string, now = Date.now()): number {
    const s = this.topics.get(topic)
    if (s == null) return 0
    let pruned = 0
    const by = { byCount: 0, byBytes: 0, byAge: 0 }
    const apply = (rows: Pruned, reason: keyof typeof by): void => {
      by[reason] += rows.length
      const lows = new Map<string, number>()
      let bytes = 0
      for (const r of rows) {
        lows.set(r.origin, Math.max(lows.get(r.origin) ?? 0, r.seq))
        bytes += r.size
      }
      for (const [origin, low] of lows) this.held.raiseLow(topic, origin, low)
      this.topics.writeCounts(topic, -rows.length, -bytes)
      s.messages -= rows.length; s.bytes -= bytes
      pruned += rows.length
    }
    this.db.transaction(() => {
      const over = s.messages - s.retention.maxMessages
      if (over > 0) apply(this.pruneOldest.all(topic, over) as Pruned, 'byCount')
      while (s.bytes > s.retention.maxBytes && s.messages > 0) {
        const rows = this.pruneOldest.all(topic, Math.max(1, Math.ceil(s.messages / 100))) as Pruned
        if (rows.length === 0) break
        apply(rows, 'byBytes')
      }
      if (s.retention.maxAgeMs > 0) {
        for (;;) {
          const rows = this.pruneOlderThan.all(topic, now - s.retention.maxAgeMs, 10_000) as Pruned
          if (rows.length === 0) break
          apply(rows, 'byAge')
        }
      }
    })()
    if (pruned > 0) this.report({ topic, removed: pruned, ...by })
    return pruned
  }

  enforceAll (now = Date.now()): number {
    let n = 0
    for (const topic of this.topics.names()) n += this.enforce(topic, now)
    return n
  }
}
