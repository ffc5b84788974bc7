// Group commit. insert() queues a row; everything queued in one turn of the event loop is written in one
// transaction, and each row is acked only once an fsync of the WAL covers it, so an acked message survives
// kill -9 and power loss. The fsync runs on libuv's thread pool instead of inside SQLite's commit:
// better-sqlite3 is synchronous, and an fsync on the event loop (several ms, sometimes tens) stalled every
// message of the process behind it.
// The first failed fsync (of the WAL or its directory) fails the store for durability until it is reopened:
// Linux marks the pages of a failed writeback clean and reports the error once ("fsyncgate"; PostgreSQL
// panics on it since 2019), so a later fsync can succeed over a hole in the WAL. SQLite's recovery stops at
// the first frame whose cumulative checksum does not match, dropping every later frame with it: what is
// committed after the hole is lost at a crash however its fsync went. So nothing is acked after that, and
// new writes are refused (FSYNC_FAILED) instead of being committed only to vanish.
import { openSync, closeSync, fsync, fsyncSync } from 'node:fs'
import { dirname } from 'node:path'
import { translateWriteError, StoreError } from './db.js'
import type { NewMessage, StoredMessage } from './rows.js'

/** fs.fsync's shape; tests inject a failing one */
export type FsyncFn = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void

/**
 * The fsync after a commit failed: the row IS committed (readers see it, consumers got it, sync serves
 * it) but may not survive a power loss. Carries the row so the publisher can answer truthfully instead
 * of inviting a retry that would publish twice.
 */
export class CommittedNotDurableError extends StoreError {
  override name = 'CommittedNotDurableError'
  constructor (readonly row: StoredMessage, cause: StoreError) {
    super(`committed, but the fsync failed: ${cause.message}`, 'FSYNC_FAILED', { cause })
  }
}

/** The store failed for durability (first fsync failure): why, for every later write and for status. */
export function fsyncFailure (err: unknown, what: string): StoreError {
  return new StoreError(`the disk reported a write error: fsync of ${what} failed (${(err as Error)?.message ?? String(err)}); ` +
    'what was written since may be lost at a crash, so nothing is stored or acked as durable until the daemon restarts (check the disk and its kernel log)',
  'FSYNC_FAILED', { cause: err })
}

/** What a commit writes; the store supplies it. */
export interface BatchWriter {
  /**
   * Write the batch in one transaction, then bring in-memory state up to it; per message, its new row or
   * null (already held, or its topic is not kept). Throws, having written nothing, if the commit fails.
   */
  write (batch: NewMessage[]): Array<StoredMessage | null>
  /** The commit failed (err says why): give back what queuing these messages reserved. */
  failed (batch: NewMessage[], err: StoreError): void
  /** After a commit's rows were delivered (onCommit) and handed to the fsync. */
  committed (rows: StoredMessage[]): void
  /** The fsync covering this batch (the array write() got) succeeded, before its acks. */
  synced?: (batch: NewMessage[]) => void
}

interface Pending { msg: NewMessage, resolve: (m: StoredMessage | null) => void, reject: (e: Error) => void }
type Done = (err: StoreError | null) => void

export class GroupCommit {
  private readonly pending: Pending[] = []
  private readonly pendingKeys = new Set<string>()
  private flushScheduled = false
  private flushWaiters: Array<() => void> = []
  private isClosed = false
  private walFd?: number
  /** committed batches waiting for the next fsync, and those covered by the fsync now running */
  private unsynced: Array<{ rows: number, done: Done }> = []
  private syncing: typeof this.unsynced | null = null
  private fsyncRunning = false
  /** WAL fsyncs done and their total duration, for metrics */
  readonly fsyncStats = { count: 0, seconds: 0 }
  /** set by the first failed fsync, never cleared: only reopening the store starts clean */
  private failedWith: StoreError | null = null
  /** messages refused since: not stored (their origin or a peer still has them; own ones were never published) */
  private refusedCount = 0
  /** called after each commit with the rows it added (in commit order) */
  onCommit: (rows: StoredMessage[]) => void = () => {}
  /** called when a batch has been acked (or failed): pendingWrites went down without a new commit */
  onAcked: () => void = () => {}
  /** a listener above threw; the batch is settled regardless (a listener's bug must not hang publishes) */
  onListenerError: (err: unknown) => void = () => {}
  /** called once, when the first fsync fails (see failure) */
  onFailed: (err: StoreError) => void = () => {}

