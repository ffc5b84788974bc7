// Publish idempotency keys (as JetStream's Nats-Msg-Id): a key published on a topic within the window
// maps to the first publish's result, so a client retrying after a lost answer does not publish twice.
// Written in the same transaction as the row, so the record is exactly as durable as the message, and
// kept in SQLite so a restart within the window still knows the key. Bounded by age and by count.
import type Database from 'better-sqlite3'

/** what the first publish with a key answered */
export interface PublishedRecord { topic: string, msgId: string, origin: string, seq: number, ts: number, offset: number }

export interface MsgIdLimits {
  /** how long a key is remembered (default 2 min, as JetStream's duplicate window) */
  windowMs: number
  /** at most this many keys are kept; the oldest go first (default 100,000) */
  max: number
}

export const DEFAULT_MSG_ID_LIMITS: MsgIdLimits = { windowMs: 120_000, max: 100_000 }

export class MsgIds {
  private readonly insert: Database.Statement
  private readonly lookup: Database.Statement
  private readonly expire: Database.Statement
  private readonly trim: Database.Statement
  private readonly dropTopic: Database.Statement
  private count: number

  constructor (db: Database.Database, private readonly limits: MsgIdLimits) {
    this.insert = db.prepare('INSERT OR IGNORE INTO publish_ids (topic, msg_id, origin, seq, ts, offset, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    this.lookup = db.prepare('SELECT topic, msg_id AS msgId, origin, seq, ts, offset FROM publish_ids WHERE topic = ? AND msg_id = ? AND at >= ?')
    this.expire = db.prepare('DELETE FROM publish_ids WHERE at < ?')
    this.trim = db.prepare('DELETE FROM publish_ids WHERE rowid IN (SELECT rowid FROM publish_ids ORDER BY at LIMIT ?)')
    this.dropTopic = db.prepare('DELETE FROM publish_ids WHERE topic = ?')
    this.count = (db.prepare('SELECT count(*) AS n FROM publish_ids').get() as { n: number }).n
  }

  /** the first publish of this key on this topic, if it is still within the window */
  find (topic: string, msgId: string, now = Date.now()): PublishedRecord | undefined {
    return this.lookup.get(topic, msgId, now - this.limits.windowMs) as PublishedRecord | undefined
  }

  /**
   * Delete a purged topic's keys (inside the purge's transaction): they name messages that are gone.
   * Returns how many went; pass it to forgotten() once that transaction has committed.
   */
  deleteTopic (topic: string): number {
    return this.dropTopic.run(topic).changes
  }

  /** deleteTopic's transaction committed: keep the count of keys held right */
  forgotten (n: number): void { this.count = Math.max(0, this.count - n) }

  /** record a key (inside the commit's transaction); expired and surplus keys go at the same time */
  write (r: PublishedRecord, now: number): void {
    this.count += this.insert.run(r.topic, r.msgId, r.origin, r.seq, r.ts, r.offset, now).changes
    if (this.count > this.limits.max) this.count -= this.trim.run(this.count - this.limits.max).changes
    // cheap when nothing is old (index on at); keeps the table to one window's worth
    this.count -= this.expire.run(now - this.limits.windowMs).changes
  }
}
