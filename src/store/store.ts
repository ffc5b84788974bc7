// The durable local queue: one SQLite file (WAL) in the data directory. This class composes the parts:
// db.ts opens it, topics.ts and held.ts keep in memory what it holds, wal.ts group-commits and fsyncs
// writes, publish.ts keeps our own streams' heads, log.ts reads, cursors.ts and retention.ts do the rest.
// It stores envelopes as opaque bytes: the caller's RowCodec reads the few fields it needs out of them.
// space.ts keeps a reserve so that cursors and received messages can still be written on a full disk.
import { makeDir } from './make-dir.js'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { openDatabase, StoreError, translateWriteError, INLINE_CHECKPOINT_PAGES, BACKSTOP_CHECKPOINT_PAGES, TIGHT_CHECKPOINT_PAGES, WAL_SIZE_LIMIT, TIGHT_WAL_SIZE_LIMIT, type CheckpointMode } from './db.js'
import { BackgroundCheckpointer, type CheckpointStats } from './checkpointer.js'
import { SpaceKeeper } from './space.js'
import { OwnUnsynced } from './own-unsynced.js'
import { HeldIndex, type Held, type OriginState } from './held.js'
export { settledUpTo, firstHole, type Held } from './held.js'
import { Topics, type TopicInfo } from './topics.js'
import { PublishHeads } from './publish.js'
import { GroupCommit, CommittedNotDurableError, type FsyncFn } from './wal.js'
import { DEFAULT_MSG_ID_LIMITS, MsgIds, type MsgIdLimits, type PublishedRecord } from './msg-ids.js'
import { LogReader } from './log.js'
import { ForkTable, type ForkRecord } from './forks.js'
import { Cursors } from './cursors.js'
import { Offsets } from './offsets.js'
import { DEFAULT_RETENTION, PRUNE_PASS_ROWS, Pruner, type PruneReport, type Retention } from './retention.js'
import type { MessageRow, NewMessage, RowCodec, StoredMessage } from './rows.js'

export { StoreError, CommittedNotDurableError, PRUNE_PASS_ROWS }
export type { FsyncFn, MsgIdLimits, PublishedRecord, CheckpointMode, CheckpointStats }
export type { NewMessage, OriginState, PruneReport, RowCodec, StoredMessage, TopicInfo, ForkRecord }

/** A stored row that could not be decoded, moved to the quarantine table; its seq is a hole again. */
export interface QuarantineReport { topic: string, origin: string, seq: number, offset: number, reason: string }

export interface StoreOptions {
  /** reads payloads and chain hashes out of stored envelopes */
  codec: RowCodec
  /** retention for topics that have none of their own */
  retention?: Partial<Retention>
  /** SQLite synchronous level; FULL (the default) makes an acked write survive power loss */
  synchronous?: 'FULL' | 'NORMAL'
  /**
   * The peer id that publishes from this data dir. The store is bound to the first one it is given;
   * another one is refused (IDENTITY_MISMATCH): it would continue the bound origin's seqs and chain.
   */
  origin?: string
  /** bytes kept free in a reserve file, given up when the disk fills (default 256 KiB; 0: none) */
  reserveBytes?: number
  /** period of the WAL checkpoint (TRUNCATE) and of the check for freed space (default 60 s; 0: never) */
  maintenanceMs?: number
  /** how long and how many publish idempotency keys are remembered (default 2 min, 100,000) */
  msgIds?: Partial<MsgIdLimits>
  /** fault injection for tests: the fsync of the WAL after each group commit */
  fsync?: FsyncFn
  /** fault injection for tests: the one fsync of the data dir, when the WAL is first opened for its fsyncs */
  fsyncDir?: (fd: number) => void
  /**
   * where WAL checkpoints run (default auto: inside SQLite's commits on this thread at moderate rates, on
   * a worker thread while over ~1 MiB/s of payload is committed; background: always the worker, started
   * once a few MB were written; inline: always this thread, and no second thread or connection)
   */
  checkpoints?: CheckpointMode
  /** told once if the background checkpointer cannot run (the store then checkpoints inline) */
  onCheckpointerFailed?: (err: Error) => void
}

