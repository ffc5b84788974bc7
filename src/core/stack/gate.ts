// Who may connect: libp2p's connection gater, by peer id (an allowlist, a denylist, temporary bans of
// misbehaving peers) and by source IP (a cap on live inbound connections per non-loopback address). The lists can be
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
    return n >= this.maxConnectionsPerIp
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
