// Forked streams found (core/forks.ts), kept so a restart still blocks them from their fork up. One row per
// (topic, origin): the lowest seq proved forked and the two body hashes. Kept when a topic is purged: the
// origin forked whatever we still hold of it.
import type Database from 'better-sqlite3'

export interface ForkRecord { topic: string, origin: string, seq: number, held: string, other: string, peer: string, how: string, at: number }

export class ForkTable {
  private readonly upsert: Database.Statement
  private readonly all: Database.Statement

  constructor (db: Database.Database) {
    this.upsert = db.prepare(`INSERT INTO forks (topic, origin, seq, held, other, peer, how, at) VALUES (@topic, @origin, @seq, @held, @other, @peer, @how, @at)
      ON CONFLICT (topic, origin) DO UPDATE SET seq = excluded.seq, held = excluded.held, other = excluded.other, peer = excluded.peer, how = excluded.how, at = excluded.at WHERE excluded.seq < seq`)
    this.all = db.prepare('SELECT topic, origin, seq, held, other, peer, how, at FROM forks ORDER BY at')
  }

  write (f: ForkRecord): void { this.upsert.run(f) }

  /** the rows as recorded; a damaged or hand-edited row (no topic, origin or seq) is left out, not trusted */
  list (): ForkRecord[] {
    return (this.all.all() as ForkRecord[]).filter(f => typeof f.topic === 'string' && typeof f.origin === 'string' && f.origin !== '' &&
      Number.isSafeInteger(f.seq) && f.seq >= 1)
  }
}
