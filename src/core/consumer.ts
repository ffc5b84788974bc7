// A consumer reads one topic from the local queue: each message once, each origin's messages in seq order.
// When an origin's next seq is missing but a later one is held, delivery of that origin waits (sync is
// asked to fill the hole) for at most gapTimeoutMs; then the gap is reported and delivery goes on.
// Named consumers keep an acknowledged cursor per origin on disk: after a restart they resume from it,
// so whatever was delivered but not acked is delivered again. An ack resolves only once its cursor is
// committed and fsynced (acks of one tick share one write and one fsync), so an answered ack survives kill -9.
import { EventEmitter } from 'node:events'
import { settledUpTo, type Store, type StoredMessage } from '../store/store.js'
import { InvalidInputError } from './limits.js'

export type StartFrom = 'beginning' | 'now' | { time: number } | { offset: number }

export interface ConsumerOptions {
  /** durable consumer name: its acks are stored and it resumes from them */
  name?: string
  /** where to start for origins with no stored cursor (default: 'beginning' if named, else 'now') */
  from?: StartFrom
  /** ack every message as it is delivered (default: false for named consumers, true otherwise) */
  autoAck?: boolean
  /** how long an origin's delivery waits for a missing seq before reporting the gap (default 10 s) */
  gapTimeoutMs?: number
  /** async iteration buffers at most this many undelivered messages (default 1000) */
  highWaterMark?: number
  /** ... and at most this many payload bytes (default 8 MiB; one larger message is still delivered alone) */
  highWaterBytes?: number
  /** true while the node is pulling missing messages from peers; a gap is not given up during a repair */
  repairing?: () => boolean
}

export interface GapInfo { topic: string, origin: string, from: number, to: number, consumer?: string }

export interface ConsumerEvents {
  message: [StoredMessage]
  gap: [GapInfo]
}

const PAGE = 256
export const DEFAULT_HIGH_WATER_BYTES = 8 * 1024 * 1024
/** a hole that keeps shrinking is waited for at most this many gap timeouts */
const MAX_GAP_WAITS = 12

export class Consumer extends EventEmitter<ConsumerEvents> implements AsyncIterable<StoredMessage> {
  readonly topic: string
  readonly name?: string
  private readonly next = new Map<string, number>()
  private readonly acked = new Map<string, number>()
  private readonly gapTimers = new Map<string, NodeJS.Timeout>()
  private readonly minTs: number
  /** from a time: messages received from this offset on are delivered whatever their origin's timestamp */
  private readonly arrivedFrom: number
  private readonly minOffset: number
  /**
   * an anonymous consumer from now or from an offset: the offset it starts after, so that resuming after it
   * (SSE Last-Event-ID) loses nothing even when the first stream ended before its first message
   */
  readonly startsAfter?: number
  private readonly startAt: 'beginning' | 'now'
  private readonly autoAck: boolean
  private readonly gapTimeoutMs: number
  private readonly highWaterMark: number
  private readonly highWaterBytes: number
  private readonly buffer: StoredMessage[] = []
  private bufferBytes = 0
  private waiter?: () => void
  private iterating = false
  private closed = false
  private dirty = false
  /** acks waiting for the next cursor write; it runs once per tick */
  private ackWaiters: Array<{ resolve: () => void, reject: (e: Error) => void }> = []
  private saveScheduled = false
  private pumping = false
  /** origins notified while a delivery loop ran (a handler that made a commit): pumped once it is done */
  private readonly again = new Set<string>()
  private readonly repairing: () => boolean

