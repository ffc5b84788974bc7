// The consumers open on a node, and the fan-out of every commit: a 'message' event per stored row, a
// nudge to each consumer of the row's topic, and hole detection (a seq stored above a missing one means
// gossip lost something, so repair starts at once instead of at the next periodic pull).
import { Consumer, type ConsumerOptions, type GapInfo } from './consumer.js'
import { envelopeId } from './envelope.js'
import { checkTopic, InvalidInputError } from './limits.js'
import { settledUpTo, firstHole, type Store, type StoredMessage } from '../store/store.js'
import type { Emit, LogFn, Sources } from './events.js'

export interface ConsumersParts {
  store: Store
  sources: Sources
  gapTimeoutMs?: number
  isJoined: (topic: string) => boolean
  join: (topic: string) => void
  /** true while sync is pulling: consumers wait longer before giving up a gap */
  repairing: () => boolean
  /** (topic, origin) streams that now have a hole */
  repair: (holes: Array<{ topic: string, origin: string }>) => void
  emit: Emit
  log: LogFn
}

const MAX_COUNTED = 4096

export class Consumers {
  private readonly open = new Set<Consumer>()
  /** gaps given up since start (for status) */
  gapsGivenUp = 0
  /** the last range counted per (topic, origin): a second consumer giving up the same hole is not a second loss */
  private readonly counted = new Map<string, { from: number, to: number }>()

  constructor (private readonly p: ConsumersParts) {}

  get size (): number { return this.open.size }

  /** Open consumers and how far behind each is (see Consumer.lag). */
  stats (): Array<{ topic: string, name?: string, lag: number, unacked?: number }> {
    return [...this.open].map(c => ({ topic: c.topic, name: c.name, lag: c.lag, unacked: c.name != null ? c.unacked : undefined }))
  }

  /** Read a topic from the local queue: once per message, in per-origin order (see Consumer). */
  consume (topic: string, opts: ConsumerOptions = {}): Consumer {
    checkTopic(topic)
    if (opts.name != null && [...this.open].some(c => c.name === opts.name && c.topic === topic)) {
      throw new InvalidInputError(`consumer ${opts.name} is already open on ${topic}`, 'CONSUMER_BUSY')
    }
    if (!this.p.isJoined(topic)) this.p.join(topic)
    const c = new Consumer(this.p.store, topic, { gapTimeoutMs: this.p.gapTimeoutMs, repairing: this.p.repairing, ...opts }, c => this.open.delete(c))
    c.on('gap', gap => {
      // the consumer's own stream still hears of it (its 'gap' event); the node counts and logs a loss once
      // recorded whenever it is at the bottom, even if counted before: a hole counted while above held
      // messages may be at the bottom now (retention pruned below it), and the next consumer must not wait again
      const counted = this.alreadyGivenUp(gap)
      this.persistGap(gap)
      if (counted) return
      this.gapsGivenUp++
      this.p.log('warn', 'gap: giving up on missing messages', gap)
      this.p.emit('gap', gap)
    })
    this.open.add(c)
    return c
  }

  /**
   * A range given up node-wide already: at or below the settled mark (sync gave it up on the peers' floors,
   * or another consumer's bottom gap raised the skip mark), or inside the last range counted for the origin.
   */
  private alreadyGivenUp (gap: GapInfo): boolean {
    const key = `${gap.topic}\u0000${gap.origin}`
    const last = this.counted.get(key)
    const held = this.p.store.heldState(gap.topic, gap.origin)
    const seen = (held != null && settledUpTo(held) >= gap.to) || (last != null && last.from <= gap.from && gap.to <= last.to)
    if (!seen) {
      this.counted.delete(key)
      this.counted.set(key, { from: gap.from, to: gap.to })
      // bounded: the oldest origin's range goes first
      if (this.counted.size > MAX_COUNTED) this.counted.delete(this.counted.keys().next().value!)
    }
    return seen
  }

  /**
   * A gap at the bottom of an origin's stream (nothing held between the settled mark and it) is given up for
   * the whole node: the skip mark is raised (persisted), so the next consumer does not wait the gap timeout
   * again, and sync stops repairing it as a hole; every consumer that has not yet passed it skips it. It is
   * still asked for in pulls, and a late copy is stored (history shows it). A gap above held messages is
   * not recorded: the next consumer waits for it again, and sync keeps repairing it.
   */
  private persistGap (gap: GapInfo): void {
    const held = this.p.store.heldState(gap.topic, gap.origin)
    if (held == null || gap.from > settledUpTo(held) + 1 || gap.to <= settledUpTo(held)) return
    try { this.p.store.raiseSkip(gap.topic, gap.origin, gap.to) } catch (err) {
      this.p.log('warn', 'could not record a given-up gap', { ...gap, err: (err as Error).message })
    }
  }

  /** consumers' holes being waited on now */
  get gapsWaiting (): number {
    let n = 0
    for (const c of this.open) n += c.waitingGaps
    return n
  }

  /** Store.onCommit: rows just committed, in commit order. */
  onCommit (rows: StoredMessage[]): void {
    const byTopic = new Map<string, Map<string, StoredMessage[]>>()
    const holes = new Map<string, { topic: string, origin: string }>()
    for (const row of rows) {
      let origins = byTopic.get(row.topic)
      if (origins == null) { origins = new Map(); byTopic.set(row.topic, origins) }
      const committed = origins.get(row.origin)
      if (committed == null) origins.set(row.origin, [row]); else committed.push(row)
      const held = this.p.store.heldState(row.topic, row.origin)
      if (held != null && firstHole(held) != null) holes.set(`${row.topic}\u0000${row.origin}`, { topic: row.topic, origin: row.origin })
    }
    // consumers first: each takes a copy of the payload before a 'message' listener could change it
    for (const c of this.open) {
      const origins = byTopic.get(c.topic)
      if (origins != null) c.committed(origins)
    }
    for (const row of rows) {
      const id = envelopeId(row)
      // fields listed, not spread: a spread was ~4 us a row, most of this loop in a catch-up (cpu profile)
      this.p.emit('message', { offset: row.offset, topic: row.topic, origin: row.origin, seq: row.seq, ts: row.ts, payload: row.payload, id, source: this.p.sources.get(id) ?? 'sync' })
    }
    if (holes.size > 0) this.p.repair([...holes.values()])
  }

  closeTopic (topic: string): void {
    for (const c of [...this.open]) if (c.topic === topic) c.close()
  }

  closeAll (): void {
    for (const c of [...this.open]) c.close()
  }
}
