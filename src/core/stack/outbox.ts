// Flow control for gossip. gossipsub's publish() has no backpressure: it appends to every peer's stream
// and, when publishing outruns the network, buffers grow until the keep-alive ping times out and every
// connection is closed. Here gossip is only an accelerator: messages are already on disk, so when peers'
// outbound buffers are full we hold gossip back, and past a bounded queue we skip gossip for the oldest
// messages and let the sync protocol carry them: peers pull them when a later gossiped message shows
// them a hole, or at their next periodic pull.
// Batching: when several envelopes of a topic are queued (they committed together, or queued while the
// previous publish was in flight), one gossip message carries them as a bundle (bundle.ts). There is no
// timer: a lone message goes out at once, as a plain envelope, so batching adds no latency at low rates.
import type { SwarmHost } from './libp2p.js'
import { bundleBytes, encodeBundle, MAX_BUNDLE_BYTES, MAX_BUNDLE_COUNT } from '../bundle.js'

export interface OutboxOptions {
  /** most messages waiting to be gossiped; older ones beyond this go by sync only */
  maxQueued?: number
  /** hold gossip while any peer's gossipsub stream has this many bytes not yet sent */
  maxBufferedBytes?: number
  /** most envelopes per gossip message (default 256, the most a receiver takes); 1 turns bundling off */
  maxBundle?: number
  /** a peer's stream over maxBufferedBytes that sends nothing for this long is aborted (default 5 s) */
  stallMs?: number
}

/** the parts of a gossipsub outbound stream's raw libp2p stream the outbox uses */
interface RawStream {
  writeBufferLength?: number
  abort?: (err: Error) => void
}

interface Queued { topic: string, data: Uint8Array }

/** how long a peer whose stream stalled holds no one's gossip up (its reopened streams come 10 s to 5 min apart) */
const STALL_MEMORY_MS = 10 * 60_000
const MAX_STALLED_REMEMBERED = 1_024

export class GossipOutbox {
  private queue: Queued[] = []
  private draining = false
  private stopped = false
  private retry?: NodeJS.Timeout
  private readonly maxQueued: number
  private readonly maxBufferedBytes: number
  private readonly maxBundle: number
  private readonly stallMs: number
  /** per stream over the limit: since when its unsent bytes have not gone down, and how many there were */
  private readonly overSince = new WeakMap<RawStream, { at?: number, len: number }>()
  /** peers whose stream was aborted for stalling, and when (gossip-streams.ts reopens it, with backoff) */
  private readonly stalledAt = new Map<string, number>()
  /** messages that were not gossiped because the queue was full (they travel by sync) */
  skipped = 0
  /** gossip bundles published, and the envelopes they carried */
  bundles = 0
  bundled = 0
  /** peers' gossip streams aborted because they stopped taking bytes (the peer gets the rest by sync) */
  stalledStreams = 0

  /** `bundleable(topic)`: every peer on the topic understands bundles (bundle-support.ts) */
  constructor (private readonly host: SwarmHost, opts: OutboxOptions = {}, private readonly bundleable: (topic: string) => boolean = () => false) {
    this.maxQueued = opts.maxQueued ?? 2_000
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 2 * 1024 * 1024
    this.maxBundle = Math.max(1, Math.min(opts.maxBundle ?? MAX_BUNDLE_COUNT, MAX_BUNDLE_COUNT))
    this.stallMs = opts.stallMs ?? 5_000
  }

  get queued (): number { return this.queue.length }

  push (topic: string, data: Uint8Array): void {
    if (this.stopped) return
    this.queue.push({ topic, data })
    if (this.queue.length > this.maxQueued) {
      this.queue.shift()
      this.skipped++
    }
    // after this tick's other pushes (the rest of a group commit), so they can share one gossip message
    if (!this.draining) queueMicrotask(() => { void this.drain() })
  }