  constructor (private readonly store: Store, topic: string, opts: ConsumerOptions = {}, private readonly onClose: (c: Consumer) => void = () => {}) {
    super()
    this.topic = topic
    this.name = opts.name
    const from = opts.from ?? (opts.name != null ? 'beginning' : 'now')
    this.autoAck = opts.autoAck ?? (opts.name == null)
    this.gapTimeoutMs = opts.gapTimeoutMs ?? 10_000
    this.highWaterMark = opts.highWaterMark ?? 1000
    this.highWaterBytes = opts.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES
    this.repairing = opts.repairing ?? (() => false)
    this.minTs = typeof from === 'object' && 'time' in from ? from.time : 0
    // a publisher whose clock is behind stamps live messages before the time: judged by its clock alone, they
    // were skipped for as long as the clock was off. Received since the time (this node's clock) counts too
    this.arrivedFrom = typeof from === 'object' && 'time' in from ? store.offsetReceivedSince(topic, from.time) : 0
    // 'now' is judged by local arrival (offsets), never by remote clocks, which may be skewed
    this.minOffset = typeof from === 'object' && 'offset' in from ? from.offset : from === 'now' ? store.lastOffset() + 1 : 0
    this.startAt = from === 'now' ? 'now' : 'beginning'
    if (opts.name == null && (from === 'now' || (typeof from === 'object' && 'offset' in from)) && this.minOffset > 0) this.startsAfter = this.minOffset - 1
    if (opts.name != null) {
      for (const [origin, seq] of store.cursors(opts.name, topic)) {
        this.acked.set(origin, seq)
        this.next.set(origin, seq + 1)
      }
    }
    if (this.startAt === 'now') {
      // origins already known start after what is held now; later ones by arrival offset
      for (const origin of store.origins(topic)) {
        if (!this.next.has(origin)) this.next.set(origin, Math.max(store.heldState(topic, origin)?.set.max ?? 0, store.heldState(topic, origin)?.low ?? 0) + 1)
      }
    }
  }

  /** Deliver what is already held; listeners should be attached first. */
  start (): this {
    queueMicrotask(() => this.notify(this.store.origins(this.topic)))
    return this
  }

  /** The node calls this when messages of these origins may be deliverable (held ones, room again). */
  notify (origins: Iterable<string>): void {
    for (const origin of origins) this.pump(origin)
  }

  /** The node calls this after a commit, with the rows it added of each origin (in commit order). */
  committed (byOrigin: ReadonlyMap<string, readonly StoredMessage[]>): void {
    for (const [origin, rows] of byOrigin) if (!this.fromCommit(origin, rows)) this.pump(origin)
  }

  /**
   * A consumer at the tip of an origin gets the rows just committed from memory instead of reading them
   * back (that read and its envelope decode were ~5% of the main thread with 5 nodes in one process at
   * 200 msg/s): only when they are exactly its next seqs and nothing of the origin is held above them.
   * Each gets a payload of its own, as a read would give it. False: read from the store instead.
   */
  private fromCommit (origin: string, rows: readonly StoredMessage[]): boolean {
    if (this.closed || this.pumping || this.paused()) return false
    const next = this.next.get(origin) ?? 1
    for (let i = 0; i < rows.length; i++) if (rows[i].seq !== next + i) return false
    if (rows.length === 0 || this.heldUpTo(origin) !== rows[rows.length - 1].seq) return false
    this.pumping = true
    try {
      for (const row of rows) {
        // the rest is read from the store when there is room again (or never, once closed)
        if (this.handOn(origin, { offset: row.offset, topic: row.topic, origin: row.origin, seq: row.seq, ts: row.ts, payload: new Uint8Array(row.payload) })) break
      }
    } finally {
      this.pumping = false
      this.pumpAgain()
    }
    return true
  }

  /**
   * Move an origin's delivery past row, the next seq it waits for, and deliver it unless it is before
   * where this consumer starts. True: stop here (no room left, or closed).
   */
  private handOn (origin: string, row: StoredMessage): boolean {
    this.clearGap(origin)
    this.next.set(origin, row.seq + 1)
    if ((row.ts >= this.minTs || row.offset >= this.arrivedFrom) && row.offset >= this.minOffset) this.deliver(row)
    return this.paused() || this.closed
  }

  private pumpAgain (): void {
    for (const origin of this.again) {
      this.again.delete(origin)
      this.pump(origin)
    }
  }

  private paused (): boolean {
    return this.iterating && this.full()
  }

  private full (): boolean {
    return this.buffer.length >= this.highWaterMark || this.bufferBytes >= this.highWaterBytes
  }

  /** what async iteration holds undelivered: bounded by highWaterMark messages and highWaterBytes */
  get buffered (): { messages: number, bytes: number } {
    return { messages: this.buffer.length, bytes: this.bufferBytes }
  }

