// Where a signature is checked. On libuv's pool a check costs the main thread little, but the answer
// comes back a round trip later (~130 µs on an idle machine here, and two thread wake-ups that each wait
// for a free core when the machine is loaded); on the main thread it costs ~80 µs and no wait. At low
// rates latency is what matters and the main thread is mostly idle, so checks run inline; past a budget
// per window (a bounded share of the main thread) they go to the pool, which also spreads a burst over
// every core.

export class InlineBudget {
  private windowStart = -Infinity
  private used = 0

  /** perWindow inline checks per windowMs (default 40 per 100 ms: at most ~3% of the main thread) */
  constructor (private readonly perWindow = 40, private readonly windowMs = 100) {}

  /** true: do this one inline (and count it); false: the budget of this window is spent */
  take (now: number = performance.now()): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now
      this.used = 0
    }
    if (this.used >= this.perWindow) return false
    this.used++
    return true
  }
}
