// Per-peer token buckets: a peer may spend `burst` tokens at once, then `perSecond`. One kind of bucket
// for every per-peer rate: inbound gossip (inbound.ts) and the sync requests this node serves (sync/scheduler.ts).
import { monotonicNow } from './monotonic.js'

export interface Rate { perSecond: number, burst: number }

export class PeerBuckets {
  private readonly buckets = new Map<string, { tokens: number, at: number }>()

  constructor (private readonly rate: Rate, private readonly maxPeers = 10_000) {}

  /** spend n of the peer's tokens (all or none); false when it has fewer left */
  take (peer: string, n = 1): boolean {
    const now = monotonicNow()
    let b = this.buckets.get(peer)
    if (b == null) {
      // many one-off peer ids cannot grow this without bound; a cleared peer only gets a fresh burst
      if (this.buckets.size >= this.maxPeers) this.buckets.clear()
      b = { tokens: this.rate.burst, at: now }
      this.buckets.set(peer, b)
    }
    b.tokens = Math.min(this.rate.burst, b.tokens + (now - b.at) * this.rate.perSecond / 1000)
    b.at = now
    if (b.tokens < n) return false
    b.tokens -= n
    return true
  }
}