export class Store {
  readonly path: string
  private readonly db: Database.Database
  /** the connection holding the data dir's lock */
  private readonly lockDb: Database.Database
  private readonly checkpointer?: BackgroundCheckpointer
  private readonly topicTable: Topics
  private readonly held: HeldIndex
  private readonly heads: PublishHeads
  private readonly log: LogReader
  private readonly cursorTable: Cursors
  private readonly pruner: Pruner
  private readonly wal: GroupCommit
  private readonly space: SpaceKeeper
  private readonly msgIds: MsgIds
  private readonly forkTable: ForkTable
  /** own messages committed but not yet fsynced: not served (own-unsynced.ts) */
  private readonly ownUnsynced = new OwnUnsynced()
  private readonly insertRow: Database.Statement
  private readonly offsets: Offsets
  private readonly quarantineRow: Database.Statement
  private readonly deleteRow: Database.Statement
  private quarantineCount: number
  /** SQLite's checkpoint threshold while the volume has room (pages) */
  private checkpointPages: number
  private maintenanceTimer?: NodeJS.Timeout
  /** told what each retention pass removed, per topic */
  onPrune: (r: PruneReport) => void = () => {}
  /** told about each row moved to quarantine */
  onQuarantine: (q: QuarantineReport) => void = () => {}

  constructor (dataDir: string, opts: StoreOptions) {
    makeDir(dataDir)
    this.path = join(dataDir, 'queue.sqlite')
    const defaults = { ...DEFAULT_RETENTION, ...opts.retention }
    const checkpoints = opts.checkpoints ?? 'auto'
    const { db, durable, lock } = openDatabase(this.path, opts.synchronous ?? 'FULL', checkpoints)
    this.db = db
    this.lockDb = lock
    try {
      if (opts.origin != null) this.bindOrigin(dataDir, opts.origin)
      this.offsets = new Offsets(db)
    } catch (err) {
      db.close()
      lock.close()
      throw err
    }
    this.checkpointPages = checkpoints === 'background' ? BACKSTOP_CHECKPOINT_PAGES : INLINE_CHECKPOINT_PAGES
    if (checkpoints !== 'inline') {
      this.checkpointer = new BackgroundCheckpointer(this.path, err => {
        // SQLite's own checkpoints again, on this thread: slower commits, but the WAL stays bounded
        this.setCheckpointPages(INLINE_CHECKPOINT_PAGES)
        opts.onCheckpointerFailed?.(err)
      }, checkpoints === 'auto' ? { onBulk: bulk => { this.setCheckpointPages(bulk ? BACKSTOP_CHECKPOINT_PAGES : INLINE_CHECKPOINT_PAGES) } } : {})
    }
    this.topicTable = new Topics(db, defaults)
    this.held = new HeldIndex(db)
    this.heads = new PublishHeads(db, raw => opts.codec.bodyHash(raw))
    this.log = new LogReader(db, opts.codec, (row, err) => this.quarantine(row, err))
    this.cursorTable = new Cursors(db)
    this.msgIds = new MsgIds(db, { ...DEFAULT_MSG_ID_LIMITS, ...opts.msgIds })
    this.forkTable = new ForkTable(db)
    this.pruner = new Pruner(db, this.topicTable, this.held, r => { try { this.onPrune(r) } catch { /* a listener's bug is not retention's */ } })
    // a row already held is skipped; any other conflict (an offset in use) fails the commit loudly
    this.insertRow = db.prepare('INSERT INTO messages (id, topic, origin, seq, ts, size, raw, recv) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (topic, origin, seq) DO NOTHING')
    this.quarantineRow = db.prepare('INSERT OR REPLACE INTO quarantine (id, topic, origin, seq, ts, raw, reason, at) SELECT id, topic, origin, seq, ts, raw, ?, ? FROM messages WHERE id = ?')
    this.deleteRow = db.prepare('DELETE FROM messages WHERE id = ? RETURNING size')
    this.quarantineCount = (db.prepare('SELECT count(*) AS n FROM quarantine').get() as { n: number }).n
    this.space = new SpaceKeeper(dataDir, opts.reserveBytes ?? 256 * 1024, () => this.checkpoint(250), () => this.applyWalLimits())
    this.wal = new GroupCommit(this.path, durable, {
      write: batch => this.writeBatch(batch),
      synced: batch => this.ownUnsynced.synced(batch),
      failed: (batch, err) => {
        this.heads.handBack(batch)
        if (err.code === 'DISK_FULL') this.space.exhausted()
      },
      committed: rows => {
        // retention runs again on its timer if this fails (e.g. the delete itself needs space)
        try { this.pruner.afterCommit(new Set(rows.map(r => r.topic))) } catch (err) { this.translate(err) }
      },
    }, opts.fsync, opts.fsyncDir)
    this.applyWalLimits()
    const every = opts.maintenanceMs ?? 60_000
    if (every > 0) {
      this.maintenanceTimer = setInterval(() => this.maintain(), every)
      this.maintenanceTimer.unref()
    }
  }

