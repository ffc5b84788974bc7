// The topics this node keeps: their retention (own overrides or the store defaults) and running totals
// of messages and bytes, mirrored in memory so limits are checked on every commit without a query.
import type Database from 'better-sqlite3'
import type { Retention } from './retention.js'

export interface TopicInfo {
  topic: string
  messages: number
  bytes: number
  retention: Retention
}

/** A kept topic's live totals; whoever writes a change to disk updates these. */
export interface TopicStats { messages: number, bytes: number, retention: Retention }

interface TopicRow { topic: string, messages: number, bytes: number, max_messages: number | null, max_bytes: number | null, max_age_ms: number | null }

export class Topics {
  private readonly stats = new Map<string, TopicStats>()
  private readonly counts: Database.Statement

  constructor (private readonly db: Database.Database, private readonly defaults: Retention) {
    this.counts = db.prepare('UPDATE topics SET messages = messages + ?, bytes = bytes + ? WHERE topic = ?')
    for (const row of db.prepare('SELECT * FROM topics').all() as TopicRow[]) this.stats.set(row.topic, this.statsOf(row))
  }

  private statsOf (row: TopicRow): TopicStats {
    return {
      messages: row.messages,
      bytes: row.bytes,
      retention: {
        maxMessages: row.max_messages ?? this.defaults.maxMessages,
        maxBytes: row.max_bytes ?? this.defaults.maxBytes,
        maxAgeMs: row.max_age_ms ?? this.defaults.maxAgeMs,
      },
    }
  }

  /**
   * Start keeping a topic (idempotent). Retention given here overrides the store defaults for it. A topic
   * left without purge keeps its rows: rejoining counts them, or retention would undercount them for good.
   */
  add (topic: string, retention: Partial<Retention>): void {
    this.db.prepare(`INSERT INTO topics (topic, messages, bytes, max_messages, max_bytes, max_age_ms)
      VALUES (?, (SELECT count(*) FROM messages WHERE topic = ?), (SELECT coalesce(sum(size), 0) FROM messages WHERE topic = ?), ?, ?, ?)
      ON CONFLICT(topic) DO UPDATE SET max_messages = coalesce(excluded.max_messages, max_messages),
      max_bytes = coalesce(excluded.max_bytes, max_bytes), max_age_ms = coalesce(excluded.max_age_ms, max_age_ms)`)
      .run(topic, topic, topic, retention.maxMessages ?? null, retention.maxBytes ?? null, retention.maxAgeMs ?? null)
    this.stats.set(topic, this.statsOf(this.db.prepare('SELECT * FROM topics WHERE topic = ?').get(topic) as TopicRow))
  }

  /**
   * Stop keeping a topic; with purge, its messages, origin marks and cursors go too. Our own publish seq
   * stays: starting that stream again at 1 would sign a second version of seqs peers still hold (a fork).
   * onPurge runs inside the same transaction (the store deletes the topic's publish idempotency keys there).
   */
  remove (topic: string, purge: boolean, onPurge?: () => void): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM topics WHERE topic = ?').run(topic)
      if (purge) {
        for (const table of ['messages', 'origins', 'cursors']) this.db.prepare(`DELETE FROM ${table} WHERE topic = ?`).run(topic)
        onPurge?.()
      }
    })()
    this.stats.delete(topic)
  }

  has (topic: string): boolean { return this.stats.has(topic) }

  get (topic: string): TopicStats | undefined { return this.stats.get(topic) }

  names (): IterableIterator<string> { return this.stats.keys() }

  list (): TopicInfo[] {
    return [...this.stats].map(([topic, s]) => ({ topic, messages: s.messages, bytes: s.bytes, retention: s.retention }))
  }

  /** add to a topic's totals on disk (inside the caller's transaction) */
  writeCounts (topic: string, messages: number, bytes: number): void {
    this.counts.run(messages, bytes, topic)
  }
}
