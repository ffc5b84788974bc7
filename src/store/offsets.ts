// Local log offsets (messages.id) only ever grow. SQLite gives a row without an id max(id) + 1, so once
// retention, a purge or quarantine removed the newest rows it handed their offsets out again, and a reader
// resuming after an offset (history --after, an SSE Last-Event-ID) silently skipped the new messages. So the
// store gives each row its offset itself, from a counter that starts past every offset this data dir has
// used: the newest row's, and the highest deleted one's, which a trigger (schema.ts) keeps in meta as rows
// are deleted. Offsets may have gaps (a failed commit's, deleted rows'); they are never reused.
import type Database from 'better-sqlite3'

/** meta key of the highest offset ever deleted from messages (schema.ts's trigger writes it) */
export const OFFSET_HIGH_KEY = 'offset_high'

export class Offsets {
  private next: number

  constructor (db: Database.Database) {
    const n = (sql: string): number => Number((db.prepare(sql).get() as { n: number | bigint | string | null }).n ?? 0)
    this.next = 1 + Math.max(
      n('SELECT coalesce(max(id), 0) AS n FROM messages'),
      n(`SELECT coalesce(max(CAST(value AS INTEGER)), 0) AS n FROM meta WHERE key = '${OFFSET_HIGH_KEY}'`),
      // data dirs from before the trigger: the best record left of offsets whose rows are gone
      n('SELECT coalesce(max(id), 0) AS n FROM quarantine'),
      n('SELECT coalesce(max(offset), 0) AS n FROM publish_ids'),
    )
  }

  /** the offset the next stored row gets */
  peek (): number { return this.next }

  /** the row got peek()'s offset: the next one gets a new one */
  used (): void { this.next++ }
}
