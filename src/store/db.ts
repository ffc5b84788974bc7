// Opening the queue's SQLite file (WAL, one owning process) and turning SQLite's errors into StoreErrors
// the daemon can explain: a locked or corrupt data dir, a full disk.
import Database from 'better-sqlite3'
import { SCHEMA, migrate } from './schema.js'

export class StoreError extends Error {
  override name = 'StoreError'
  constructor (message: string, readonly code: string, options?: { cause?: unknown }) { super(message, options) }
}

/**
 * Open (or create) the store at path. Returns whether acks must wait for an fsync of the WAL: with
 * synchronous FULL the store syncs the WAL itself, off the event loop (see wal.ts).
 */
export function openDatabase (path: string, synchronous: 'FULL' | 'NORMAL'): { db: Database.Database, durable: boolean } {
  try {
    const db = new Database(path, { timeout: 0 })
    db.pragma('journal_mode = WAL')
    // WAL with NORMAL never corrupts; FULL durability comes from the store's own fsync after each
    // group commit, acked only then
    db.pragma('synchronous = NORMAL')
    // one process owns a data dir: the exclusive lock is taken by the first write below and held
    // until close; the OS drops it if the process dies, so kill -9 leaves no stale lock behind
    db.pragma('locking_mode = EXCLUSIVE')
    // after a checkpoint the WAL shrinks back to this instead of keeping its high-water size: on a small
    // volume a WAL left at ~4 MiB is what kept the disk full after space was freed
    db.pragma('journal_size_limit = 1048576')
    db.exec(SCHEMA)
    migrate(db)
    const check = db.pragma('quick_check', { simple: true })
    if (check !== 'ok') throw new StoreError(`store ${path} is corrupt: ${String(check)}`, 'STORE_CORRUPT')
    return { db, durable: synchronous === 'FULL' }
  } catch (err) {
    throw translateOpenError(err, path)
  }
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

export function translateWriteError (err: unknown, path: string): StoreError {
  const code = sqliteCode(err)
  if (code === 'SQLITE_FULL') return new StoreError(`disk full: cannot write to ${path}; nothing was acked`, 'DISK_FULL', { cause: err })
  if (code.startsWith('SQLITE_IOERR')) return new StoreError(`I/O error writing ${path}: ${(err as Error).message}; nothing was acked`, 'STORE_IO', { cause: err })
  return new StoreError(`store write failed: ${(err as Error).message}`, code || 'STORE_WRITE_FAILED', { cause: err })
}
