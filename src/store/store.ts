// The durable local queue: one SQLite file (WAL) in the data directory. This class composes the parts:
// db.ts opens it, topics.ts and held.ts keep in memory what it holds, wal.ts group-commits and fsyncs
// writes, publish.ts keeps our own streams' heads, log.ts reads, cursors.ts and retention.ts do the rest.
// It stores envelopes as opaque bytes: the caller's RowCodec reads the few fields it needs out of them.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { openDatabase, StoreError } from './db.js'
import { HeldIndex, type OriginState } from './held.js'
import { Topics, type TopicInfo } from './topics.js'
import { PublishHeads } from './publish.js'
import { GroupCommit } from './wal.js'
import { LogReader } from './log.js'
import { Cursors } from './cursors.js'
import { DEFAULT_RETENTION, Pruner, type Retention } from './retention.js'
import type { RangeSet } from './ranges.js'
import type { NewMessage, RowCodec, StoredMessage } from './rows.js'

export { StoreError }
export type { NewMessage, OriginState, RowCodec, StoredMessage, TopicInfo }

export interface StoreOptions {
  /** reads payloads and chain hashes out of stored envelopes */
  codec: RowCodec
  /** retention for topics that have none of their own */
  retention?: Partial<Retention>
  /** SQLite synchronous level; FULL (the default) makes an acked write survive power loss */
  synchronous?: 'FULL' | 'NORMAL'
}

export class Store {
  readonly path: string
  private readonly db: Database.Database
  private readonly topicTable: Topics
  private readonly held: HeldIndex
  private readonly heads: PublishHeads
  private readonly log: LogReader
  private readonly cursorTable: Cursors
  private readonly pruner: Pruner
  private readonly wal: GroupCommit
  private readonly insertRow: Database.Statement

  constructor (dataDir: string, opts: StoreOptions) {
    mkdirSync(dataDir, { recursive: true })
    this.path = join(dataDir, 'queue.sqlite')
    const defaults = { ...DEFAULT_RETENTION, ...opts.retention }
    const { db, durable } = openDatabase(this.path, opts.synchronous ?? 'FULL')
    this.db = db
    this.topicTable = new Topics(db, defaults)
    this.held = new HeldIndex(db)
    this.heads = new PublishHeads(db, raw => opts.codec.bodyHash(raw))
    this.log = new LogReader(db, opts.codec)
    this.cursorTable = new Cursors(db)
    this.pruner = new Pruner(db, this.topicTable, this.held)
    this.insertRow = db.prepare('INSERT OR IGNORE INTO messages (topic, origin, seq, ts, size, raw) VALUES (?, ?, ?, ?, ?, ?)')
    this.wal = new GroupCommit(this.path, durable, {
      write: batch => this.writeBatch(batch),
      failed: batch => this.heads.handBack(batch),
      committed: rows => this.pruner.afterCommit(new Set(rows.map(r => r.topic))),
    })
  }

  /** called after each commit with the rows it added (in commit order) */
  get onCommit (): (rows: StoredMessage[]) => void { return this.wal.onCommit }
  set onCommit (f: (rows: StoredMessage[]) => void) { this.wal.onCommit = f }
  /** called when a batch has been acked (or failed): pendingWrites went down without a new commit */
  get onAcked (): () => void { return this.wal.onAcked }
  set onAcked (f: () => void) { this.wal.onAcked = f }

  // ---- topics ----

  /** Start keeping a topic (idempotent). Retention given here overrides the store defaults for it. */
  addTopic (topic: string, retention: Partial<Retention> = {}): void {
    this.assertOpen()
    this.topicTable.add(topic, retention)
  }

  /** Stop keeping a topic; with purge its messages, origin marks and cursors are deleted too. */
  removeTopic (topic: string, purge = false): void {
    this.assertOpen()
    this.topicTable.remove(topic, purge)
    if (purge) this.held.drop(topic)
  }

  hasTopic (topic: string): boolean { return this.topicTable.has(topic) }

  topics (): TopicInfo[] { return this.topicTable.list() }

  // ---- writing ----

  /**
   * Next seq of our own stream on a topic, and the body hash of the message before it (null if unknown).
   * Reserved in memory now; insert() with `own` moves the head, and it is persisted with the row.
   */
  reservePublish (topic: string, origin: string): { seq: number, prev: Uint8Array | null } {
    return this.heads.reserve(topic, origin, this.held.last(topic, origin))
  }

  /** Held or queued for writing (or pruned: at or below the low mark). */
  has (topic: string, origin: string, seq: number): boolean {
    return this.held.has(topic, origin, seq) || this.wal.isQueued(topic, origin, seq)
  }