  /** SQLite's checkpoint threshold for the mode (and bulk state): kept while the volume has room */
  private setCheckpointPages (pages: number): void {
    this.checkpointPages = pages
    this.applyWalLimits()
  }

  /**
   * Short of space (space.ts), the WAL is checkpointed every few pages and cut back to a little when it
   * restarts, whatever the mode, so a checkpoint on a full disk fits in the reserve; otherwise as the mode says.
   */
  private applyWalLimits (): void {
    if (this.wal.closed) return
    const tight = this.space.tight
    try {
      this.db.pragma(`wal_autocheckpoint = ${tight ? TIGHT_CHECKPOINT_PAGES : this.checkpointPages}`)
      this.db.pragma(`journal_size_limit = ${tight ? TIGHT_WAL_SIZE_LIMIT : WAL_SIZE_LIMIT}`)
    } catch { /* closing */ }
  }

  /** Refuse a data dir written under another origin; a data dir from before binding adopts this one. */
  private bindOrigin (dataDir: string, origin: string): void {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'origin'").get() as { value: string } | undefined
    if (row == null) {
      try { this.db.prepare("INSERT INTO meta (key, value) VALUES ('origin', ?)").run(origin) } catch (err) { throw translateWriteError(err, this.path) }
      return
    }
    if (row.value !== origin) {
      throw new StoreError(`data dir ${dataDir} belongs to peer ${row.value}, but the identity key is peer ${origin}: ` +
        `publishing with it would continue the other peer's sequence numbers and leave permanent holes at every subscriber. ` +
        `Restore the data dir's identity.key, or give the new key its own data dir`, 'IDENTITY_MISMATCH')
    }
  }

  /** the origin this data dir is bound to (undefined until a node opened it with one) */
  get origin (): string | undefined {
    return (this.db.prepare("SELECT value FROM meta WHERE key = 'origin'").get() as { value: string } | undefined)?.value
  }

  /** rows moved to quarantine (undecodable), over the life of this data dir */
  get quarantined (): number { return this.quarantineCount }

  /** WAL fsyncs done and their total duration (seconds), for metrics */
  get fsyncStats (): { readonly count: number, readonly seconds: number } { return this.wal.fsyncStats }

  /** background checkpoints done, failed, and their time on the worker (undefined: inline mode) */
  get checkpointStats (): Readonly<CheckpointStats> | undefined { return this.checkpointer?.stats }

  /** true while the disk is short of space: own publishes are refused, received messages and acks go on */
  get lowOnSpace (): boolean { return this.space.low }

  /**
   * Why the store failed for durability: an fsync of the WAL (or its directory) failed. From then on every
   * insert is refused (FSYNC_FAILED) and nothing is acked as durable, until the store is reopened (wal.ts).
   */
  get failure (): StoreError | null { return this.wal.failure }

  /** messages refused because the store had failed */
  get refused (): number { return this.wal.refused }

