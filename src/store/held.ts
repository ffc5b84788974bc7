// The in-memory index of what this node holds: per topic and origin, a low mark (every seq <= low is
// done: held or pruned), the ranges of seqs held above it, and a skip mark (seqs up to it were given up:
// nobody waits for them, but they are not held, so sync still asks peers for them and a copy is stored).
// Rebuilt from disk on open, so dedup and the sync protocol's summaries never touch SQLite.
import type Database from 'better-sqlite3'
import { RangeSet, type Range } from './ranges.js'

/** What this node holds of one origin's stream in one topic. Every seq <= low is done (held or pruned). */
export interface OriginState {
  origin: string
  low: number
  ranges: Range[]
}

export interface Held { low: number, set: RangeSet, skip: number }

/** every seq up to this is held, pruned or given up: nothing below it is waited for */
export function settledUpTo (h: Held): number { return Math.max(h.low, h.skip) }

/**
 * The lowest hole waited for: seqs [from, to] missing above the settled mark, below a held one. A late copy
 * stored under the skip mark leaves no hole below it: that range was given up.
 */
export function firstHole (h: Held): [number, number] | undefined {
  let covered = settledUpTo(h)
  for (const [a, b] of h.set.ranges) {
    if (b <= covered) continue
    if (a > covered + 1) return [covered + 1, a - 1]
    covered = b
  }
  return undefined
}

export class HeldIndex {
  private readonly topics = new Map<string, Map<string, Held>>()
  /** per topic, a number that changes whenever what it holds changes (sync caches its digests on it) */
  private readonly versions = new Map<string, number>()
  private tick = 0
  private readonly setLow: Database.Statement
  private readonly setSkip: Database.Statement

  constructor (db: Database.Database) {
    this.setLow = db.prepare('INSERT INTO origins (topic, origin, low) VALUES (?, ?, ?) ON CONFLICT(topic, origin) DO UPDATE SET low = max(low, excluded.low)')
    this.setSkip = db.prepare('INSERT INTO origins (topic, origin, skip) VALUES (?, ?, ?) ON CONFLICT(topic, origin) DO UPDATE SET skip = max(skip, excluded.skip)')
    for (const row of db.prepare('SELECT topic, origin, low, skip FROM origins').all() as Array<{ topic: string, origin: string, low: number, skip: number }>) {
      const h = this.heldOf(row.topic, row.origin)
      h.low = row.low
      h.skip = Number.isSafeInteger(row.skip) && row.skip > 0 ? row.skip : 0
    }
    // gaps and islands: consecutive seqs share (seq - row_number)
    const islands = db.prepare(`
      SELECT topic, origin, min(seq) AS a, max(seq) AS b FROM (
        SELECT topic, origin, seq, seq - row_number() OVER (PARTITION BY topic, origin ORDER BY seq) AS grp FROM messages
      ) GROUP BY topic, origin, grp`).all() as Array<{ topic: string, origin: string, a: number, b: number }>
    for (const { topic, origin, a, b } of islands) this.heldOf(topic, origin).set.addRange(a, b)
    for (const topicMap of this.topics.values()) for (const h of topicMap.values()) h.set.removeUpTo(h.low)
  }

  private heldOf (topic: string, origin: string): Held {
    let t = this.topics.get(topic)
    if (t == null) { t = new Map(); this.topics.set(topic, t) }
    let h = t.get(origin)
    if (h == null) { h = { low: 0, set: new RangeSet(), skip: 0 }; t.set(origin, h) }
    return h
  }

  /** Held (committed) or done (at or below the low mark). */
  has (topic: string, origin: string, seq: number): boolean {
    const h = this.topics.get(topic)?.get(origin)
    return h != null && (seq <= h.low || h.set.has(seq))
  }

  /** a row was committed */
  add (topic: string, origin: string, seq: number): void {
    this.heldOf(topic, origin).set.add(seq)
    this.changed(topic)
  }

  /** a row was taken out (quarantined): its seq is a hole again, for sync to fill */
  remove (topic: string, origin: string, seq: number): void {
    this.topics.get(topic)?.get(origin)?.set.remove(seq)
    this.changed(topic)
  }

  /** a global counter, so a dropped and re-created topic never repeats an old version */
  private changed (topic: string): void { this.versions.set(topic, ++this.tick) }

  /** changes whenever any topic's summary may have changed */
  get changes (): number { return this.tick }

  /** changes whenever the topic's summary may have changed (0: never changed in this process) */
  version (topic: string): number { return this.versions.get(topic) ?? 0 }

  /** highest seq of an origin that is held or done (0 if none) */
  last (topic: string, origin: string): number {
    const h = this.topics.get(topic)?.get(origin)
    return Math.max(h?.set.max ?? 0, h?.low ?? 0)
  }

  /** low mark, held set and skip mark of one origin in a topic (live objects: do not modify) */
  state (topic: string, origin: string): Held | undefined {
    return this.topics.get(topic)?.get(origin)
  }

  /** What we hold of each origin's stream in a topic, for the sync protocol. */
  summary (topic: string): OriginState[] {
    const t = this.topics.get(topic)
    if (t == null) return []
    return [...t].map(([origin, h]) => ({ origin, low: h.low, ranges: h.set.ranges.map(r => [r[0], r[1]] as Range) }))
  }

  origins (topic: string): string[] { return [...(this.topics.get(topic)?.keys() ?? [])] }

  /** how many origins of a topic this node knows (holds, or has marks of) */
  originCount (topic: string): number { return this.topics.get(topic)?.size ?? 0 }

  /**
   * Give up on seqs <= skip of this origin (persisted): nobody waits for them any more, but they are not
   * held, so sync still asks for them and a late copy is stored (a peer's word that nobody has them may be a lie).
   */
  raiseSkip (topic: string, origin: string, skip: number): void {
    const h = this.state(topic, origin)
    if (skip <= (h?.skip ?? 0)) return
    this.setSkip.run(topic, origin, skip)
    // not part of the summary: sync's digests do not change
    this.heldOf(topic, origin).skip = skip
  }

  /** Raise the low mark (persisted): seqs <= low of this origin are done (retention pruned them). */
  raiseLow (topic: string, origin: string, low: number): void {
    if (low <= (this.state(topic, origin)?.low ?? 0)) return
    // disk first: a write that fails leaves memory as the disk is
    this.writeLow(topic, origin, low)
    this.lowCommitted(topic, origin, low)
  }

  /** Write a raised low mark inside the caller's transaction; call lowCommitted() once it has committed. */
  writeLow (topic: string, origin: string, low: number): void { this.setLow.run(topic, origin, low) }

  /** a low mark written with writeLow() is committed: memory follows */
  lowCommitted (topic: string, origin: string, low: number): void {
    const h = this.heldOf(topic, origin)
    if (low <= h.low) return
    h.low = low
    h.set.removeUpTo(low)
    this.changed(topic)
  }

  /** forget a purged topic */
  drop (topic: string): void { this.topics.delete(topic); this.changed(topic) }
}
