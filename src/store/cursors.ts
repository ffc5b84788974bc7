// Named consumers' cursors: per consumer, topic and origin, the last acknowledged seq. Cursors only move forward.
import type Database from 'better-sqlite3'

export class Cursors {
  private readonly read: Database.Statement
  private readonly write: Database.Statement

  constructor (private readonly db: Database.Database) {
    this.read = db.prepare('SELECT origin, seq FROM cursors WHERE consumer = ? AND topic = ?')
    this.write = db.prepare('INSERT INTO cursors (consumer, topic, origin, seq) VALUES (?, ?, ?, ?) ON CONFLICT(consumer, topic, origin) DO UPDATE SET seq = max(seq, excluded.seq)')
  }

  get (consumer: string, topic: string): Map<string, number> {
    const rows = this.read.all(consumer, topic) as Array<{ origin: string, seq: number }>
    return new Map(rows.map(r => [r.origin, r.seq]))
  }

  save (consumer: string, topic: string, cursors: ReadonlyMap<string, number>): void {
    this.db.transaction(() => {
      for (const [origin, seq] of cursors) this.write.run(consumer, topic, origin, seq)
    })()
  }
}
