// Local log offsets (messages.id) only ever grow. SQLite gives a row without an id max(id) + 1, so once
// retention, a purge or quarantine removed the newest rows it handed their offsets out again, and a reader
// resuming after an offset (history --after, an SSE Last-Event-ID) silently skipped the new messages. So the
// store gives each row its offset itself, from a counter that starts past every offset this data dir has
// handed out: offsets are reserved ahead in meta, in the transaction of the row that needs it, RESERVE_BLOCK
// at a time and RESERVE_BLOCK / 2 before they are needed, and an open starts past the reservation. That
// covers rows deleted since (retention, a purge, quarantine) and rows a power loss took before their fsync
// after readers had seen their offsets (received messages are delivered at commit, and the reservation was
// written many commits, and fsyncs, earlier). An open after a crash skips at most one block; a clean close
// sets the reservation to the next offset, so a restart skips none. Offsets may have gaps; never repeats.
import type Database from 'better-sqlite3'
import { StoreError } from './db.js'

/** meta key of the offset below which offsets are reserved (handed out, or about to be) */
export const OFFSET_RESERVED_KEY = 'offset_reserved'
const RESERVE_BLOCK = 10_000

export class Offsets {
  private next: number
  private reserved: number
  private readonly reserve: Database.Statement

  constructor (db: Database.Database) {
    const n = (sql: string): number => Number((db.prepare(sql).get() as { n: number | bigint | string | null }).n ?? 0)
    this.next = 1 + Math.max(
      n('SELECT coalesce(max(id), 0) AS n FROM messages'),
      // everything below the reservation may have been handed out, its rows deleted or lost since
      n(`SELECT coalesce(max(CAST(value AS INTEGER)), 1) - 1 AS n FROM meta WHERE key = '${OFFSET_RESERVED_KEY}'`),
      // data dirs from before the reservation: the best record left of offsets whose rows are gone
      n('SELECT coalesce(max(id), 0) AS n FROM quarantine'),
      n('SELECT coalesce(max(offset), 0) AS n FROM publish_ids'),
    )
    // only a damaged or hand-edited data dir gets near 2^53 (a crash skips one block): refuse it now, since
    // every commit would fail on a repeated or unrepresentable offset for as long as the node ran
    if (!Number.isSafeInteger(this.next + 2 * RESERVE_BLOCK)) {
      throw new StoreError(`store is damaged: its next log offset ${this.next} is past the largest this gossipd can hand out ` +
        `(meta ${OFFSET_RESERVED_KEY} or a row id near 2^53); move it aside to start empty`, 'STORE_CORRUPT')
    }
    this.reserved = this.next
    this.reserve = db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('${OFFSET_RESERVED_KEY}', ?)`)
  }

  /** the offset the next stored row gets */
  peek (): number { return this.next }

  /** a clean close: everything committed is on disk, so the next open may start right at the next offset */
  closing (): void { this.reserve.run(String(this.next)) }

  /** the transaction that called used() failed: its reservation write, if any, is gone, so write one next time */
  rolledBack (): void { this.reserved = 0 }

  /** the row got peek()'s offset: the next one gets a new one. Call inside the row's transaction (it may write the reservation) */
  used (): void {
    this.next++
    if (this.next + RESERVE_BLOCK / 2 > this.reserved) {
      this.reserved = this.next + RESERVE_BLOCK
      this.reserve.run(String(this.reserved))
    }
  }
}
