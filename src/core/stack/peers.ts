// Keeps the swarm connected: dials what mDNS discovers, and keeps static peers connected, redialing
// with exponential backoff when they drop. Never dials itself; when two nodes discover each other at
// the same time only the one with the smaller peer id dials at once, so they do not end up with two
// connections (the other dials only if still unconnected a little later).
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import type { SwarmHost } from './libp2p.js'

const BACKOFF_MIN_MS = 500
const BACKOFF_MAX_MS = 30_000
const TIE_BREAK_DELAY_MS = 1_500

interface StaticPeer { addr: Multiaddr, peerId?: PeerId, nextDial: number, backoff: number, dialing: boolean }

export class PeerKeeper {
  private readonly statics: StaticPeer[]
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
    this.tick()
    this.timer = setInterval(() => this.tick(), 250)
    this.timer.unref()
  }

  stop (): void {
    this.stopped = true
    this.host.removeEventListener('peer:discovery', this.onDiscovery)
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

  private tick (): void {
    const now = Date.now()
    for (const p of this.statics) {
      if (this.stopped || p.dialing || now < p.nextDial) continue
      if (p.peerId != null && (p.peerId.equals(this.host.peerId) || this.connected(p.peerId))) { p.backoff = BACKOFF_MIN_MS; continue }
      p.dialing = true
      this.host.dial(p.addr).then(conn => {
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
