// Who may connect: libp2p's connection gater, by peer id (an allowlist, a denylist, temporary bans of
// misbehaving peers) and by source IP (a cap on live inbound sockets per non-loopback address, those still in
// their handshake included). The lists can be
// replaced while running (the daemon does so on SIGHUP); the node then closes connections now denied.
// The peer-id checks run once the connection is encrypted (Noise has proven the id), before any stream.
import type { ConnectionGater, Connection, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { monotonicNow } from '../monotonic.js'

export interface PeerAccess {
  /** only these peer ids may connect (undefined: everyone not denied) */
  allow?: string[]
  /** these peer ids may never connect */
  deny?: string[]
}

export class PeerGate {
  private allow?: Set<string>
  private deny = new Set<string>()
  /** when each ban ends, on the monotonic clock: a step of the wall clock must not lengthen or end it */
  private readonly banned = new Map<string, number>()
  /** live connections, once libp2p exists (the gater is built before it) */
  connections: () => Connection[] = () => []
  /**
   * inbound sockets let in, per IP, until they close: libp2p lists a connection only once its Noise and
   * yamux handshakes are done (up to its 10 s inbound upgrade timeout), so counting connections alone let one
   * device past the cap with dials made at once (13 connections under a cap of 8), or hold all 50 of
   * libp2p's pending-handshake slots with sockets that never speak, which kept every inbound peer out
   */
  private readonly sockets = new Map<string, Set<MultiaddrConnection>>()

  constructor (access: PeerAccess = {}, readonly maxConnectionsPerIp = 8) { this.set(access) }

  set (access: PeerAccess): void {
    this.allow = access.allow != null ? new Set(access.allow) : undefined
    this.deny = new Set(access.deny ?? [])
  }

  /** refuse a misbehaving peer for a while */
  ban (peer: string, ms: number): void { this.banned.set(peer, monotonicNow() + ms) }

  /** true while a ban of this peer runs */
  isBanned (peer: string): boolean { return (this.banned.get(peer) ?? 0) > monotonicNow() }

  denies (peer: string): boolean {
    const until = this.banned.get(peer)
    if (until != null) {
      if (until > monotonicNow()) return true
      this.banned.delete(peer)
    }
    return this.deny.has(peer) || (this.allow != null && !this.allow.has(peer))
  }

  private tooManyFrom (maConn: MultiaddrConnection): boolean {
    const ip = hostOf(maConn.remoteAddr.toString())
    // loopback is one machine's own processes (many nodes per host in tests, benches and netns-free setups)
    if (ip == null || ip === '::1' || ip.startsWith('127.')) return false
    let n = 0
    for (const c of this.connections()) if (c.direction === 'inbound' && hostOf(c.remoteAddr.toString()) === ip) n++
    const live = this.sockets.get(ip) ?? new Set<MultiaddrConnection>()
    // (a socket whose close event we missed is dropped here, so a slot can never leak)
    for (const s of live) if (s.status !== 'open') live.delete(s)
    if (Math.max(n, live.size) >= this.maxConnectionsPerIp) return true
    live.add(maConn)
    this.sockets.set(ip, live)
    maConn.addEventListener('close', () => {
      live.delete(maConn)
      if (live.size === 0 && this.sockets.get(ip) === live) this.sockets.delete(ip)
    }, { once: true })
    return false
  }

  gater (): ConnectionGater {
    const byId = (peer: PeerId): boolean => this.denies(peer.toString())
    return {
      denyDialPeer: byId,
      denyInboundConnection: maConn => this.tooManyFrom(maConn),
      denyInboundEncryptedConnection: byId,
      denyOutboundEncryptedConnection: byId,
    }
  }
}

function hostOf (addr: string): string | undefined {
  return /^\/(?:ip4|ip6)\/([^/]+)/.exec(addr)?.[1]
}
