// Per-peer pull bookkeeping: counts and times for status, and the backoff of peers whose pulls fail or
// stall. A stalling peer (it keeps a pull open without sending anything useful) backs off much longer
// than one that merely dropped, and a new connection clears only the backoff of plain failures.
// Backoffs run on the monotonic clock, so a wall clock stepped back cannot stretch them; the times shown are wall-clock.
import { monotonicNow } from '../monotonic.js'

export interface PeerSyncHealth {
  peer: string
  pulls: number
  failures: number
  stalls: number
  /** ms epoch of the last pull started, succeeded, failed (0: never) */
  lastPull: number
  lastSuccess: number
  lastErrorAt: number
  lastError?: string
  /** ms until this peer is pulled again in the background (0: not backing off) */
  backoffMs: number
}

export interface SyncHealth {
  pulls: number
  failures: number
  stalls: number
  /** pulls running and waiting now */
  active: number
  queued: number
  /** (topic, origin) holes being repaired (hole-triggered pulls back off per hole) */
  holes: number
  /** consumers' holes waited on now, and gaps given up since start */
  gapsWaiting: number
  gapsGivenUp: number
  /** sync requests from peers refused since start: over their per-peer rate */
  refused: number
  /** the background pull's mean interval now: the configured one while things change, up to 6x when idle */
  intervalMs: number
  peers: PeerSyncHealth[]
}

const FAIL_BACKOFF_MIN_MS = 1_000
const FAIL_BACKOFF_MAX_MS = 5_000
const STALL_BACKOFF_MIN_MS = 10_000
const STALL_BACKOFF_MAX_MS = 120_000
/** peers remembered for status at most */
const MAX_PEERS = 1_000

interface Entry extends Omit<PeerSyncHealth, 'backoffMs'> { backoff: number, retryAt: number, stalled: boolean, timer?: NodeJS.Timeout }

export class PeerHealth {
  private readonly peers = new Map<string, Entry>()
  private pulls = 0
  private failures = 0
  private stalls = 0

  private of (peer: string): Entry {
    let e = this.peers.get(peer)
    if (e == null) {
      if (this.peers.size >= MAX_PEERS) {
        const oldest = [...this.peers.values()].sort((a, b) => a.lastPull - b.lastPull)[0]
        clearTimeout(oldest.timer)
        this.peers.delete(oldest.peer)
      }
      e = { peer, pulls: 0, failures: 0, stalls: 0, lastPull: 0, lastSuccess: 0, lastErrorAt: 0, backoff: 0, retryAt: 0, stalled: false }
      this.peers.set(peer, e)
    }
    return e
  }

  started (peer: string): void {
    const e = this.of(peer)
    e.pulls++; this.pulls++
    e.lastPull = Date.now()
  }

  succeeded (peer: string): void {
    const e = this.of(peer)
    e.lastSuccess = Date.now()
    e.backoff = 0; e.retryAt = 0; e.stalled = false
  }

  failed (peer: string, err: Error, stalled: boolean): void {
    const e = this.of(peer)
    e.failures++; this.failures++
    if (stalled) { e.stalls++; this.stalls++ }
    e.lastErrorAt = Date.now()
    e.lastError = err.message
    e.stalled = e.stalled || stalled
    const [min, max] = e.stalled ? [STALL_BACKOFF_MIN_MS, STALL_BACKOFF_MAX_MS] : [FAIL_BACKOFF_MIN_MS, FAIL_BACKOFF_MAX_MS]
    e.backoff = Math.min(Math.max(e.backoff * 2, min), max)
    e.retryAt = monotonicNow() + e.backoff
  }

  /** a new connection: a peer that only dropped is pulled at once again; a staller keeps its backoff */
  connected (peer: string): void {
    const e = this.peers.get(peer)
    if (e != null && !e.stalled) { e.retryAt = 0; clearTimeout(e.timer); e.timer = undefined }
  }

  backingOff (peer: string): boolean {
    return (this.peers.get(peer)?.retryAt ?? 0) > monotonicNow()
  }

  backoffOf (peer: string): number {
    return Math.max(0, (this.peers.get(peer)?.retryAt ?? 0) - monotonicNow())
  }

  /** If the peer is backing off, run `retry` once when the backoff ends and return true. */
  deferred (peer: string, retry: () => void): boolean {
    const e = this.peers.get(peer)
    const wait = (e?.retryAt ?? 0) - monotonicNow()
    if (e == null || wait <= 0) return false
    if (e.timer == null) {
      e.timer = setTimeout(() => { e.timer = undefined; retry() }, wait)
      e.timer.unref()
    }
    return true
  }

  stop (): void {
    for (const e of this.peers.values()) clearTimeout(e.timer)
  }

  report (now: Omit<SyncHealth, 'pulls' | 'failures' | 'stalls' | 'peers'>): SyncHealth {
    const t = monotonicNow()
    const peers = [...this.peers.values()].map(e => ({
      peer: e.peer, pulls: e.pulls, failures: e.failures, stalls: e.stalls, lastPull: e.lastPull, lastSuccess: e.lastSuccess,
      lastErrorAt: e.lastErrorAt, ...(e.lastError != null ? { lastError: e.lastError } : {}), backoffMs: Math.max(0, e.retryAt - t),
    }))
    return { pulls: this.pulls, failures: this.failures, stalls: this.stalls, ...now, peers }
  }
}