  /** rows queued but not yet acked (not committed, or committed and waiting for fsync); the node applies backpressure on this */
  get pendingWrites (): number { return this.wal.pendingWrites }

  /**
   * Queue a message; resolves with the stored row once committed, or null if it was already held.
   * Rejects with StoreError if the commit fails (disk full, I/O error): nothing is acked that is not on disk.
   */
  insert (msg: NewMessage): Promise<StoredMessage | null> {
    this.assertOpen()
    if (this.has(msg.topic, msg.origin, msg.seq)) return Promise.resolve(null)
    this.heads.queued(msg)
    return this.wal.queue(msg)
  }

  /**
   * Resolves once everything queued now has been committed and acked (synced), or has failed. Rows
   * committed earlier and still waiting for their fsync are not waited for.
   */
  whenFlushed (): Promise<void> { return this.wal.whenFlushed() }

  /** Commit everything queued in one transaction; it is acked once the fsync covering it is done. */
  flush (): void { this.wal.flush() }

  /** One group commit: the rows, topic totals and our publish heads, then the in-memory index. */
  private writeBatch (batch: NewMessage[]): Array<StoredMessage | null> {
    const stored: Array<StoredMessage | null> = []
    const counts = new Map<string, { n: number, bytes: number }>()
    this.db.transaction(() => {
      for (const msg of batch) {
        if (!this.topicTable.has(msg.topic)) { stored.push(null); continue }
        const size = msg.raw.byteLength
        const res = this.insertRow.run(msg.topic, msg.origin, msg.seq, msg.ts, size, msg.raw)
        if (res.changes === 0) { stored.push(null); continue }
        stored.push({ offset: Number(res.lastInsertRowid), topic: msg.topic, origin: msg.origin, seq: msg.seq, ts: msg.ts, payload: msg.payload })
        const c = counts.get(msg.topic) ?? { n: 0, bytes: 0 }
        c.n++; c.bytes += size
        counts.set(msg.topic, c)
        this.heads.write(msg)
      }
      for (const [topic, c] of counts) this.topicTable.writeCounts(topic, c.n, c.bytes)
    })()
    for (const row of stored) if (row != null) this.held.add(row.topic, row.origin, row.seq)
    for (const [topic, c] of counts) {
      const s = this.topicTable.get(topic)
      if (s != null) { s.messages += c.n; s.bytes += c.bytes }
    }
    return stored
  }

  // ---- reading ----

  /** What we hold of each origin's stream in a topic, for the sync protocol. */
  summary (topic: string): OriginState[] { return this.held.summary(topic) }

  origins (topic: string): string[] { return this.held.origins(topic) }

  /** low mark and held set of one origin in a topic (live objects: do not modify) */
  heldState (topic: string, origin: string): { low: number, set: RangeSet } | undefined {
    return this.held.state(topic, origin)
  }

  /** Raise the low mark: the node gives up on seqs <= low of this origin (gap timeout or retention). */
  raiseLow (topic: string, origin: string, low: number): void { this.held.raiseLow(topic, origin, low) }

  readOrigin (topic: string, origin: string, afterSeq: number, limit: number): StoredMessage[] {
    return this.log.readOrigin(topic, origin, afterSeq, limit)
  }

  /** encoded envelopes of one origin with from <= seq <= to, in seq order */
  readRawRange (topic: string, origin: string, from: number, to: number, limit: number): Array<{ seq: number, raw: Uint8Array }> {
    return this.log.readRawRange(topic, origin, from, to, limit)
  }

  /** offset of the newest stored message (0 when empty) */
  lastOffset (): number { return this.log.lastOffset() }

  /** Local log of a topic: after a given offset (oldest first), or the last `limit` messages. */
  history (topic: string, opts: { afterOffset?: number, limit?: number } = {}): StoredMessage[] {
    return this.log.history(topic, opts)
  }

  // ---- consumer cursors ----

  cursors (consumer: string, topic: string): Map<string, number> { return this.cursorTable.get(consumer, topic) }

  saveCursors (consumer: string, topic: string, cursors: Map<string, number>): void {
    this.assertOpen()
    this.cursorTable.save(consumer, topic, cursors)
  }

  // ---- retention ----

  /** Delete the oldest messages of a topic while it is over its count or byte limit, or older than max age. */
  enforceLimits (topic: string, now = Date.now()): number { return this.pruner.enforce(topic, now) }

  enforceAllLimits (now = Date.now()): number { return this.pruner.enforceAll(now) }

  // ---- lifecycle ----

  close (): void {
    if (this.wal.closed) return
    this.wal.close()
    this.db.close()
  }

  private assertOpen (): void {
    if (this.wal.closed) throw new StoreError('store is closed', 'STORE_CLOSED')
  }
}
