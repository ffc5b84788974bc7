// The daemon's log lines for rejected envelopes. How many a peer causes is the peer's choice (a sync batch
// can carry tens of thousands of bad envelopes), so lines are rate-limited per peer and in all. Nothing is
// lost by that: every envelope is counted in status.rejected and gossipd_messages_rejected_total, the lines
// that were left out are summed up in the peer's next line, and the last line before the limit says so.
import type { NodeEvents } from '../core/events.js'

type Rejected = NodeEvents['rejected'][0]
type Warn = (obj: object, msg: string) => void

/** per peer: lines per window */
export const REJECT_LINES_PER_PEER = 5
/** all peers together: lines per window */
export const REJECT_LINES_IN_ALL = 50
export const REJECT_LOG_WINDOW_MS = 60_000
/** peers remembered (a window each); past it, the ones whose window ended are dropped */
const MAX_PEERS = 10_000

interface Window { start: number, lines: number, unloggedEvents: number, unloggedEnvelopes: number }

export class RejectLog {
  private readonly peers = new Map<string, Window>()
  private all: Window

  constructor (private readonly warn: Warn, private readonly now: () => number = Date.now) {
    this.all = this.fresh(now())
  }

  rejected (r: Rejected): void {
    // node.ts logs bans itself ('peer banned'); the event carries no envelope
    if (r.banned === true) return
    const t = this.now()
    if (t - this.all.start >= REJECT_LOG_WINDOW_MS) {
      const before = this.all
      this.all = this.fresh(t)
      if (before.unloggedEvents > 0) this.warn({ unloggedEvents: before.unloggedEvents, unloggedEnvelopes: before.unloggedEnvelopes }, 'rejections not logged in the last window (all peers; counted in status.rejected)')
    }
    let w = this.peers.get(r.peer)
    let carried: Window | undefined
    if (w == null || t - w.start >= REJECT_LOG_WINDOW_MS) {
      if (w != null && w.unloggedEvents > 0) carried = w
      if (w == null && this.peers.size >= MAX_PEERS) this.prune(t)
      w = this.fresh(t)
      this.peers.set(r.peer, w)
    }
    if (w.lines >= REJECT_LINES_PER_PEER || this.all.lines >= REJECT_LINES_IN_ALL) {
      w.unloggedEvents++
      w.unloggedEnvelopes += r.count ?? 1
      this.all.unloggedEvents++
      this.all.unloggedEnvelopes += r.count ?? 1
      return
    }
    w.lines++
    this.all.lines++
    const extra: Record<string, unknown> = {}
    if (carried != null) { extra.unloggedEvents = carried.unloggedEvents; extra.unloggedEnvelopes = carried.unloggedEnvelopes }
    if (w.lines === REJECT_LINES_PER_PEER) extra.note = `further rejections from this peer in the next ${REJECT_LOG_WINDOW_MS / 1000} s are counted (status.rejected) but not logged`
    else if (this.all.lines === REJECT_LINES_IN_ALL) extra.note = `further rejections in the next ${REJECT_LOG_WINDOW_MS / 1000} s are counted (status.rejected) but not logged`
    this.warn({ ...r, ...extra }, 'rejected message from peer')
  }

  private fresh (start: number): Window { return { start, lines: 0, unloggedEvents: 0, unloggedEnvelopes: 0 } }

  private prune (t: number): void {
    for (const [peer, w] of this.peers) if (t - w.start >= REJECT_LOG_WINDOW_MS) this.peers.delete(peer)
    if (this.peers.size >= MAX_PEERS) this.peers.clear()
  }
}
