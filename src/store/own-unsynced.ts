// Our own messages that are committed but not yet covered by an fsync. Readers see a commit at once, so sync
// would serve them to peers; after a power loss they are gone, the seq is published again with another
// body, and peers holding the first version see a fork of our own stream (and block it for good). So sync
// serves our own stream only up to what is on disk. Other origins' rows need no such care: their origin
// keeps them, and a lost copy is pulled again.
import type { NewMessage } from './rows.js'

/**
 * commits tracked at most (a backstop: a failed fsync fails the store, so commits stop; each commit is kept
 * until an fsync covers it). Past it the two oldest are merged into one that waits for the newer one's
 * fsync: unservable a little longer, never sooner, and memory and servableUpTo's work stay bounded.
 */
const MAX_COMMITS = 1_024

export class OwnUnsynced {
  /** commits with own messages whose fsync has not succeeded yet, oldest first: their lowest own seq per stream */
  private readonly commits: Array<{ n: number, lowest: Map<string, number> }> = []
  /** every commit's place in commit order (a batch is the same array from write to fsync) */
  private readonly numbers = new WeakMap<readonly NewMessage[], number>()
  private next = 0

  /** commits tracked now (tests: bounded) */
  get size (): number { return this.commits.length }

  /** a batch was committed (its fsync follows) */
  committed (batch: readonly NewMessage[]): void {
    const n = this.next++
    this.numbers.set(batch, n)
    let lowest: Map<string, number> | undefined
    for (const m of batch) {
      if (m.own == null) continue
      lowest ??= new Map()
      const key = keyOf(m.topic, m.origin)
      const seen = lowest.get(key)
      if (seen == null || m.seq < seen) lowest.set(key, m.seq)
    }
    if (lowest == null) return
    this.commits.push({ n, lowest })
    if (this.commits.length > MAX_COMMITS) {
      const [oldest, next] = this.commits.splice(0, 2)
      for (const [key, seq] of oldest.lowest) {
        const seen = next.lowest.get(key)
        if (seen == null || seq < seen) next.lowest.set(key, seq)
      }
      this.commits.unshift(next)
    }
  }

  /** the fsync covering this batch succeeded: an fsync of the WAL covers every commit before it too */
  synced (batch: readonly NewMessage[]): void {
    const n = this.numbers.get(batch)
    if (n == null) return
    while (this.commits.length > 0 && this.commits[0].n <= n) this.commits.shift()
  }

  /** the highest seq of (topic, origin) that may be served: below its oldest own row not yet on disk */
  servableUpTo (topic: string, origin: string): number {
    let cap = Number.MAX_SAFE_INTEGER
    const key = keyOf(topic, origin)
    for (const c of this.commits) {
      const seq = c.lowest.get(key)
      if (seq != null && seq - 1 < cap) cap = seq - 1
    }
    return cap
  }
}

function keyOf (topic: string, origin: string): string { return `${topic}\u0000${origin}` }
