// A bound on the origins (publishers) a node keeps per topic. Every origin costs each node memory (~1.4 KB
// measured), a row, and work at every sync pull, for good: its marks outlive its messages. A peer can mint
// keys for free, so on a topic without a `publishers` list it could grow every node of the LAN without end.
// Past the bound, messages of origins not yet known are refused (not stored, not forwarded, counted and
// logged, nobody penalised: an honest relay may be passing them on), as JetStream's "discard new". Origins
// already known, and this node's own, always get in. While a topic is full its sync pulls ask for the
// origins it knows only (protocol.ts, `listed`), so servers do not send what would be refused at every pull.
import type { Store } from '../store/store.js'

/** default origins per topic: dozens of daemons, each keeping its key, are far below it */
export const DEFAULT_MAX_ORIGINS_PER_TOPIC = 5_000
/** the most a node may be configured with: a full topic's pull lists them all, and a server takes 10,000 */
export const MAX_ORIGINS_PER_TOPIC_LIMIT = 9_000

export class OriginLimit {
  /** per topic, new origins admitted and not yet committed (the store does not count them yet) */
  private readonly admitting = new Map<string, Map<string, number>>()

  constructor (private readonly store: Store, readonly max: number, private readonly own?: string) {}

  /** whether the topic keeps no more origins */
  full (topic: string): boolean {
    const held = this.store.originCount(topic)
    const a = this.admitting.get(topic)
    if (a == null || held + a.size < this.max) return held >= this.max
    // an admitted origin is committed (the store counts it) before its insert is acked (the fsync) and
    // settled: counted once. Those are known now and need no entry (known() and admit() ask the store first)
    for (const origin of a.keys()) if (this.store.heldState(topic, origin) != null) a.delete(origin)
    if (a.size === 0) this.admitting.delete(topic)
    return held + a.size >= this.max
  }

  private known (topic: string, origin: string): boolean {
    return origin === this.own || this.store.heldState(topic, origin) != null || this.admitting.get(topic)?.has(origin) === true
  }

  /** cheap, before any signature check: false when the origin is new and the topic is full */
  mayAdmit (topic: string, origin: string): boolean {
    return this.known(topic, origin) || !this.full(topic)
  }

  /**
   * Right before storing a verified envelope: true (and the origin counted until `settled`) when it may be
   * stored, false when it is refused. Exact, where mayAdmit is not: origins still being committed count.
   */
  admit (topic: string, origin: string): boolean {
    if (origin === this.own || this.store.heldState(topic, origin) != null) return true
    let a = this.admitting.get(topic)
    const n = a?.get(origin)
    if (n == null && this.full(topic)) return false
    if (a == null) { a = new Map(); this.admitting.set(topic, a) }
    a.set(origin, (n ?? 0) + 1)
    return true
  }

  /** the store call for an admitted envelope ended (committed, a duplicate, or failed) */
  settled (topic: string, origin: string): void {
    const a = this.admitting.get(topic)
    const n = a?.get(origin)
    if (a == null || n == null) return
    if (n > 1) a.set(origin, n - 1)
    else a.delete(origin)
    if (a.size === 0) this.admitting.delete(topic)
  }
}