  private pump (origin: string): void {
    if (this.closed) return
    if (this.pumping) { this.again.add(origin); return }
    this.pumping = true
    try {
      for (;;) {
        if (this.paused() || this.closed) return
        let next = this.next.get(origin) ?? 1
        const rows = this.store.readOrigin(this.topic, origin, next - 1, PAGE)
        if (rows.length === 0) { this.clearGap(origin); return }
        for (const row of rows) {
          if (row.seq > next) {
            // seqs at or below the low mark were pruned, up to the skip mark given up: nothing to wait for
            const held = this.store.heldState(this.topic, origin)
            const low = held != null ? settledUpTo(held) : 0
            if (next <= low) next = low + 1
            if (row.seq > next) {
              this.next.set(origin, next)
              this.waitForGap(origin, next, row.seq - 1)
              return
            }
          }
          next = row.seq + 1
          if (this.handOn(origin, row)) return
        }
        if (rows.length < PAGE) return
      }
    } finally {
      this.pumping = false
      this.pumpAgain()
    }
  }

  /**
   * Wait for a hole [from, to] to be filled. The timer restarts while the hole is shrinking or a sync pull
   * is running (filling it under overload can take longer than gapTimeoutMs), so only a hole that made no
   * progress for a whole gapTimeoutMs with no repair under way, or that is still open after
   * MAX_GAP_WAITS timeouts, is given up.
   */
  private waitForGap (origin: string, from: number, to: number): void {
    if (this.gapTimers.has(origin)) return
    let waits = 0
    let filled = this.heldIn(origin, from, to)
    const arm = (): void => {
      this.gapTimers.set(origin, setTimeout(() => {
        this.gapTimers.delete(origin)
        if (this.closed) return
        // delivery moved on meanwhile: look again (re-arms for whatever hole is next)
        if ((this.next.get(origin) ?? 1) !== from) { this.pump(origin); return }
        const now = this.heldIn(origin, from, to)
        // still shrinking, or sync is busy repairing (under overload a pull can take longer than the
        // timeout): wait more, up to MAX_GAP_WAITS timeouts in all
        if ((now > filled || this.repairing()) && ++waits < MAX_GAP_WAITS) { filled = now; arm(); return }
        const held = this.store.heldState(this.topic, origin)
        const resume = held?.set.nextAbove(from - 1) ?? 0
        if (resume === 0) return
        this.emit('gap', { topic: this.topic, origin, from, to: resume - 1, consumer: this.name })
        this.next.set(origin, resume)
        this.pump(origin)
      }, this.gapTimeoutMs).unref())
    }
    arm()
  }

  /** how many seqs in [from, to] of an origin are held */
  private heldIn (origin: string, from: number, to: number): number {
    const held = this.store.heldState(this.topic, origin)
    if (held == null) return 0
    let n = 0
    for (const [a, b] of held.set.ranges) {
      const lo = Math.max(a, from); const hi = Math.min(b, to)
      if (hi >= lo) n += hi - lo + 1
    }
    return n
  }

  private clearGap (origin: string): void {
    const t = this.gapTimers.get(origin)
    if (t != null) { clearTimeout(t); this.gapTimers.delete(origin) }
  }

  private deliver (msg: StoredMessage): void {
    // an auto-ack that fails (disk full) stays dirty and is written with the next one
    if (this.autoAck) this.ack(msg).catch(() => {})
    if (this.iterating) {
      this.buffer.push(msg)
      this.bufferBytes += msg.payload.byteLength
      this.waiter?.()
    } else {
      this.emit('message', msg)
    }
  }

  /**
   * Mark this message, and every earlier one of its origin, as processed. Only what this consumer was
   * delivered (or moved past) can be acked: anything else rejects with InvalidInputError. For a named
   * consumer, resolves once the cursor is on disk; rejects with StoreError if it cannot be written.
   */
  async ack (msg: Pick<StoredMessage, 'origin' | 'seq'>): Promise<void> {
    this.checkAck(msg, (this.next.get(msg.origin) ?? 1) - 1, 'was delivered up to')
    await this.record(msg)
  }

  /**
   * Ack for a consumer with no stream open (nothing delivered in this run): accepted up to the newest seq
   * of that origin this node holds, since anything beyond that was never delivered to anyone.
   */
  async ackHeld (msg: Pick<StoredMessage, 'origin' | 'seq'>): Promise<void> {
    this.checkAck(msg, this.heldUpTo(msg.origin), 'holds up to')
    await this.record(msg)
  }

