// Misbehaviour of connected peers, as a score that decays: an envelope that fails validation (bad signature,
// publisher not allowed, malformed) costs its relaying peer a point, by gossip or by sync. gossipsub reads
// it as the application-specific part of its peer score (stack/scoring.ts), so a peer that keeps sending
// invalid messages is graylisted; past a hard limit the node disconnects it (node.ts).
import { monotonicNow } from './monotonic.js'

export class PeerPenalties {
  private readonly points = new Map<string, { n: number, at: number }>()

  /** penalty points halve every halfLifeMs */
  constructor (private readonly halfLifeMs = 60_000) {}

  add (peer: string, n = 1): number {
    const now = monotonicNow()
    const p = this.current(peer, now) + n
    this.points.set(peer, { n: p, at: now })
    if (this.points.size > 10_000) this.prune(now)
    return p
  }

  /** current (decayed) points of a peer */
  get (peer: string): number { return this.current(peer, monotonicNow()) }

  private current (peer: string, now: number): number {
    const e = this.points.get(peer)
    return e == null ? 0 : e.n * Math.pow(0.5, (now - e.at) / this.halfLifeMs)
  }

  private prune (now: number): void {
    for (const [peer] of this.points) if (this.current(peer, now) < 0.5) this.points.delete(peer)
  }
}