  /**
   * Move an undecodable row out of the log, so everything else is served, and make its seq a hole again
   * so sync fetches a good copy from a peer. If even that write fails, the row is skipped this time.
   */
  private quarantine (row: MessageRow, err: unknown): void {
    const reason = (err as Error)?.message ?? String(err)
    let gone: { size: number } | undefined
    try {
      this.db.transaction(() => {
        this.quarantineRow.run(reason, Date.now(), row.id)
        gone = this.deleteRow.get(row.id) as { size: number } | undefined
        if (gone != null) this.topicTable.writeCounts(row.topic, -1, -gone.size)
        // the origin stays known across a restart, as in memory, though this was its only row: a topic at its
        // origin limit (origin-limit.ts) would refuse the copy fetched again, and let a new origin in instead
        this.held.writeLow(row.topic, row.origin, 0)
      })()
    } catch (e) {
      this.translate(e)
      return
    }
    // memory follows only once committed: a commit that fails (a full disk) is rolled back
    const s = this.topicTable.get(row.topic)
    if (gone != null && s != null) { s.messages--; s.bytes -= gone.size }
    this.quarantineCount++
    this.held.remove(row.topic, row.origin, row.seq)
    try { this.onQuarantine({ topic: row.topic, origin: row.origin, seq: row.seq, offset: row.id, reason }) } catch { /* listener's bug */ }
  }

  /**
   * Quarantine a held row that a check above the store found damaged (its signature no longer verifies),
   * as an undecodable one is: its seq becomes a hole again. False if it is not held or could not be moved.
   */
  quarantineHeld (topic: string, origin: string, seq: number, reason: string): boolean {
    const row = this.db.prepare('SELECT id, topic, origin, seq, ts, raw FROM messages WHERE topic = ? AND origin = ? AND seq = ?').get(topic, origin, seq) as MessageRow | undefined
    if (row == null) return false
    this.quarantine(row, new Error(reason))
    return !this.held.has(topic, origin, seq)
  }

  /** SQLite error -> StoreError; a full disk also gives up the reserve and checkpoints the WAL */
  private translate (err: unknown): StoreError {
    const e = err instanceof StoreError ? err : translateWriteError(err, this.path)
    if (e.code === 'DISK_FULL') this.space.exhausted()
    return e
  }

  /** run a synchronous write; its failure surfaces as a StoreError */
  private guard<T> (write: () => T): T {
    this.assertOpen()
    try { return write() } catch (err) { throw this.translate(err) }
  }

  /**
   * Fold the WAL into the database and truncate it (frees its space). Best effort. SQLite's checkpoint
   * lock never waits: while the worker is checkpointing this one answers busy at once, so on a full disk
   * (retryBusyMs) it is tried again for a little while, blocking, rather than leaving the WAL unshrunk.
   */
  checkpoint (retryBusyMs = 0): boolean {
    const until = Date.now() + retryBusyMs
    for (;;) {
      if (this.wal.closed) return false
      let busy: boolean
      try {
        const [r] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>
        busy = r?.busy !== 0
      } catch {
        return false
      }
      if (!busy) { this.checkpointer?.reset(); return true }
      if (Date.now() >= until) return false
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
    }
  }

  /** The periodic job (also callable): checkpoint, and take the reserve back once space was freed. */
  maintain (): void {
    if (this.wal.closed) return
    this.checkpoint()
    this.space.recover()
  }

  /** called after each commit with the rows it added (in commit order) */
  get onCommit (): (rows: StoredMessage[]) => void { return this.wal.onCommit }
  set onCommit (f: (rows: StoredMessage[]) => void) { this.wal.onCommit = f }
  /** called when a batch has been acked (or failed): pendingWrites went down without a new commit */
  get onAcked (): () => void { return this.wal.onAcked }
  set onAcked (f: () => void) { this.wal.onAcked = f }
  /** called once, when the store fails for durability (see failure) */
  get onFailed (): (err: StoreError) => void { return this.wal.onFailed }
  set onFailed (f: (err: StoreError) => void) { this.wal.onFailed = f }
  /** an onCommit/onAcked listener threw (the batch was settled anyway) */
  get onListenerError (): (err: unknown) => void { return this.wal.onListenerError }
  set onListenerError (f: (err: unknown) => void) { this.wal.onListenerError = f }

  // ---- topics ----

  /** Start keeping a topic (idempotent). Retention given here overrides the store defaults for it. */
  addTopic (topic: string, retention: Partial<Retention> = {}): void {
    this.guard(() => {
      this.topicTable.add(topic, retention)
      // rejoined with rows kept, or with tighter limits than before
      const s = this.topicTable.get(topic)
      if (s != null && (s.messages > s.retention.maxMessages || s.bytes > s.retention.maxBytes)) this.pruner.enforce(topic)
    })
  }

