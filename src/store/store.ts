// The durable local queue: one SQLite file (WAL) in the data directory.
// Writes are group-committed: insert() queues a row and resolves only once the transaction holding it
// has been committed and fsynced, so an acked message survives kill -9 and power loss. The fsync runs on
// libuv's thread pool instead of inside SQLite's commit: better-sqlite3 is synchronous, and an fsync on
// the event loop (several ms, sometimes tens) stalled every message of the process behind it.
import Database from 'better-sqlite3'
import { mkdirSync, openSync, closeSync, fsync, fsyncSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { RangeSet, type Range } from './ranges.js'
import { SCHEMA, migrate } from './schema.js'
import { decodeEnvelope, bodyHash } from '../core/envelope.js'
import { DEFAULT_RETENTION, type Retention } from './retention.js'

export interface StoredMessage {
  /** position in this node's local log; increases in arrival order */
  offset: number
  topic: string
  origin: string
  seq: number
  ts: number
  payload: Uint8Array
}

export interface NewMessage {
  topic: string
  origin: string
  seq: number
  ts: number
  payload: Uint8Array
  /** the encoded, signed envelope, kept so any peer can relay it unchanged */
  raw: Uint8Array
  /** published by this node: its seq and prev came from reservePublish(); hash is its body hash */
  own?: { prev: Uint8Array | null, hash: Uint8Array }
}

/** What this node holds of one origin's stream in one topic. Every seq <= low is done (held or pruned). */
export interface OriginState {
  origin: string
  low: number
  ranges: Range[]
}

export interface TopicInfo {
  topic: string
  messages: number
  bytes: number
  retention: Retention
}

export class StoreError extends Error {
  override name = 'StoreError'
  constructor (message: string, readonly code: string, options?: { cause?: unknown }) { super(message, options) }
}

interface Held { low: number, set: RangeSet }
interface Pending { msg: NewMessage, resolve: (m: StoredMessage | null) => void, reject: (e: Error) => void }
interface TopicRow { topic: string, messages: number, bytes: number, max_messages: number | null, max_bytes: number | null, max_age_ms: number | null }

export interface StoreOptions {
  /** retention for topics that have none of their own */
  retention?: Partial<Retention>
  /** SQLite synchronous level; FULL (the default) makes an acked write survive power loss */
  synchronous?: 'FULL' | 'NORMAL'
}

export class Store {
  readonly path: string
  private readonly db: Database.Database
  private readonly held = new Map<string, Map<string, Held>>()
  private readonly topicStats = new Map<string, { messages: number, bytes: number, retention: Retention }>()
  private readonly pending: Pending[] = []
  private readonly pendingKeys = new Set<string>()
  /** per topic, our own newest seq and its body hash (what the next publish links to) */
  private readonly publishHead = new Map<string, { seq: number, hash: Uint8Array | null }>()
  private flushScheduled = false
  private flushWaiters: Array<() => void> = []
  private closed = false
  /** synchronous FULL: commits are acked only after an fsync of the WAL */
  private readonly durable: boolean
  private walFd?: number
  /** committed batches waiting for the next fsync, and those covered by the fsync now running */
  private unsynced: Array<{ rows: number, done: (err: StoreError | null) => void }> = []
  private syncing: typeof this.unsynced | null = null
  private fsyncRunning = false
  private readonly defaults: Retention
  private readonly stmt: ReturnType<Store['prepare']>
  /** called after each commit with the rows it added (in commit order) */
  onCommit: (rows: StoredMessage[]) => void = () => {}
  /** called when a batch has been acked (or failed): pendingWrites went down without a new commit */
  onAcked: () => void = () => {}

  constructor (dataDir: string, opts: StoreOptions = {}) {
    mkdirSync(dataDir, { recursive: true })
    this.path = join(dataDir, 'queue.sqlite')
    this.defaults = { ...DEFAULT_RETENTION, ...opts.retention }
    try {
      this.db = new Database(this.path, { timeout: 0 })
      this.db.pragma('journal_mode = WAL')
      // WAL with NORMAL never corrupts; for FULL durability this store fsyncs the WAL itself after each
      // group commit, off the event loop, and acks only then (see whenDurable)
      this.durable = (opts.synchronous ?? 'FULL') === 'FULL'
      this.db.pragma('synchronous = NORMAL')
      // one process owns a data dir: the exclusive lock is taken by the first write below and held
      // until close; the OS drops it if the process dies, so kill -9 leaves no stale lock behind
      this.db.pragma('locking_mode = EXCLUSIVE')
      this.db.exec(SCHEMA)
      migrate(this.db)
      const check = this.db.pragma('quick_check', { simple: true })
      if (check !== 'ok') throw new StoreError(`store ${this.path} is corrupt: ${String(check)}`, 'STORE_CORRUPT')
    } catch (err) {
      throw translateOpenError(err, this.path)
    }
    this.stmt = this.prepare()
    this.load()
  }

  private prepare () {
    const db = this.db
    return {
      insert: db.prepare('INSERT OR IGNORE INTO messages (topic, origin, seq, ts, size, raw) VALUES (?, ?, ?, ?, ?, ?)'),
      topicCounts: db.prepare('UPDATE topics SET messages = messages + ?, bytes = bytes + ? WHERE topic = ?'),
      setPublishHead: db.prepare('INSERT INTO publish_seq (topic, seq, hash) VALUES (?, ?, ?) ON CONFLICT(topic) DO UPDATE SET seq = excluded.seq, hash = excluded.hash WHERE excluded.seq > seq'),
      readRaw: db.prepare('SELECT raw FROM messages WHERE topic = ? AND origin = ? AND seq = ?'),
      setLow: db.prepare('INSERT INTO origins (topic, origin, low) VALUES (?, ?, ?) ON CONFLICT(topic, origin) DO UPDATE SET low = max(low, excluded.low)'),
      readOrigin: db.prepare('SELECT id, topic, origin, seq, ts, raw FROM messages WHERE topic = ? AND origin = ? AND seq > ? ORDER BY seq LIMIT ?'),
      readRawRange: db.prepare('SELECT seq, raw FROM messages WHERE topic = ? AND origin = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?'),
      history: db.prepare('SELECT id, topic, origin, seq, ts, raw FROM messages WHERE topic = ? AND id > ? ORDER BY id LIMIT ?'),
      historyDesc: db.prepare('SELECT id, topic, origin, seq, ts, raw FROM messages WHERE topic = ? ORDER BY id DESC LIMIT ?'),
      cursors: db.prepare('SELECT origin, seq FROM cursors WHERE consumer = ? AND topic = ?'),
      setCursor: db.prepare('INSERT INTO cursors (consumer, topic, origin, seq) VALUES (?, ?, ?, ?) ON CONFLICT(consumer, topic, origin) DO UPDATE SET seq = max(seq, excluded.seq)'),
      pruneOldest: db.prepare('DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE topic = ? ORDER BY id LIMIT ?) RETURNING origin, seq, size'),
      pruneOlderThan: db.prepare('DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE topic = ? AND ts < ? ORDER BY id LIMIT ?) RETURNING origin, seq, size'),
    }
  }

  /** Rebuild the in-memory picture of what is held: per topic and origin, the low mark and held ranges. */
  private load (): void {
    for (const row of this.db.prepare('SELECT * FROM topics').all() as TopicRow[]) {
      this.topicStats.set(row.topic, { messages: row.messages, bytes: row.bytes, retention: this.retentionOf(row) })
    }
    for (const row of this.db.prepare('SELECT topic, origin, low FROM origins').all() as Array<{ topic: string, origin: string, low: number }>) {
      this.heldOf(row.topic, row.origin).low = row.low
    }
    // gaps and islands: consecutive seqs share (seq - row_number)
    const islands = this.db.prepare(`
      SELECT topic, origin, min(seq) AS a, max(seq) AS b FROM (
        SELECT topic, origin, seq, seq - row_number() OVER (PARTITION BY topic, origin ORDER BY seq) AS grp FROM messages
      ) GROUP BY topic, origin, grp`).all() as Array<{ topic: string, origin: string, a: number, b: number }>
    for (const { topic, origin, a, b } of islands) {
      const h = this.heldOf(topic, origin)
      h.set.addRange(a, b)
    }
    for (const topicMap of this.held.values()) for (const h of topicMap.values()) h.set.removeUpTo(h.low)
    for (const row of this.db.prepare('SELECT topic, seq, hash FROM publish_seq').all() as Array<{ topic: string, seq: number, hash: Uint8Array | null }>) {
      this.publishHead.set(row.topic, { seq: row.seq, hash: row.hash })
    }
  }

  private retentionOf (row: TopicRow): Retention {
    return {
      maxMessages: row.max_messages ?? this.defaults.maxMessages,
      maxBytes: row.max_bytes ?? this.defaults.maxBytes,
      maxAgeMs: row.max_age_ms ?? this.defaults.maxAgeMs,
    }
  }

  private heldOf (topic: string, origin: string): Held {
    let t = this.held.get(topic)
    if (t == null) { t = new Map(); this.held.set(topic, t) }
    let h = t.get(origin)
    if (h == null) { h = { low: 0, set: new RangeSet() }; t.set(origin, h) }
    return h
  }

  // ---- topics ----

  /** Start keeping a topic (idempotent). Retention given here overrides the store defaults for it. */
  addTopic (topic: string, retention: Partial<Retention> = {}): void {
    this.assertOpen()
    this.db.prepare(`INSERT INTO topics (topic, max_messages, max_bytes, max_age_ms) VALUES (?, ?, ?, ?)
      ON CONFLICT(topic) DO UPDATE SET max_messages = coalesce(excluded.max_messages, max_messages),
      max_bytes = coalesce(excluded.max_bytes, max_bytes), max_age_ms = coalesce(excluded.max_age_ms, max_age_ms)`)
      .run(topic, retention.maxMessages ?? null, retention.maxBytes ?? null, retention.maxAgeMs ?? null)
    const row = this.db.prepare('SELECT * FROM topics WHERE topic = ?').get(topic) as TopicRow
    this.topicStats.set(topic, { messages: row.messages, bytes: row.bytes, retention: this.retentionOf(row) })
  }

  /** Stop keeping a topic; with purge its messages, origin marks and cursors are deleted too. */
  removeTopic (topic: string, purge = false): void {
    this.assertOpen()
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM topics WHERE topic = ?').run(topic)
      if (purge) {
        for (const table of ['messages', 'origins', 'cursors', 'publish_seq']) this.db.prepare(`DELETE FROM ${table} WHERE topic = ?`).run(topic)
      }
    })()
    this.topicStats.delete(topic)
    if (purge) this.held.delete(topic)
  }

  hasTopic (topic: string): boolean { return this.topicStats.has(topic) }

  topics (): TopicInfo[] {
    return [...this.topicStats].map(([topic, s]) => ({ topic, messages: s.messages, bytes: s.bytes, retention: s.retention }))
  }

  // ---- writing ----

  /**
   * Next seq of our own stream on a topic, and the body hash of the message before it (null if unknown).
   * Reserved in memory now; insert() with `own` moves the head, and it is persisted with the row.
   */
  reservePublish (topic: string, origin: string): { seq: number, prev: Uint8Array | null } {
    const held = this.held.get(topic)?.get(origin)
    const head = this.publishHead.get(topic)
    const last = Math.max(head?.seq ?? 0, held?.set.max ?? 0, held?.low ?? 0)
    // a head without a hash (a data dir from before the chain) is linked from the stored message
    const prev = head?.seq === last && head.hash != null ? head.hash : this.storedBodyHash(topic, origin, last)
    this.publishHead.set(topic, { seq: last + 1, hash: null })
    return { seq: last + 1, prev }
  }

  private storedBodyHash (topic: string, origin: string, seq: number): Uint8Array | null {
    const row = this.stmt.readRaw.get(topic, origin, seq) as { raw: Uint8Array } | undefined
    return row == null ? null : bodyHash(decodeEnvelope(row.raw).body)
  }

  /** Held or queued for writing (or pruned: at or below the low mark). */
  has (topic: string, origin: string, seq: number): boolean {
    const h = this.held.get(topic)?.get(origin)
    if (h != null && (seq <= h.low || h.set.has(seq))) return true
    return this.pendingKeys.has(pendingKey(topic, origin, seq))
  }

  /** rows queued but not yet acked (not committed, or committed and waiting for fsync); the node applies backpressure on this */
  get pendingWrites (): number {
    let n = this.pending.length
    for (const b of this.unsynced) n += b.rows
    for (const b of this.syncing ?? []) n += b.rows
    return n
  }

  /**
   * Queue a message; resolves with the stored row once committed, or null if it was already held.
   * Rejects with StoreError if the commit fails (disk full, I/O error): nothing is acked that is not on disk.
   */
  insert (msg: NewMessage): Promise<StoredMessage | null> {
    this.assertOpen()
    if (this.has(msg.topic, msg.origin, msg.seq)) return Promise.resolve(null)
    if (msg.own != null) this.publishHead.set(msg.topic, { seq: msg.seq, hash: msg.own.hash })
    return new Promise((resolve, reject) => {
      this.pendingKeys.add(pendingKey(msg.topic, msg.origin, msg.seq))
      this.pending.push({ msg, resolve, reject })
      if (!this.flushScheduled) {
        this.flushScheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /**
   * Resolves once everything queued now has been committed and acked (synced), or has failed. Rows
   * committed earlier and still waiting for their fsync are not waited for.
   */
  async whenFlushed (): Promise<void> {
    if (this.pending.length === 0 || this.closed) return
    await new Promise<void>(resolve => this.flushWaiters.push(resolve))
  }

  /** Commit everything queued in one transaction; it is acked once the fsync covering it is done. */
  flush (): void {
    this.flushScheduled = false
    const waiters = this.flushWaiters.splice(0)
    const wake = (): void => { for (const w of waiters) w() }
    if (this.pending.length === 0 || this.closed) { wake(); return }
    this.commitPending(wake)
  }

  private commitPending (wake: () => void): void {
    const batch = this.pending.splice(0, this.pending.length)
    const stored: Array<StoredMessage | null> = []
    const counts = new Map<string, { n: number, bytes: number }>()
    try {
      this.db.transaction(() => {
        for (const { msg } of batch) {
          if (!this.topicStats.has(msg.topic)) { stored.push(null); continue }
          const size = msg.raw.byteLength
          const res = this.stmt.insert.run(msg.topic, msg.origin, msg.seq, msg.ts, size, msg.raw)
          if (res.changes === 0) { stored.push(null); continue }
          stored.push({ offset: Number(res.lastInsertRowid), topic: msg.topic, origin: msg.origin, seq: msg.seq, ts: msg.ts, payload: msg.payload })
          const c = counts.get(msg.topic) ?? { n: 0, bytes: 0 }
          c.n++; c.bytes += size
          counts.set(msg.topic, c)
          if (msg.own != null) this.stmt.setPublishHead.run(msg.topic, msg.seq, msg.own.hash)
        }
        for (const [topic, c] of counts) this.stmt.topicCounts.run(c.n, c.bytes, topic)
      })()
    } catch (err) {
      for (const p of batch) this.pendingKeys.delete(pendingKey(p.msg.topic, p.msg.origin, p.msg.seq))
      // every seq reserved so far was in this batch (publish reserves and queues in one tick), so handing
      // the failed ones back keeps our own streams free of holes, and the chain linked to what is on disk
      for (const { msg } of batch) {
        const head = this.publishHead.get(msg.topic)
        if (msg.own != null && head != null && msg.seq <= head.seq) this.publishHead.set(msg.topic, { seq: msg.seq - 1, hash: msg.own.prev })
      }
      const e = translateWriteError(err, this.path)
      for (const p of batch) p.reject(e)
      wake()
      return
    }
    const rows: StoredMessage[] = []
    batch.forEach((p, i) => {
      this.pendingKeys.delete(pendingKey(p.msg.topic, p.msg.origin, p.msg.seq))
      const row = stored[i]
      if (row != null) {
        this.heldOf(row.topic, row.origin).set.add(row.seq)
        rows.push(row)
      }
    })
    for (const [topic, c] of counts) {
      const s = this.topicStats.get(topic)
      if (s != null) { s.messages += c.n; s.bytes += c.bytes }
    }
    // committed rows are delivered now (they survive a process crash; after a power loss before the fsync
    // a received message is pulled again from peers: at-least-once), but acked only once synced
    if (rows.length > 0) this.onCommit(rows)
    this.whenDurable(batch.length, err => {
      // on error the rows are committed but may not survive a power loss: do not ack them as durable
      if (err != null) for (const p of batch) p.reject(err)
      else batch.forEach((p, i) => p.resolve(stored[i]))
      wake()
      this.onAcked()
    })
    // count and byte limits are checked on every commit (in memory, cheap); age by the node's timer
    for (const topic of counts.keys()) {
      const st = this.topicStats.get(topic)
      if (st != null && (st.messages > st.retention.maxMessages || st.bytes > st.retention.maxBytes)) this.enforceLimits(topic)
    }
  }

  /**
   * Call done once the committed batch is on disk. One fsync runs at a time; batches committed meanwhile
   * share the next one (group commit). fsync of the WAL covers every frame written before it started.
   */
  private whenDurable (rows: number, done: (err: StoreError | null) => void): void {
    if (!this.durable) { done(null); return }
    this.unsynced.push({ rows, done })
    if (this.syncing == null) this.syncWal()
  }

  private syncWal (): void {
    const batches = this.unsynced
    this.unsynced = []
    this.syncing = batches
    let fd: number
    try {
      fd = this.walFile()
    } catch (err) {
      this.syncing = null
      for (const b of batches) b.done(translateWriteError(err, this.path))
      return
    }
    this.fsyncRunning = true
    fsync(fd, err => {
      this.fsyncRunning = false
      if (this.closed) { closeSync(fd); return } // close() synced and acked these already
      this.syncing = null
      const e = err != null ? translateWriteError(err, this.path) : null
      for (const b of batches) b.done(e)
      if (this.unsynced.length > 0 && !this.closed) this.syncWal()
    })
  }

  private walFile (): number {
    if (this.walFd == null) {
      this.walFd = openSync(`${this.path}-wal`, 'r')
      // the WAL's directory entry must be durable too, once
      const dir = openSync(dirname(this.path), 'r')
      try { fsyncSync(dir) } finally { closeSync(dir) }
    }
    return this.walFd
  }

  // ---- reading ----

  /** What we hold of each origin's stream in a topic, for the sync protocol. */
  summary (topic: string): OriginState[] {
    const t = this.held.get(topic)
    if (t == null) return []
    return [...t].map(([origin, h]) => ({ origin, low: h.low, ranges: h.set.ranges.map(r => [r[0], r[1]] as Range) }))
  }

  origins (topic: string): string[] { return [...(this.held.get(topic)?.keys() ?? [])] }

  /** low mark and held set of one origin in a topic (live objects: do not modify) */
  heldState (topic: string, origin: string): { low: number, set: RangeSet } | undefined {
    return this.held.get(topic)?.get(origin)
  }

  /** Raise the low mark: the node gives up on seqs <= low of this origin (gap timeout or retention). */
  raiseLow (topic: string, origin: string, low: number): void {
    const h = this.heldOf(topic, origin)
    if (low <= h.low) return
    h.low = low
    h.set.removeUpTo(low)
    this.stmt.setLow.run(topic, origin, low)
  }

  readOrigin (topic: string, origin: string, afterSeq: number, limit: number): StoredMessage[] {
    return (this.stmt.readOrigin.all(topic, origin, afterSeq, limit) as any[]).map(toMessage)
  }

  /** encoded envelopes of one origin with from <= seq <= to, in seq order */
  readRawRange (topic: string, origin: string, from: number, to: number, limit: number): Array<{ seq: number, raw: Uint8Array }> {
    return this.stmt.readRawRange.all(topic, origin, from, to, limit) as Array<{ seq: number, raw: Uint8Array }>
  }

  /** offset of the newest stored message (0 when empty) */
  lastOffset (): number {
    return (this.db.prepare('SELECT coalesce(max(id), 0) AS id FROM messages').get() as { id: number }).id
  }

  /** Local log of a topic: after a given offset (oldest first), or the last `limit` messages. */
  history (topic: string, opts: { afterOffset?: number, limit?: number } = {}): StoredMessage[] {
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), 10_000)
    if (opts.afterOffset === undefined) return (this.stmt.historyDesc.all(topic, limit) as any[]).map(toMessage).reverse()
    return (this.stmt.history.all(topic, opts.afterOffset, limit) as any[]).map(toMessage)
  }

  // ---- consumer cursors ----

  cursors (consumer: string, topic: string): Map<string, number> {
    const rows = this.stmt.cursors.all(consumer, topic) as Array<{ origin: string, seq: number }>
    return new Map(rows.map(r => [r.origin, r.seq]))
  }

  saveCursors (consumer: string, topic: string, cursors: Map<string, number>): void {
    this.assertOpen()
    this.db.transaction(() => {
      for (const [origin, seq] of cursors) this.stmt.setCursor.run(consumer, topic, origin, seq)
    })()
  }

  // ---- retention ----

  /** Delete the oldest messages of a topic while it is over its count or byte limit, or older than max age. */
  enforceLimits (topic: string, now = Date.now()): number {
    const s = this.topicStats.get(topic)
    if (s == null) return 0
    let pruned = 0
    const apply = (rows: Array<{ origin: string, seq: number, size: number }>): void => {
      const lows = new Map<string, number>()
      let bytes = 0
      for (const r of rows) {
        lows.set(r.origin, Math.max(lows.get(r.origin) ?? 0, r.seq))
        bytes += r.size
      }
      for (const [origin, low] of lows) this.raiseLow(topic, origin, low)
      this.stmt.topicCounts.run(-rows.length, -bytes, topic)
      s.messages -= rows.length; s.bytes -= bytes
      pruned += rows.length
    }
    this.db.transaction(() => {
      const over = s.messages - s.retention.maxMessages
      if (over > 0) apply(this.stmt.pruneOldest.all(topic, over) as any[])
      while (s.bytes > s.retention.maxBytes && s.messages > 0) {
        const rows = this.stmt.pruneOldest.all(topic, Math.max(1, Math.ceil(s.messages / 100))) as any[]
        if (rows.length === 0) break
        apply(rows)
      }
      if (s.retention.maxAgeMs > 0) {
        for (;;) {
          const rows = this.stmt.pruneOlderThan.all(topic, now - s.retention.maxAgeMs, 10_000) as any[]
          if (rows.length === 0) break
          apply(rows)
        }
      }
    })()
    return pruned
  }

  enforceAllLimits (now = Date.now()): number {
    let n = 0
    for (const topic of this.topicStats.keys()) n += this.enforceLimits(topic, now)
    return n
  }

  // ---- lifecycle ----

  close (): void {
    if (this.closed) return
    this.flush()
    // ack whatever still waits for an fsync with one last synchronous one
    const waiting = [...(this.syncing ?? []), ...this.unsynced]
    this.syncing = null
    this.unsynced = []
    let err: StoreError | null = null
    if (waiting.length > 0) {
      try { fsyncSync(this.walFile()) } catch (e) { err = translateWriteError(e, this.path) }
    }
    this.closed = true
    for (const b of waiting) b.done(err)
    // an fsync still running on the thread pool closes the file when it returns
    if (this.walFd != null && !this.fsyncRunning) closeSync(this.walFd)
    this.db.close()
  }

  private assertOpen (): void {
    if (this.closed) throw new StoreError('store is closed', 'STORE_CLOSED')
  }
}

function pendingKey (topic: string, origin: string, seq: number): string {
  return `${topic}\u0000${origin}\u0000${seq}`
}

// the payload lives only inside the stored envelope, so it is on disk once
function toMessage (r: { id: number, topic: string, origin: string, seq: number, ts: number, raw: Uint8Array }): StoredMessage {
  return { offset: r.id, topic: r.topic, origin: r.origin, seq: r.seq, ts: r.ts, payload: decodeEnvelope(r.raw).payload }
}

function sqliteCode (err: unknown): string {
  return typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : ''
}

function translateOpenError (err: unknown, path: string): Error {
  if (err instanceof StoreError) return err
  const code = sqliteCode(err)
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new StoreError(`data dir is in use: ${path} is locked by another gossipd process`, 'DATA_DIR_LOCKED', { cause: err })
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new StoreError(`store ${path} is corrupt or not a gossipd database (${(err as Error).message}); move it aside to start empty`, 'STORE_CORRUPT', { cause: err })
  }
  return new StoreError(`cannot open store ${path}: ${(err as Error).message}`, code || 'STORE_OPEN_FAILED', { cause: err })
}

function translateWriteError (err: unknown, path: string): StoreError {
  const code = sqliteCode(err)
  if (code === 'SQLITE_FULL') return new StoreError(`disk full: cannot write to ${path}; nothing was acked`, 'DISK_FULL', { cause: err })
  if (code.startsWith('SQLITE_IOERR')) return new StoreError(`I/O error writing ${path}: ${(err as Error).message}; nothing was acked`, 'STORE_IO', { cause: err })
  return new StoreError(`store write failed: ${(err as Error).message}`, code || 'STORE_WRITE_FAILED', { cause: err })
}
