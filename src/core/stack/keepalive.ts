// Connection liveness. libp2p's connection monitor pings every connection in the same tick, each
// interval, with a libp2p ping stream each; with 20 connections in one process (the 5-node benchmark) that
// burst stalled the event loop for 30-40 ms every 10 s. Here one sweep a second (on whole seconds, with the
// node's other periodic jobs: tick.ts; every half interval if that is shorter) checks every
// peer and pings only connections that need it, with 12-byte yamux PING frames (a few per sweep cost far
// less than the wake-ups separate timers would add), and closes a connection only after several
// consecutive failed pings, so a node busy with a flood (whose pings may be slow) is not cut off at once.
// Which connections need a ping:
// - one where data we sent has had no frame back for intervalMs (3 s): the data may be stuck behind a
//   silent partition, where TCP only retransmits with a doubling backoff, or the peer's process hangs;
//   closing it lets a fresh connection form as soon as the network heals (a silent partition is detected in
//   about interval + failures x (timeout + 1 s));
// - one quiet both ways, only after idleIntervalMs (30 s): its silent partition is the kernel's to notice,
//   with TCP keep-alive probes from 3 s of idle (the socket option set in libp2p.ts; about 13 s to a closed
//   socket, with no wake-up of either process while the peer is up), and the slow ping only catches a peer
//   whose process hangs while its kernel still answers. At N = 50 the 3 s pings on every quiet connection
//   were a third of an idle node's CPU, growing with its connections (13 each there).
// A connection counts as due at the sweep nearest its due time (less half a sweep), and a sweep that pings
// anything also pings what would fall due by the next sweep: with exact thresholds, pongs that came back a
// few ms apart, or a sweep that fired late, split peers pinged together onto alternating sweeps, and the
// process woke once per peer again. A failed ping is retried at the next sweep rather than after another
// interval.
// Pings go as yamux PING frames (12 bytes each way, answered inside the peer's muxer) where the connection
// has one: a libp2p ping opens a stream per ping (stream frames, multistream-select, close), which was about
// 70% of an idle daemon's CPU with a dozen connections. A peer whose process hangs stops answering either kind.
// Any frame received proves the peer alive (muxer-heard.ts), so a connection carrying traffic both ways is
// not pinged, a ping that times out while frames still arrive is not a miss, and on an idle connection only
// the dialer pings (the listener waits twice as long): one ping round per connection instead of two.
import type { Connection, PeerId } from '@libp2p/interface'
import type { SwarmHost } from './libp2p.js'
import { heardAgoMs, unansweredForMs } from './muxer-heard.js'
import { connectionPerPeer } from './connected-peers.js'
import { onWholeTicks } from '../tick.js'

export interface KeepAliveOptions {
  /** a connection whose data got no frame back for this long is pinged (default 3 s) */
  intervalMs?: number
  /** a connection quiet both ways is pinged by its dialer after this long (default 30 s; the kernel's TCP keep-alive watches it meanwhile) */
  idleIntervalMs?: number
  /** a ping not answered within this fails (default 3 s) */
  timeoutMs?: number
  /** consecutive failed pings before the connection is closed (default 3) */
  failures?: number
}

export class KeepAlive {
  /** one timer for all peers: on this VM each wake-up of an idle process costs about 0.5 ms of CPU, so
   * per-peer timers made keep-alive's cost grow with the number of connections */
  private stopTicks?: () => void
  private readonly misses = new Map<string, number>()
  private readonly inFlight = new Set<string>()
  private stopped = false
  private readonly intervalMs: number
  private readonly idleIntervalMs: number
  private readonly timeoutMs: number
  private readonly failures: number

  constructor (private readonly host: SwarmHost, opts: KeepAliveOptions = {}, private readonly log: (msg: string, extra?: object) => void = () => {}) {
    this.intervalMs = opts.intervalMs ?? 3_000
    this.idleIntervalMs = Math.max(this.intervalMs, opts.idleIntervalMs ?? 30_000)
    this.timeoutMs = opts.timeoutMs ?? 3_000
    this.failures = opts.failures ?? 3
  }

  start (): void {
    this.host.addEventListener('peer:connect', this.onConnect)
    this.host.addEventListener('peer:disconnect', this.onDisconnect)
    if (this.host.getConnections().length > 0) this.run()
  }

  stop (): void {
    this.stopped = true
    this.host.removeEventListener('peer:connect', this.onConnect)
    this.host.removeEventListener('peer:disconnect', this.onDisconnect)
    this.stopTicks?.()
    this.stopTicks = undefined
  }

