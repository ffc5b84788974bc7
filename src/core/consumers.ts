// The consumers open on a node, and the fan-out of every commit: a 'message' event per stored row, a
// nudge to each consumer of the row's topic, and hole detection (a seq stored above a missing one means
// gossip lost something, so repair starts at once instead of at the next periodic pull).
import { Consumer, type ConsumerOptions } from './consumer.js'
import { envelopeId } from './envelope.js'
import { checkTopic, InvalidInputError } from './limits.js'
import type { Store, StoredMessage } from '../store/store.js'
import type { Emit, LogFn, Sources } from './events.js'

export interface ConsumersParts {
  store: Store
  sources: Sources
  gapTimeoutMs?: number
  isJoined: (topic: string) => boolean
  join: (topic: string) => void
  /** true while sync is pulling: consumers wait longer before giving up a gap */
  repairing: () => boolean
  /** origins whose streams now have a hole */
  repair: (origins: Set<string>) => void
  emit: Emit
  log: LogFn
}

export class Consumers {
  private readonly open = new Set<Consumer>()

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
      this.p.log('warn', 'gap: giving up on missing messages', gap)
      this.p.emit('gap', gap)
    })
    this.open.add(c)
    return c
  }

  /** Store.onCommit: rows just committed, in commit order. */
  onCommit (rows: StoredMessage[]): void {
    const byTopic = new Map<string, Set<string>>()
    const holes = new Set<string>()
    for (const row of rows) {
      const id = envelopeId(row)
      this.p.emit('message', { ...row, id, source: this.p.sources.get(id) ?? 'sync' })
      let origins = byTopic.get(row.topic)
      if (origins == null) { origins = new Set(); byTopic.set(row.topic, origins) }
      origins.add(row.origin)
      const held = this.p.store.heldState(row.topic, row.origin)
      if (held != null && (held.set.ranges.length > 1 || held.set.min > held.low + 1)) holes.add(row.origin)
    }
    for (const c of this.open) {
      const origins = byTopic.get(c.topic)
      if (origins != null) c.notify(origins)
    }
    if (holes.size > 0) this.p.repair(holes)
  }

  closeTopic (topic: string): void {
    for (const c of [...this.open]) if (c.topic === topic) c.close()
  }

  closeAll (): void {
    for (const c of [...this.open]) c.close()
  }
}