  /** durable: acks wait for an fsync of the WAL (synchronous FULL) */
  constructor (private readonly path: string, private readonly durable: boolean, private readonly writer: BatchWriter,
    private readonly fsyncFn: FsyncFn = fsync, private readonly fsyncDirFn: (fd: number) => void = fsyncSync) {}

  get closed (): boolean { return this.isClosed }

  /** why the store failed for durability (an fsync failed), or null */
  get failure (): StoreError | null { return this.failedWith }

  /** messages refused because the store had failed */
  get refused (): number { return this.refusedCount }

  /** queued and not yet committed */
  isQueued (topic: string, origin: string, seq: number): boolean {
    return this.pendingKeys.has(pendingKey(topic, origin, seq))
  }

  /** rows queued but not yet acked (not committed, or committed and waiting for fsync) */
  get pendingWrites (): number {
    let n = this.pending.length
    for (const b of this.unsynced) n += b.rows
    for (const b of this.syncing ?? []) n += b.rows
    return n
  }

  /** Queue a message for the next commit; resolves as insert() does. */
  queue (msg: NewMessage): Promise<StoredMessage | null> {
    if (this.failedWith != null) return Promise.reject(this.refuse([msg]))
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
    if (this.pending.length === 0 || this.isClosed) return
    await new Promise<void>(resolve => this.flushWaiters.push(resolve))
  }

  /**
   * Resolves once everything committed so far (by this class or directly, as cursors are) is synced:
   * it shares the next group fsync with the batches waiting for it.
   */
  async sync (): Promise<void> {
    if (this.isClosed) throw new StoreError('store is closed', 'STORE_CLOSED')
    await new Promise<void>((resolve, reject) => this.whenDurable(0, err => { if (err != null) reject(err); else resolve() }))
  }

  /** Commit everything queued in one transaction; it is acked once the fsync covering it is done. */
  flush (): void {
    this.flushScheduled = false
    const waiters = this.flushWaiters.splice(0)
    const wake = (): void => { for (const w of waiters) w() }
    if (this.pending.length === 0 || this.isClosed) { wake(); return }
    this.commitPending(wake)
  }

  private commitPending (wake: () => void): void {
    const batch = this.pending.splice(0, this.pending.length)
    const msgs = batch.map(p => p.msg)
    if (this.failedWith != null) {
      // queued before the fsync failed: refused unwritten, as queue() refuses them now
      for (const p of batch) this.pendingKeys.delete(pendingKey(p.msg.topic, p.msg.origin, p.msg.seq))
      const e = this.refuse(msgs)
      for (const p of batch) p.reject(e)
      wake()
      this.listener(() => this.onAcked())
      return
    }
    let stored: Array<StoredMessage | null>
    try {
      stored = this.writer.write(msgs)
    } catch (err) {
      for (const p of batch) this.pendingKeys.delete(pendingKey(p.msg.topic, p.msg.origin, p.msg.seq))
      const e = translateWriteError(err, this.path)
      this.writer.failed(msgs, e)
      for (const p of batch) p.reject(e)
      wake()
      return
    }
    for (const p of batch) this.pendingKeys.delete(pendingKey(p.msg.topic, p.msg.origin, p.msg.seq))
    const rows = stored.filter((r): r is StoredMessage => r != null)
    // committed rows are delivered now (they survive a process crash; after a power loss before the fsync
    // a received message is pulled again from peers: at-least-once), but acked only once synced
    if (rows.length > 0) this.listener(() => this.onCommit(rows))
    this.whenDurable(batch.length, err => {
      // on error the rows are committed but may not survive a power loss: not acked as durable, but
      // the error says so and carries the committed row (a retry would store it twice)
      if (err == null) this.listener(() => this.writer.synced?.(msgs))
      if (err != null) batch.forEach((p, i) => p.reject(stored[i] != null ? new CommittedNotDurableError(stored[i], err) : err))
      else batch.forEach((p, i) => p.resolve(stored[i]))
      wake()
      this.listener(() => this.onAcked())
    })
    this.listener(() => this.writer.committed(rows))
  }

