// Label values that a remote peer chooses (its id, a topic it names, a reason text) must not become one series
// each: any device on the network could then grow /metrics, the daemon's memory and every scraper's storage
// without bound by reconnecting with fresh keys. These keep such labels to a fixed number of values; whatever
// does not fit is counted under "other", so the sum over a family's series stays exact.
import type { Counter } from 'prom-client'

/** the label value for everything that has no series of its own */
export const OTHER = 'other'
/** peers with series of their own at once (each one costs a few series per per-peer family) */
export const MAX_PEER_SERIES = 32

type PeerCounter = Counter<'peer' | string>

/**
 * The `peer` label of per-peer counters: a peer has series of its own only while it is connected, and at most
 * `max` peers at once (the first to be counted); everything else (peers beyond the cap, events that arrive after
 * a peer left) is counted under peer="other". When a peer leaves, its series are removed, so its per-peer
 * counters restart from zero if it comes back: sums over time belong to the families without the peer label.
 */
export class PeerLabels {
  private readonly connected = new Set<string>()
  private readonly labelled = new Set<string>()
  private readonly families: Array<{ counter: PeerCounter, others: Array<Record<string, string>> }> = []

  constructor (readonly max = MAX_PEER_SERIES) {}

  /** a counter with a peer label, and every combination of its other labels (removed with the peer) */
  track (counter: PeerCounter, others: Array<Record<string, string>> = [{}]): void {
    this.families.push({ counter, others })
  }

  join (peer: string): void { this.connected.add(peer) }

  leave (peer: string): void {
    this.connected.delete(peer)
    if (!this.labelled.delete(peer)) return
    for (const { counter, others } of this.families) {
      for (const o of others) counter.remove({ ...o, peer })
    }
  }

  /** the label value to count this peer's event under */
  label (peer: string): string {
    if (this.labelled.has(peer)) return peer
    if (!this.connected.has(peer) || this.labelled.size >= this.max) return OTHER
    this.labelled.add(peer)
    return peer
  }

  /** peers with series of their own now */
  get size (): number { return this.labelled.size }
}