  /**
   * bytes waiting in the fullest peer's outbound gossipsub stream. streamsOutbound is gossipsub-internal
   * (version pinned in package.json; test/stack-patches.test.ts checks it fills when a peer stalls).
   * A stream over the limit whose unsent bytes do not go down for stallMs (the peer stopped reading: no
   * yamux window update; not its 'drain' event, which libp2p also fires on every stream of a connection
   * whose socket drained) is aborted: holding gossip for it would stall every other peer, for as long as
   * it likes while its muxer still answers pings (test/gossip-stalled-peer.test.ts). gossip-streams.ts
   * opens it again later, with backoff.
   */
  private bufferedBytes (): number {
    const streams = (this.host.services.pubsub as unknown as { streamsOutbound?: Map<string, { rawStream?: RawStream }> }).streamsOutbound
    let max = 0
    const now = Date.now()
    for (const [peer, s] of streams ?? []) {
      const raw = s.rawStream
      const len = raw?.writeBufferLength ?? 0
      if (raw == null || len <= this.maxBufferedBytes) {
        const t = raw != null ? this.overSince.get(raw) : undefined
        if (t != null) t.at = undefined
        max = Math.max(max, len)
        continue
      }
      let t = this.overSince.get(raw)
      if (t == null) {
        t = { len }
        this.overSince.set(raw, t)
      }
      if (t.at == null || len < t.len) t.at = now
      t.len = len
      if (now - t.at >= this.stallMs && typeof raw.abort === 'function') {
        this.stalledStreams++
        raw.abort(new Error(`gossip peer took no bytes for ${this.stallMs} ms with ${len} queued`))
        this.noteStalled(peer, now)
        continue
      }
      // a peer that stalled lately holds no one up on its reopened stream: it is aborted as above, and
      // gossipsub's maxOutboundBufferSize bounds its bytes meanwhile
      if (now - (this.stalledAt.get(peer) ?? -Infinity) < STALL_MEMORY_MS) continue
      max = Math.max(max, len)
    }
    return max
  }

  private noteStalled (peer: string, now: number): void {
    this.stalledAt.delete(peer)
    this.stalledAt.set(peer, now)
    // oldest first (insertion order): forget the expired, and keep the map bounded
    for (const [p, at] of this.stalledAt) {
      if (now - at < STALL_MEMORY_MS && this.stalledAt.size <= MAX_STALLED_REMEMBERED) break
      this.stalledAt.delete(p)
    }
  }

  private async drain (): Promise<void> {
    if (this.draining) return
    this.draining = true
    try {
      while (!this.stopped && this.queue.length > 0) {
        if (this.bufferedBytes() > this.maxBufferedBytes) {
          this.retry ??= setTimeout(() => { this.retry = undefined; void this.drain() }, 5)
          return
        }
        const m = this.queue.shift()!
        const data = this.pack(m)
        try {
          await this.host.services.pubsub.publish(m.topic, data)
        } catch {
          // stored already; sync delivers what gossip could not
        }
      }
    } finally {
      this.draining = false
    }
  }

  /**
   * `first`'s data, or a bundle of it and the next queued envelopes of its topic (in queue order, which is
   * seq order), taken off the queue, up to maxBundle envelopes and MAX_BUNDLE_BYTES.
   */
  private pack (first: Queued): Uint8Array {
    if (this.maxBundle === 1 || !this.queue.some(q => q.topic === first.topic) || !this.bundleable(first.topic)) return first.data
    const raws = [first.data]
    let bytes = first.data.byteLength
    let full = false
    const rest: Queued[] = []
    for (const q of this.queue) {
      if (!full && q.topic === first.topic) {
        if (raws.length < this.maxBundle && bundleBytes(raws.length + 1, bytes + q.data.byteLength) <= MAX_BUNDLE_BYTES) {
          raws.push(q.data)
          bytes += q.data.byteLength
          continue
        }
        full = true
      }
      rest.push(q)
    }
    if (raws.length === 1) return first.data
    this.queue = rest
    this.bundles++
    this.bundled += raws.length
    return encodeBundle(raws)
  }

  stop (): void {
    this.stopped = true
    this.queue = []
    if (this.retry != null) clearTimeout(this.retry)
  }
}