  /** Not written: the store has failed. Gives back what queuing reserved; the error says why. */
  private refuse (msgs: NewMessage[]): StoreError {
    const cause = this.failedWith!
    const e = new StoreError(`not stored: ${cause.message}`, 'FSYNC_FAILED', { cause })
    this.refusedCount += msgs.length
    this.writer.failed(msgs, e)
    return e
  }

  /** The first fsync failure: from now on nothing is acked as durable (see the top of this file). */
  private fail (e: StoreError): void {
    if (this.failedWith != null) return
    this.failedWith = e
    this.listener(() => this.onFailed(e))
  }

  private listener (f: () => void): void {
    try { f() } catch (err) { try { this.onListenerError(err) } catch { /* nowhere left to report */ } }
  }

  /**
   * Call done once the committed batch is on disk. One fsync runs at a time; batches committed meanwhile
   * share the next one (group commit). fsync of the WAL covers every frame written before it started.
   */
  private whenDurable (rows: number, done: Done): void {
    if (!this.durable) { done(null); return }
    if (this.failedWith != null) { done(this.failedWith); return }
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
      const e = err instanceof StoreError ? err : translateWriteError(err, this.path)
      for (const b of batches) b.done(e)
      return
    }
    this.fsyncRunning = true
    const started = process.hrtime.bigint()
    this.fsyncFn(fd, err => {
      this.fsyncRunning = false
      this.fsyncStats.count++
      this.fsyncStats.seconds += Number(process.hrtime.bigint() - started) / 1e9
      if (this.isClosed) { closeSync(fd); return } // close() synced and acked these already
      this.syncing = null
      if (err != null) this.fail(fsyncFailure(err, `${this.path}-wal`))
      for (const b of batches) b.done(this.failedWith)
      if (this.unsynced.length === 0 || this.isClosed) return
      // committed while this fsync ran: after a failure a later fsync proves nothing about them
      if (this.failedWith == null) { this.syncWal(); return }
      const late = this.unsynced.splice(0)
      for (const b of late) b.done(this.failedWith)
    })
  }

  private walFile (): number {
    if (this.failedWith != null) throw this.failedWith
    if (this.walFd == null) {
      const fd = openSync(`${this.path}-wal`, 'r')
      // the WAL's directory entry must be durable too, once; if that fsync fails the WAL may be gone at a
      // crash, which fails the store as a failed fsync of the WAL does
      try {
        const dir = openSync(dirname(this.path), 'r')
        try { this.fsyncDirFn(dir) } catch (err) { this.fail(fsyncFailure(err, `the directory ${dirname(this.path)}`)) } finally { closeSync(dir) }
      } catch (err) {
        closeSync(fd)
        throw err
      }
      if (this.failedWith != null) { closeSync(fd); throw this.failedWith }
      this.walFd = fd
    }
    return this.walFd
  }

  /** Commit what is queued and ack whatever still waits for an fsync with one last synchronous one. */
  close (): void {
    if (this.isClosed) return
    this.flush()
    const waiting = [...(this.syncing ?? []), ...this.unsynced]
    this.syncing = null
    this.unsynced = []
    let err: StoreError | null = this.failedWith
    if (waiting.length > 0 && err == null) {
      try { fsyncSync(this.walFile()) } catch (e) { err = e instanceof StoreError ? e : fsyncFailure(e, `${this.path}-wal`) }
    }
    this.isClosed = true
    for (const b of waiting) b.done(err)
    // an fsync still running on the thread pool closes the file when it returns
    if (this.walFd != null && !this.fsyncRunning) closeSync(this.walFd)
  }
}

function pendingKey (topic: string, origin: string, seq: number): string {
  return `${topic}\u0000${origin}\u0000${seq}`
}