  /**
   * Stop keeping a topic; with purge its messages, origin marks, cursors and publish idempotency keys are
   * deleted too (a key naming a purged message would answer a new publish as a duplicate of nothing).
   * Without purge the rows stay, and so do their keys.
   */
  removeTopic (topic: string, purge = false): void {
    let keys = 0
    this.guard(() => this.topicTable.remove(topic, purge, () => { keys = this.msgIds.deleteTopic(topic) }))
    this.msgIds.forgotten(keys)
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

  /** The first publish with this idempotency key on this topic, if still within the duplicate window. */
  findPublished (topic: string, msgId: string): PublishedRecord | undefined {
    this.assertOpen()
    return this.msgIds.find(topic, msgId)
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
   * After a failed fsync it rejects at once, writing nothing (FSYNC_FAILED, see failure).
   * The store takes the message's buffers over: the caller must not change them (onCommit hands the same
   * payload on).
   */
  insert (msg: NewMessage): Promise<StoredMessage | null> {
    this.assertOpen()
    if (this.has(msg.topic, msg.origin, msg.seq)) return Promise.resolve(null)
    if (msg.own != null && this.space.low && !this.space.recover()) {
      // the reserve is spent: keep what is left for acks and messages peers already acked
      this.heads.handBack([msg])
      return Promise.reject(new StoreError(`disk full: ${this.path} is out of space (reserve used up); publishing is refused until space is freed; nothing was acked`, 'DISK_FULL'))
    }
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
    const recv = Date.now()
    const commit = this.db.transaction(() => {
      for (const msg of batch) {
        if (!this.topicTable.has(msg.topic)) { stored.push(null); continue }
        const size = msg.raw.byteLength
        const offset = this.offsets.peek()
        const res = this.insertRow.run(offset, msg.topic, msg.origin, msg.seq, msg.ts, size, msg.raw, recv)
        if (res.changes === 0) { stored.push(null); continue }
        this.offsets.used()
        stored.push({ offset, topic: msg.topic, origin: msg.origin, seq: msg.seq, ts: msg.ts, payload: msg.payload })
        const c = counts.get(msg.topic) ?? { n: 0, bytes: 0 }
        c.n++; c.bytes += size
        counts.set(msg.topic, c)
        this.heads.write(msg)
        if (msg.own?.msgId != null) this.msgIds.write({ topic: msg.topic, msgId: msg.own.msgId, origin: msg.origin, seq: msg.seq, ts: msg.ts, offset }, recv)
      }
      for (const [topic, c] of counts) this.topicTable.writeCounts(topic, c.n, c.bytes)
    })
    try { commit() } catch (err) { this.offsets.rolledBack(); throw err }
    this.ownUnsynced.committed(batch)
    for (const row of stored) if (row != null) this.held.add(row.topic, row.origin, row.seq)
    for (const [topic, c] of counts) {
      const s = this.topicTable.get(topic)
      if (s != null) { s.messages += c.n; s.bytes += c.bytes }
    }
    let bytes = 0
    for (const c of counts.values()) bytes += c.bytes
    // committed: nothing after this may turn the batch into a reported failure (a retry would store it twice)
    try { this.checkpointer?.wrote(bytes) } catch { /* a checkpoint is only due later */ }
    try { this.space.wrote(bytes) } catch { /* looked at again after the next commit */ }
    return stored
  }

  // ---- reading ----

  /** What we hold of each origin's stream in a topic, for the sync protocol. */
  summary (topic: string): OriginState[] { return this.held.summary(topic) }
  /** changes whenever summary(topic) may have changed: a cache key for what is derived from it */
  heldVersion (topic: string): number { return this.held.version(topic) }
  /** changes whenever what is held of any topic may have changed */
  get heldChanges (): number { return this.held.changes }

  origins (topic: string): string[] { return this.held.origins(topic) }
  /** how many origins of a topic are known: held, or with marks left after retention */
  originCount (topic: string): number { return this.held.originCount(topic) }

  /** low mark and held set of one origin in a topic (live objects: do not modify) */
  heldState (topic: string, origin: string): Held | undefined {
    return this.held.state(topic, origin)
  }

  /** Raise the low mark: seqs <= low of this origin are done, a copy is dropped (retention). */
  raiseLow (topic: string, origin: string, low: number): void { this.guard(() => this.held.raiseLow(topic, origin, low)) }

  /** Give up on seqs <= skip of this origin: not waited for, still asked for and stored if a copy comes (HeldIndex.raiseSkip). */
  raiseSkip (topic: string, origin: string, skip: number): void { this.guard(() => this.held.raiseSkip(topic, origin, skip)) }

  /**
   * The highest seq of a stream this node may serve to peers: our own stream stops below its oldest row
   * not yet on disk (own-unsynced.ts); any other, no limit.
   */
  servableUpTo (topic: string, origin: string): number { return this.ownUnsynced.servableUpTo(topic, origin) }

  readOrigin (topic: string, origin: string, afterSeq: number, limit: number): StoredMessage[] {
    return this.log.readOrigin(topic, origin, afterSeq, limit)
  }

  /** encoded envelopes of one origin with from <= seq <= to, in seq order */
  readRawRange (topic: string, origin: string, from: number, to: number, limit: number): Array<{ seq: number, raw: Uint8Array }> {
    return this.log.readRawRange(topic, origin, from, to, limit)
  }

  /** offset of the newest stored message (0 when empty) */
  lastOffset (): number { return this.log.lastOffset() }

  /** offset of the first message of a topic received at or after `time` (by this node's clock); later ones get higher offsets */
  offsetReceivedSince (topic: string, time: number): number {
    return this.log.firstReceivedSince(topic, time) ?? this.offsets.peek()
  }

  /** Local log of a topic: after a given offset (oldest first), or the last `limit` messages. */
  history (topic: string, opts: { afterOffset?: number, limit?: number } = {}): StoredMessage[] {
    return this.log.history(topic, opts)
  }

  // ---- forks ----

  /** Remember a forked stream (the lower seq wins). Throws StoreError. */
  recordFork (f: ForkRecord): void { this.guard(() => this.forkTable.write(f)) }

  /** every forked stream remembered */
  forks (): ForkRecord[] { this.assertOpen(); return this.forkTable.list() }

  // ---- consumer cursors ----

  cursors (consumer: string, topic: string): Map<string, number> { return this.cursorTable.get(consumer, topic) }

  /** Commit cursors (survives a process crash); await sync() for power loss. Throws StoreError. */
  saveCursors (consumer: string, topic: string, cursors: ReadonlyMap<string, number>): void {
    this.guard(() => this.cursorTable.save(consumer, topic, cursors))
  }

  /** Resolves once everything committed so far is fsynced (shares the group commit's fsync). */
  async sync (): Promise<void> {
    this.assertOpen()
    await this.wal.sync()
  }

  // ---- retention ----

  /** Delete the oldest messages of a topic while it is over its count or byte limit, or older than max age; at most PRUNE_PASS_ROWS a call. */
  enforceLimits (topic: string, now = Date.now()): number { return this.guard(() => this.pruner.enforce(topic, now)) }

  /** enforceLimits on every topic, at most PRUNE_PASS_ROWS in all: a return of PRUNE_PASS_ROWS means there may be more */
  enforceAllLimits (now = Date.now()): number { return this.guard(() => this.pruner.enforceAll(now)) }

  // ---- lifecycle ----

  close (): void {
    if (this.wal.closed) return
    if (this.maintenanceTimer != null) clearInterval(this.maintenanceTimer)
    // the checkpointer first: the final flush below must not start a worker, and the store's connection
    // must be the last to close (it folds the WAL in and removes it)
    this.checkpointer?.close()
    this.wal.close()
    // everything is committed and synced: the next open need not skip offsets (offsets.ts)
    try { this.offsets.closing() } catch { /* e.g. a full disk: the next open skips a block instead */ }
    this.db.close()
    this.lockDb.close()
  }

  private assertOpen (): void {
    if (this.wal.closed) throw new StoreError('store is closed', 'STORE_CLOSED')
  }
}