  private readonly onConnect = (): void => { this.run() }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.misses.delete(evt.detail.toString())
  }

  /** a sweep every second (at most half the interval) on whole ticks, while there are connections */
  private run (): void {
    if (this.stopped || this.stopTicks != null) return
    this.stopTicks = onWholeTicks(this.sweepMs, () => { this.sweep() })
  }

  private get sweepMs (): number { return Math.min(1_000, this.intervalMs / 2) }

  private sweep (): void {
    const conns = connectionPerPeer(this.host.getConnections().filter(c => c.status === 'open'))
    if (conns.size === 0 || this.stopped) { this.stopTicks?.(); this.stopTicks = undefined; return }
    const idle = [...conns].filter(([key]) => !this.inFlight.has(key))
    // a failed ping is retried at the next sweep; otherwise only a connection that needs one (needsPing) is pinged
    const due = new Set(idle.filter(([key, conn]) => (this.misses.get(key) ?? 0) > 0 || this.needsPing(conn, this.sweepMs / 2)).map(([key]) => key))
    if (due.size === 0) return
    // this sweep wakes the process anyway: take along every connection that would fall due by the next
    // one, so peers pinged together stay together even when their pongs came back a little apart
    for (const [key, conn] of idle) {
      if (!due.has(key) && !this.needsPing(conn, 1.5 * this.sweepMs)) continue
      this.inFlight.add(key)
      void this.ping(conn.remotePeer, conn).finally(() => this.inFlight.delete(key))
    }
  }

  /** whether a connection needs a ping from this side (less slackMs): data of ours unanswered, or quiet both ways for long */
  private needsPing (conn: Connection, slackMs: number): boolean {
    const ago = heardAgoMs(conn)
    // a muxer that is not tracked: ping every interval from both sides, as before
    if (ago === undefined) return true
    const side = conn.direction === 'outbound' ? 1 : 2
    const unanswered = unansweredForMs(conn)
    if (unanswered !== undefined && unanswered >= side * this.intervalMs - slackMs) return true
    return ago >= side * this.idleIntervalMs - slackMs
  }

  private async ping (peer: PeerId, conn: Connection): Promise<void> {
    const key = peer.toString()
    try {
      const muxerPing = pingFrameOf(conn)
      const rtt = muxerPing != null
        ? await raceTimeout(muxerPing(), this.timeoutMs)
        : await this.host.services.ping.ping(peer, { signal: AbortSignal.timeout(this.timeoutMs) })
      // Connection.rtt is libp2p's own field for this (its connection monitor, which we replace, sets it)
      for (const c of this.host.getConnections(peer)) c.rtt = rtt
      this.misses.delete(key)
    } catch (err) {
      if (this.stopped) return
      // a peer without the ping protocol answered, so it is alive
      if ((err as Error).name === 'UnsupportedProtocolError') { this.misses.delete(key); return }
      // frames kept arriving while the pong was late: a busy peer, not a dead one
      const ago = heardAgoMs(conn)
      if (ago !== undefined && ago < this.timeoutMs) { this.misses.delete(key); return }
      const n = (this.misses.get(key) ?? 0) + 1
      this.misses.set(key, n)
      this.log('keep-alive ping failed', { peer: key, misses: n, err: (err as Error).message })
      if (n >= this.failures) {
        this.log('closing unresponsive connection', { peer: key })
        this.misses.delete(key)
        await this.host.hangUp(peer).catch(() => {})
      }
    }
  }
}

type PingFrame = () => Promise<number>

/**
 * the connection's yamux ping (Connection.muxer is libp2p-internal; versions pinned, test/keepalive.test.ts).
 * Called without a signal on purpose: yamux forgets an aborted ping, and a pong arriving after that is an
 * "unrequested ping" protocol error that closes the connection. Left pending, a late pong still settles it,
 * and the next ping while it is pending waits on the same one.
 */
export function pingFrameOf (conn: Connection): PingFrame | undefined {
  const muxer = (conn as unknown as { muxer?: { ping?: PingFrame, status?: string } }).muxer
  if (muxer == null || typeof muxer.ping !== 'function' || muxer.status !== 'open') return undefined
  return async () => await muxer.ping!.call(muxer)
}

/** p, or a rejection after ms (a plain timer: AbortSignal.timeout builds a DOMException with a stack each time it fires) */
async function raceTimeout<T> (p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('keep-alive ping timed out')), ms)
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}
