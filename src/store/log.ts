// Reading the local log: a topic in arrival order (by offset), or one origin's stream in seq order.
// A row whose envelope cannot be decoded is handed to `bad` (the store quarantines it) and skipped, so
// one damaged row never stops the rest from being served.
import type Database from 'better-sqlite3'
import { toMessage, type MessageRow, type RowCodec, type StoredMessage } from './rows.js'

export class LogReader {
  private readonly byOrigin: Database.Statement
  private readonly rawRange: Database.Statement
  private readonly after: Database.Statement
  private readonly newest: Database.Statement
  private readonly maxId: Database.Statement
  private readonly firstRecv: Database.Statement

  constructor (db: Database.Database, private readonly codec: RowCodec, private readonly bad: (row: MessageRow, err: unknown) => void) {
    this.byOrigin = db.prepare('SELECT id, topic, origin, seq, ts, raw FROM messages WHERE topic = ? AND origin = ? AND seq > ? ORDER BY seq LIMIT ?')
    this.rawRange = db.prepare('SELECT seq, raw FROM messages WHERE topic = ? AND origin = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?')
    this.after = db.prepare('SELECT id, topic, origin, seq, ts, raw FROM messages WHERE topic = ? AND id > ? ORDER BY id LIMIT ?')
    this.newest = db.prepare('SELECT id, topic, origin, seq, ts, raw FROM messages WHERE topic = ? ORDER BY id DESC LIMIT ?')
    this.maxId = db.prepare('SELECT coalesce(max(id), 0) AS id FROM messages')
    this.firstRecv = db.prepare('SELECT min(id) AS id FROM messages WHERE topic = ? AND recv >= ?')
  }

  private messages (rows: unknown[]): StoredMessage[] {
    const out: StoredMessage[] = []
    for (const r of rows as MessageRow[]) {
      try { out.push(toMessage(r, this.codec)) } catch (err) { this.bad(r, err) }
    }
    return out
  }

  readOrigin (topic: string, origin: string, afterSeq: number, limit: number): StoredMessage[] {
    return this.messages(this.byOrigin.all(topic, origin, afterSeq, limit))
  }

  /** encoded envelopes of one origin with from <= seq <= to, in seq order */
  readRawRange (topic: string, origin: string, from: number, to: number, limit: number): Array<{ seq: number, raw: Uint8Array }> {
    return this.rawRange.all(topic, origin, from, to, limit) as Array<{ seq: number, raw: Uint8Array }>
  }

  /** offset of the newest stored message (0 when empty) */
  lastOffset (): number {
    return (this.maxId.get() as { id: number }).id
  }

  /** offset of the topic's first message received (committed) at or after `time`, or undefined if none */
  firstReceivedSince (topic: string, time: number): number | undefined {
    return (this.firstRecv.get(topic, time) as { id: number | null }).id ?? undefined
  }

  /** Local log of a topic: after a given offset (oldest first), or the last `limit` messages. */
  history (topic: string, opts: { afterOffset?: number, limit?: number }): StoredMessage[] {
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), 10_000)
    if (opts.afterOffset === undefined) return this.messages(this.newest.all(topic, limit)).reverse()
    return this.messages(this.after.all(topic, opts.afterOffset, limit))
  }
}
