// Opening the queue's SQLite file (WAL, one owning process) and turning SQLite's errors into StoreErrors
// the daemon can explain: a locked or corrupt data dir, a full disk.
import Database from 'better-sqlite3'
import { SCHEMA, migrate } from './schema.js'

export class StoreError extends Error {
  override name = 'StoreError'
  constructor (message: string, readonly code: string, options?: { cause?: unknown }) { super(message, options) }
}

/**
 * How WAL checkpoints run: inside SQLite's commits as it does by default ('inline'), on a worker thread
 * (checkpointer.ts, 'background'), or inline at moderate write rates and on the worker under bulk writes
 * ('auto', checkpointer.ts says why).
 */
export type CheckpointMode = 'auto' | 'background' | 'inline'

/** SQLite's own checkpoint threshold (pages, its default) */
export const INLINE_CHECKPOINT_PAGES = 1000
/** ... and while the worker checkpoints (16 MiB): only a backstop, if the worker falls behind or fails */
export const BACKSTOP_CHECKPOINT_PAGES = 4_096
/**
 * ... and while the volume is short of space (space.ts), whatever the mode: a checkpoint grows the database
 * by up to the WAL's size, and 128 KiB leaves it room in the disk reserve (256 KiB) when the disk is full
 */
export const TIGHT_CHECKPOINT_PAGES = 32
/** the size a WAL is cut back to when it restarts after a checkpoint, normally and while short of space */
export const WAL_SIZE_LIMIT = 1024 * 1024
export const TIGHT_WAL_SIZE_LIMIT = 128 * 1024

export interface OpenedDatabase {
  db: Database.Database
  /** acks wait for an fsync of the WAL (synchronous FULL), which the store does itself, off the event loop (wal.ts) */
  durable: boolean
  /** the connection that holds the data dir's lock, to close after db */
  lock: Database.Database
}

/**
 * Open (or create) the store at path. One process owns a data dir: it holds an exclusive lock on a small
 * file beside the store (`<path>.lock`, SQLite's exclusive locking mode after one write), which the OS
 * drops if the process dies, so kill -9 leaves no stale lock. The lock is on a file of its own because in
 * auto and background modes the checkpointer needs a second connection to the store, so the store's own connection
 * cannot hold it exclusively; inline, it still does (as gossipd before the lock file did, so an older
 * gossipd holding the store is refused too).
 */
export function openDatabase (path: string, synchronous: 'FULL' | 'NORMAL', checkpoints: CheckpointMode): OpenedDatabase {
  let lock: Database.Database | undefined
  try {
    // every mode takes it, so two stores in different modes refuse each other too
    lock = takeLock(`${path}.lock`)
    const db = new Database(path, { timeout: 0 })
    try {
      // an older gossipd that holds the store itself (exclusive mode) and has written makes this read fail as locked
      db.pragma('journal_mode = WAL')
      // WAL with NORMAL never corrupts; FULL durability comes from the store's own fsync after each
      // group commit, acked only then
      db.pragma('synchronous = NORMAL')
      if (checkpoints === 'inline') {
        // the exclusive lock is taken by the first write below and held until close
        db.pragma('locking_mode = EXCLUSIVE')
      } else {
        db.pragma(`wal_autocheckpoint = ${checkpoints === 'background' ? BACKSTOP_CHECKPOINT_PAGES : INLINE_CHECKPOINT_PAGES}`)
      }
      // after a checkpoint the WAL shrinks back to this instead of keeping its high-water size: on a small
      // volume a WAL left at ~4 MiB is what kept the disk full after space was freed
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`)
      db.exec(SCHEMA)
      migrate(db)
      const check = db.pragma('quick_check', { simple: true })
      if (check !== 'ok') throw new StoreError(`store ${path} is corrupt: ${String(check)}`, 'STORE_CORRUPT')
    } catch (err) {
      db.close()
      throw err
    }
    return { db, durable: synchronous === 'FULL', lock }
  } catch (err) {
    lock?.close()
    throw translateOpenError(err, path)
  }
}

/** Hold an exclusive lock on a file of its own until closed (SQLite's exclusive locking mode, after one write). */
function takeLock (path: string): Database.Database {
  // two stores opening at the same moment both read it first and would each block the other's write: a
  // short wait lets one win (the owner then holds it until it closes, so a second store still fails)
  const lock = new Database(path, { timeout: 1_000 })
  try {
    lock.pragma('locking_mode = EXCLUSIVE')
    lock.exec('CREATE TABLE IF NOT EXISTS owner (k INTEGER PRIMARY KEY, pid INTEGER NOT NULL)')
    lock.prepare('INSERT OR REPLACE INTO owner (k, pid) VALUES (1, ?)').run(process.pid)
    return lock
  } catch (err) {
    lock.close()
    const code = sqliteCode(err)
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw err
    throw new StoreError(`cannot take the data dir's lock ${path}: ${(err as Error).message}; if no gossipd runs on this data dir, remove that file`, code || 'STORE_OPEN_FAILED', { cause: err })
  }
}

function sqliteCode (err: unknown): string {
  return typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : ''
}

function translateOpenError (err: unknown, path: string): Error {
  if (err instanceof StoreError) return err
  const code = sqliteCode(err)
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    // the lock cannot tell who holds it: a library user runs many nodes in one process, so say both
    return new StoreError(`data dir is in use: ${path} is locked by another gossipd (another process, or another node in this process)`, 'DATA_DIR_LOCKED', { cause: err })
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new StoreError(`store ${path} is corrupt or not a gossipd database (${(err as Error).message}); move it aside to start empty`, 'STORE_CORRUPT', { cause: err })
  }
  return new StoreError(`cannot open store ${path}: ${(err as Error).message}`, code || 'STORE_OPEN_FAILED', { cause: err })
}

export function translateWriteError (err: unknown, path: string): StoreError {
  const code = sqliteCode(err)
  if (code === 'SQLITE_FULL') return new StoreError(`disk full: cannot write to ${path}; nothing was acked`, 'DISK_FULL', { cause: err })
  if (code.startsWith('SQLITE_IOERR')) return new StoreError(`I/O error writing ${path}: ${(err as Error).message}; nothing was acked`, 'STORE_IO', { cause: err })
  return new StoreError(`store write failed: ${(err as Error).message}`, code || 'STORE_WRITE_FAILED', { cause: err })
}
