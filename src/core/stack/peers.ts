// Keeps the swarm connected: dials what mDNS discovers, and keeps static peers connected, redialing
// with exponential backoff (capped at 2 s) when they drop. Never dials itself; when two nodes discover each other at
// the same time only the one with the smaller peer id dials at once, so they do not end up with two
// connections (the other dials only if still unconnected a little later). A discovered peer whose
// connection drops (keep-alive closed it during a partition, or it restarted) is redialed too: libp2p
// announces a peer by mDNS only the first time, so without this it would stay apart after the heal.
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import type { SwarmHost } from './libp2p.js'

const BACKOFF_MIN_MS = 500
/** a static peer is redialed at least this often, so it reconnects within moments of a partition healing */
const BACKOFF_MAX_MS = 2_000
/** a dial that hangs (SYNs into a partition) is given up after this, so the next one goes out fresh */
const DIAL_TIMEOUT_MS = 2_000
const TIE_BREAK_DELAY_MS = 1_500

/** lost peers are redialed every second for this long (a partition's heal is noticed at once), then ever less often */
const LOST_FAST_MS = 60_000
const LOST_FAST_EVERY_MS = 1_000
const LOST_SLOW_MAX_MS = 30_000
/** and forgotten after this */
const LOST_FORGET_MS = 60 * 60_000

interface StaticPeer { addr: Multiaddr, peerId?: PeerId, nextDial: number, backoff: number, dialing: boolean }
interface LostPeer { peer: PeerId, since: number, nextDial: number, backoff: number, dialing: boolean }

export class PeerKeeper {
  private readonly statics: StaticPeer[]
  private readonly lost = new Map<string, LostPeer>()
  private timer?: NodeJS.Timeout
  private stopped = false

  constructor (private readonly host: SwarmHost, staticPeers: string[], private readonly log: (msg: string, extra?: object) => void = () => {}) {
    this.statics = staticPeers.map(s => {
      const addr = multiaddr(s)
      const id = addr.getComponents().find(c => c.name === 'p2p')?.value
      return { addr, peerId: id != null ? peerIdFromString(id) : undefined, nextDial: 0, backoff: BACKOFF_MIN_MS, dialing: false }
    })
  }

  start (): void {
    this.host.addEventListener('peer:discovery', this.onDiscovery)
    this.host.addEventListener('peer:connect', this.onConnect)
    this.host.addEventListener('peer:disconnect', this.onDisconnect)
    this.tick()
    this.timer = setInterval(() => this.tick(), 250)
    this.timer.unref()
  }

  stop (): void {
    this.stopped = true
    this.host.removeEventListener('peer:discovery', this.onDiscovery)
    this.host.removeEventListener('peer:connect', this.onConnect)
    this.host.removeEventListener('peer:disconnect', this.onDisconnect)
    if (this.timer != null) clearInterval(this.timer)
  }

  private connected (peer: PeerId): boolean {
    return this.host.getConnections(peer).some(c => c.status === 'open')
  }

  private readonly onDiscovery = (evt: CustomEvent<{ id: PeerId }>): void => {
    const peer = evt.detail.id
    if (this.stopped || peer.equals(this.host.peerId) || this.connected(peer)) return
    const dial = (): void => {
      if (this.stopped || this.connected(peer)) return
      this.host.dial(peer).catch(err => this.log('discovered peer not reachable', { peer: peer.toString(), err: (err as Error).message }))
    }
    if (this.host.peerId.toString() < peer.toString()) dial()
    else setTimeout(dial, TIE_BREAK_DELAY_MS).unref()
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => { this.lost.delete(evt.detail.toString()) }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail
    if (this.stopped || this.statics.some(p => p.peerId?.equals(peer) === true)) return
    // as with discovery, only one side redials at once; the other waits a little
    const first = this.host.peerId.toString() < peer.toString() ? 0 : TIE_BREAK_DELAY_MS
    this.lost.set(peer.toString(), { peer, since: Date.now(), nextDial: Date.now() + first, backoff: BACKOFF_MIN_MS, dialing: false })
  }

  private redialLost (now: number): void {
    for (const [key, p] of this.lost) {
      if (now - p.since > LOST_FORGET_MS || this.connected(p.peer)) { this.lost.delete(key); continue }
      if (p.dialing || now < p.nextDial) continue
      p.dialing = true
      this.host.dial(p.peer, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).then(() => { this.lost.delete(key) }, err => {
        p.nextDial = Date.now() + p.backoff
        this.log('lost peer redial failed', { peer: key, retryInMs: p.backoff, err: (err as Error).message })
        p.backoff = Math.min(p.backoff * 2, Date.now() - p.since < LOST_FAST_MS ? LOST_FAST_EVERY_MS : LOST_SLOW_MAX_MS)
      }).finally(() => { p.dialing = false })
    }
  }

  private tick (): void {
    const now = Date.now()
    if (!this.stopped) this.redialLost(now)
    for (const p of this.statics) {
      if (this.stopped || p.dialing || now < p.nextDial) continue
      if (p.peerId != null && (p.peerId.equals(this.host.peerId) || this.connected(p.peerId))) { p.backoff = BACKOFF_MIN_MS; continue }
      p.dialing = true
      this.host.dial(p.addr, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).then(conn => {
        p.peerId ??= conn.remotePeer
        p.backoff = BACKOFF_MIN_MS
      }, err => {
        p.nextDial = Date.now() + p.backoff
        this.log('static peer dial failed', { addr: p.addr.toString(), retryInMs: p.backoff, err: (err as Error).message })
        p.backoff = Math.min(p.backoff * 2, BACKOFF_MAX_MS)
      }).finally(() => { p.dialing = false })
    }
  }
}
