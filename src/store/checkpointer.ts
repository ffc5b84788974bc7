// WAL checkpoints on a worker thread. SQLite's automatic checkpoint runs inside the commit that crosses
// its threshold, on the committing thread: it copies the WAL into the database and fsyncs both, and on
// this machine that was ~0.7 s of the main thread per 50,000 messages of 1 KiB (two fsyncs of several
// MB every ~4 MB written), more than the commits themselves. Here a second connection, on its own
// thread, runs a PASSIVE checkpoint after every few MB committed: it never blocks the writer, and
// SQLite orders it safely (the WAL is synced before it is copied, the database after). The thread starts
// only once that much has been written, so a quiet node or a short test never pays for it.
//
// At moderate rates the worker costs latency instead (measured, 5 nodes in one process at 200 msg/s of
// 1 KiB: publish-to-consumer p99 100-250 ms against 80-110 inline): a checkpoint every few MB of payload
// leaves the WAL growing by a whole page per table and index on every small commit, and the WAL fsyncs
// acks wait for got slower (mean 1.9 against 1.4 ms); checkpointing more often on the worker was worse
// still. So in 'auto' mode (the default) SQLite's own small checkpoints run inline until the payload
// committed within one second reaches BULK_BYTES_PER_SECOND; from then until a second below it, the
// worker checkpoints and SQLite's threshold is raised to a backstop (the store flips it via onBulk).
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

/** bytes committed between two background checkpoints (SQLite's own default is ~4 MB of WAL pages) */
export const CHECKPOINT_EVERY_BYTES = 4 * 1024 * 1024
/** payload committed within one second from which 'auto' mode checkpoints on the worker (~1,000 msg/s of 1 KiB) */
export const BULK_BYTES_PER_SECOND = 1024 * 1024
const RATE_WINDOW_MS = 1_000

export interface CheckpointStats {
  /** checkpoints done by the worker, and the seconds they took (on the worker's thread) */
  count: number
  seconds: number
  /** checkpoints that failed (e.g. a full disk); the WAL keeps the data and the next one retries */
  failures: number
  lastError?: string
}