  private checkAck (msg: Pick<StoredMessage, 'origin' | 'seq'>, limit: number, what: string): void {
    if (!Number.isSafeInteger(msg.seq) || msg.seq < 1) throw new InvalidInputError(`ack seq must be a positive integer, got ${String(msg.seq)}`, 'BAD_ACK')
    if (msg.seq > limit) {
      const who = this.name != null ? `consumer ${this.name}` : 'this consumer'
      throw new InvalidInputError(`cannot ack seq ${msg.seq} of origin ${msg.origin} on ${this.topic}: ${who} ${what} ${limit}`, 'NOT_DELIVERED')
    }
  }

  private async record (msg: Pick<StoredMessage, 'origin' | 'seq'>): Promise<void> {
    if ((this.acked.get(msg.origin) ?? 0) < msg.seq) {
      this.acked.set(msg.origin, msg.seq)
      if (this.name != null) this.dirty = true
    }
    // an ack already covered still waits for a write in flight, so its answer is as durable
    if (this.name == null || (!this.dirty && this.ackWaiters.length === 0 && !this.saveScheduled)) return
    if (this.closed) throw new Error('consumer is closed')
    await new Promise<void>((resolve, reject) => {
      this.ackWaiters.push({ resolve, reject })
      if (!this.saveScheduled) {
        this.saveScheduled = true
        setImmediate(() => { this.saveScheduled = false; void this.writeCursors() })
      }
    })
  }

  /** messages held in the store that this consumer has not been handed yet (read but unconsumed included) */
  get lag (): number {
    let n = this.buffer.length
    for (const origin of this.store.origins(this.topic)) n += Math.max(0, this.heldUpTo(origin) - ((this.next.get(origin) ?? 1) - 1))
    return n
  }

  /** messages held that a named consumer has not acked yet */
  get unacked (): number {
    let n = 0
    for (const origin of this.store.origins(this.topic)) n += Math.max(0, this.heldUpTo(origin) - (this.acked.get(origin) ?? 0))
    return n
  }

  /** the newest seq of an origin held here */
  private heldUpTo (origin: string): number {
    const h = this.store.heldState(this.topic, origin)
    return Math.max(h?.set.max ?? 0, h?.low ?? 0)
  }
  /** origins whose delivery waits on a hole now */
  get waitingGaps (): number { return this.gapTimers.size }

  /** acked seq per origin */
  get cursors (): ReadonlyMap<string, number> { return this.acked }

  /** One cursor write for every ack since the last, then the shared fsync; settles those acks. */
  private async writeCursors (): Promise<void> {
    const waiters = this.ackWaiters.splice(0)
    try {
      this.saveCursors()
      await this.store.sync()
      for (const w of waiters) w.resolve()
    } catch (err) {
      for (const w of waiters) w.reject(err as Error)
    }
  }

  /** commit the cursors if acks changed them; throws StoreError (they stay dirty for the next try) */
  private saveCursors (): void {
    if (!this.dirty || this.name == null) return
    this.store.saveCursors(this.name, this.topic, this.acked)
    this.dirty = false
  }

  close (): void {
    if (this.closed) return
    // acks of this tick are written now: the store may close right after
    if (this.ackWaiters.length > 0 || this.dirty) void this.writeCursors()
    this.closed = true
    for (const t of this.gapTimers.values()) clearTimeout(t)
    this.gapTimers.clear()
    this.waiter?.()
    this.onClose(this)
  }

  get isClosed (): boolean { return this.closed }

  async * [Symbol.asyncIterator] (): AsyncIterator<StoredMessage> {
    this.iterating = true
    try {
      for (;;) {
        const wasFull = this.full()
        const msg = this.buffer.shift()
        if (msg != null) {
          this.bufferBytes -= msg.payload.byteLength
          // room again: resume origins that stopped at the high-water mark
          if (wasFull && !this.full()) this.notify(this.store.origins(this.topic))
          yield msg
          continue
        }
        if (this.closed) return
        await new Promise<void>(resolve => { this.waiter = resolve })
        this.waiter = undefined
      }
    } finally {
      this.iterating = false
    }
  }
}
