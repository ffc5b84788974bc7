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

/**
 * Rows one retention call deletes at most: a synchronous transaction on the event loop, ~12-23 µs a tiny row,
 * so 0.1-0.2 s. Unbounded, a day of tiny messages expiring at once (or a tightened limit) held the loop for
 * seconds per 300,000 rows (keep-alive, gossip and the API all waiting). The rest waits for the next call:
 * the retention timer calls again at once while a call used its whole budget (retention-timer.ts).
 */
export const PRUNE_PASS_ROWS = 10_000

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

  /**
   * Delete the oldest messages of a topic while it is over its count or byte limit, or older than max age,
   * at most `budget` of them (PRUNE_PASS_ROWS): a return of `budget` means there may be more.
   */
  enforce (topic: string, now = Date.now(), budget = PRUNE_PASS_ROWS): number {
    const s = this.topics.get(topic)
    if (s == null) return 0
    let pruned = 0
    const by = { byCount: 0, byBytes: 0, byAge: 0 }
    // the totals and low marks in memory change only once the transaction has committed: a delete that
    // fails (a full disk) is rolled back, and memory must still say what the disk holds
    let messages = s.messages
    let bytes = s.bytes
    const lows = new Map<string, number>()
    const apply = (rows: Pruned, reason: keyof typeof by): void => {
      by[reason] += rows.length
      const raised = new Map<string, number>()
      let size = 0
      for (const r of rows) {
        raised.set(r.origin, Math.max(raised.get(r.origin) ?? 0, r.seq))
        size += r.size
      }
      for (const [origin, low] of raised) {
        this.held.writeLow(topic, origin, low)
        lows.set(origin, Math.max(lows.get(origin) ?? 0, low))
      }
      this.topics.writeCounts(topic, -rows.length, -size)
      messages -= rows.length; bytes -= size
      pruned += rows.length
    }
    this.db.transaction(() => {
      const over = Math.min(messages - s.retention.maxMessages, budget)
      if (over > 0) apply(this.pruneOldest.all(topic, over) as Pruned, 'byCount')
      while (bytes > s.retention.maxBytes && messages > 0 && pruned < budget) {
        const rows = this.pruneOldest.all(topic, Math.min(Math.max(1, Math.ceil(messages / 100)), budget - pruned)) as Pruned
        if (rows.length === 0) break
        apply(rows, 'byBytes')
      }
      if (s.retention.maxAgeMs > 0) {
        while (pruned < budget) {
          const rows = this.pruneOlderThan.all(topic, now - s.retention.maxAgeMs, budget - pruned) as Pruned
          if (rows.length === 0) break
          apply(rows, 'byAge')
        }
      }
    })()
    s.messages = messages; s.bytes = bytes
    for (const [origin, low] of lows) this.held.lowCommitted(topic, origin, low)
    if (pruned > 0) this.report({ topic, removed: pruned, ...by })
    return pruned
  }

  /** enforce() on every topic, sharing one budget: a return of `budget` means there may be more */
  enforceAll (now = Date.now(), budget = PRUNE_PASS_ROWS): number {
    let n = 0
    for (const topic of this.topics.names()) {
      if (n >= budget) break
      n += this.enforce(topic, now, budget - n)
    }
    return n
  }
}