/**
 * Run with eval, as CommonJS or as a module (a parent started with --input-type=module makes it one), so
 * it imports rather than requires; better-sqlite3 is resolved by the main thread, so the worker finds it
 * wherever gossipd is installed.
 */
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads')
  const closed = new Int32Array(workerData.closed)
  let db
  try {
    const Database = (await import(workerData.module)).default
    db = new Database(workerData.path, { timeout: 0, fileMustExist: true })
  } catch (err) {
    parentPort.postMessage({ fatal: String(err && err.message) })
    Atomics.store(closed, 0, 1); Atomics.notify(closed, 0)
    parentPort.close()
    return
  }
  // synchronous NORMAL (never lower): the checkpoint syncs the WAL before copying it and the database after
  db.pragma('synchronous = NORMAL')
  parentPort.on('message', m => {
    if (m === 'close') {
      try { db.close() } catch {}
      Atomics.store(closed, 0, 1); Atomics.notify(closed, 0)
      parentPort.close()
      return
    }
    const t = performance.now()
    try {
      const [r] = db.pragma('wal_checkpoint(PASSIVE)')
      parentPort.postMessage({ ms: performance.now() - t, behind: r.checkpointed < r.log })
    } catch (err) {
      parentPort.postMessage({ ms: performance.now() - t, error: String(err && err.code) + ': ' + String(err && err.message) })
    }
  })
})()
`

interface Reply { ms?: number, error?: string, fatal?: string, behind?: boolean }

/**
 * How long close() waits for the worker to close its connection. The store's own connection must be the
 * last one to close (it then folds the WAL in and removes it, as without a worker); a worker left holding
 * its connection would make a store reopened at once in this process fail as "locked".
 */
const CLOSE_WAIT_MS = 5_000
/** commits landed during a checkpoint that did not catch up: the next one after this pause, so the WAL can restart from its beginning */
const CATCH_UP_DELAY_MS = 100

export class BackgroundCheckpointer {
  private worker?: Worker
  private running = false
  private again = false
  private bytes = 0
  private closed = false
  private broken = false
  private readonly closedFlag = new SharedArrayBuffer(4)
  private catchUp?: NodeJS.Timeout
  /** auto mode: whether the worker checkpoints now, and the payload of the current rate window */
  private bulk: boolean
  /** auto mode, leaving bulk: SQLite's threshold comes down once the worker's checkpoint in flight is done */
  private lowerAfter = false
  private windowStart = 0
  private windowBytes = 0
  readonly stats: CheckpointStats = { count: 0, seconds: 0, failures: 0 }

  /**
   * `failed` is told once if the worker cannot run (it did not start, or died): the caller goes back to
   * checkpointing on its own thread. With `onBulk` (auto mode) the worker checkpoints only under bulk
   * writes, and onBulk(true / false) tells the caller to raise or restore SQLite's own threshold.
   */
  constructor (private readonly path: string, private readonly failed: (err: Error) => void, private readonly opts: { everyBytes?: number, onBulk?: (bulk: boolean) => void, now?: () => number } = {}) {
    this.bulk = opts.onBulk == null
  }

  /** true while checkpoints run on the worker (false once it failed or was closed) */
  get active (): boolean { return !this.broken && !this.closed }

  /** After a commit of about `bytes`: ask for a checkpoint once enough has been written since the last one. */
  wrote (bytes: number): void {
    if (!this.active) return
    if (this.opts.onBulk != null) this.measure(bytes)
    if (!this.bulk) return
    this.bytes += bytes
    if (this.bytes >= (this.opts.everyBytes ?? CHECKPOINT_EVERY_BYTES)) this.request()
  }

  /** auto mode: bulk from the commit that takes a second's payload to the threshold, until a second below it */
  private measure (bytes: number): void {
    const now = this.opts.now?.() ?? performance.now()
    const elapsed = now - this.windowStart
    if (elapsed >= RATE_WINDOW_MS) {
      // a window that ended below the rate, or a gap with no commit at all for a whole window
      if (this.bulk && (this.windowBytes < BULK_BYTES_PER_SECOND || elapsed >= 2 * RATE_WINDOW_MS)) this.setBulk(false)
      this.windowStart = now
      this.windowBytes = 0
    }
    this.windowBytes += bytes
    if (!this.bulk && this.windowBytes >= BULK_BYTES_PER_SECOND) this.setBulk(true)
  }

  private setBulk (bulk: boolean): void {
    this.bulk = bulk
    if (bulk) {
      this.lowerAfter = false
      this.bytes = 0
      this.opts.onBulk?.(true)
    } else if (this.bytes > 0) {
      // what the burst left in the WAL is checkpointed here first: lowered at once, SQLite's threshold
      // would make the next small commit copy all of it inline
      this.lowerAfter = true
      this.request()
    } else {
      this.opts.onBulk?.(false)
    }
  }

  /** The store's own connection checkpointed and truncated the WAL (its periodic job): nothing is due. */
  reset (): void { this.bytes = 0 }

  private request (): void {
    this.bytes = 0
    if (this.catchUp != null) { clearTimeout(this.catchUp); this.catchUp = undefined }
    if (this.running) { this.again = true; return }
    const w = this.worker ?? this.start()
    if (w == null) return
    this.running = true
    w.postMessage('checkpoint')
  }

  private start (): Worker | undefined {
    try {
      const module = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: this.path, module, closed: this.closedFlag } })
      // a node that is done must be able to exit while the worker idles
      w.unref()
      w.on('message', (r: Reply) => this.reply(r))
      w.on('error', err => this.fail(err))
      w.on('exit', code => { if (!this.closed) this.fail(new Error(`checkpoint worker exited (code ${code})`)) })
      this.worker = w
      return w
    } catch (err) {
      this.fail(err as Error)
      return undefined
    }
  }

  private reply (r: Reply): void {
    if (r.fatal != null) { this.fail(new Error(`checkpoint worker could not open the store: ${r.fatal}`)); return }
    this.running = false
    this.stats.seconds += (r.ms ?? 0) / 1000
    if (r.error != null) {
      this.stats.failures++
      this.stats.lastError = r.error
    } else {
      this.stats.count++
    }
    if (!this.active) return
    if (this.again) {
      this.again = false
      this.request()
    } else if (this.lowerAfter) {
      this.lowerAfter = false
      this.opts.onBulk?.(false)
    } else if (r.behind === true && this.catchUp == null) {
      // commits landed while it copied: the WAL cannot restart from its beginning until one catches up,
      // so without this it would grow until SQLite's backstop checkpoint ran on the main thread
      this.catchUp = setTimeout(() => { this.catchUp = undefined; if (this.active && !this.running) this.request() }, CATCH_UP_DELAY_MS)
      this.catchUp.unref()
    }
  }

  private fail (err: Error): void {
    if (this.broken || this.closed) return
    this.broken = true
    this.stats.lastError = err.message
    this.worker?.terminate().catch(() => {})
    this.worker = undefined
    // never inside the commit that asked for a checkpoint: the caller's handler (a log) may throw
    queueMicrotask(() => { try { this.failed(err) } catch { /* nothing to report it to */ } })
  }

  /**
   * Close the worker's connection and wait (at most CLOSE_WAIT_MS, blocking) until it has, so the caller's
   * connection is the last one; the thread then ends by itself.
   */
  close (): void {
    if (this.closed) return
    this.closed = true
    if (this.catchUp != null) clearTimeout(this.catchUp)
    const w = this.worker
    this.worker = undefined
    if (w == null) return
    w.postMessage('close')
    Atomics.wait(new Int32Array(this.closedFlag), 0, 0, CLOSE_WAIT_MS)
  }
}
