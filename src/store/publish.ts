// Our own stream per topic: the newest seq we published and its body hash, which the next publish links
// to (the hash chain). Kept in publish_seq so a restart never reuses a seq, even after retention.
import type Database from 'better-sqlite3'
import type { NewMessage } from './rows.js'

interface Head { seq: number, hash: Uint8Array | null }

export class PublishHeads {
  private readonly heads = new Map<string, Head>()
  private readonly setHead: Database.Statement
  private readonly readRaw: Database.Statement

  /** bodyHashOf reads the chain link out of a stored envelope */
  constructor (db: Database.Database, private readonly bodyHashOf: (raw: Uint8Array) => Uint8Array) {
    this.setHead = db.prepare('INSERT INTO publish_seq (topic, seq, hash) VALUES (?, ?, ?) ON CONFLICT(topic) DO UPDATE SET seq = excluded.seq, hash = excluded.hash WHERE excluded.seq > seq')
    this.readRaw = db.prepare('SELECT raw FROM messages WHERE topic = ? AND origin = ? AND seq = ?')
    for (const row of db.prepare('SELECT topic, seq, hash FROM publish_seq').all() as Array<{ topic: string, seq: number, hash: Uint8Array | null }>) {
      this.heads.set(row.topic, { seq: row.seq, hash: row.hash })
    }
  }

  /**
   * Next seq of our stream on a topic (above `held`, the newest seq of ours the store holds) and the body
   * hash of the message before it (null if unknown). Reserved in memory only.
   */
  reserve (topic: string, origin: string, held: number): { seq: number, prev: Uint8Array | null } {
    const head = this.heads.get(topic)
    const last = Math.max(head?.seq ?? 0, held)
    // a head without a hash (a data dir from before the chain) is linked from the stored message
    const prev = head?.seq === last && head.hash != null ? head.hash : this.storedBodyHash(topic, origin, last)
    this.heads.set(topic, { seq: last + 1, hash: null })
    return { seq: last + 1, prev }
  }

  private storedBodyHash (topic: string, origin: string, seq: number): Uint8Array | null {
    const row = this.readRaw.get(topic, origin, seq) as { raw: Uint8Array } | undefined
    if (row == null) return null
    // an undecodable row (see quarantine in store.ts) leaves the link unknown, as a missing one does
    try { return this.bodyHashOf(row.raw) } catch { return null }
  }

  /** an own message was queued: the head moves to it */
  queued (msg: NewMessage): void {
    if (msg.own != null) this.heads.set(msg.topic, { seq: msg.seq, hash: msg.own.hash })
  }

  /** persist the head with its row (inside the commit's transaction) */
  write (msg: NewMessage): void {
    if (msg.own != null) this.setHead.run(msg.topic, msg.seq, msg.own.hash)
  }

  /**
   * A commit failed. Every seq reserved so far was in that batch (publish reserves and queues in one
   * tick), so handing the failed ones back keeps our own streams free of holes, and the chain linked
   * to what is on disk.
   */
  handBack (batch: NewMessage[]): void {
    for (const msg of batch) {
      const head = this.heads.get(msg.topic)
      if (msg.own != null && head != null && msg.seq <= head.seq) this.heads.set(msg.topic, { seq: msg.seq - 1, hash: msg.own.prev })
    }
  }
}
