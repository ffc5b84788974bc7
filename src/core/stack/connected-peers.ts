// The peers this node has connections to. libp2p's getPeers() collects them in a PeerSet (keyed by the id
// string) and parses every string back into a new PeerId, whose toString() then base58-encodes it again:
// about a third of an idle daemon's allocations with a dozen peers, called every second by several timers.
// This returns the connections' own PeerId objects, whose string form is computed once.
import type { Connection, PeerId } from '@libp2p/interface'

export function connectedPeers (host: { getConnections: () => Connection[] }): PeerId[] {
  return [...connectionPerPeer(host.getConnections()).values()].map(c => c.remotePeer)
}

/** the first of the given connections to each peer, keyed by peer id */
export function connectionPerPeer (conns: Connection[]): Map<string, Connection> {
  const byPeer = new Map<string, Connection>()
  for (const c of conns) {
    const id = c.remotePeer.toString()
    if (!byPeer.has(id)) byPeer.set(id, c)
  }
  return byPeer
}
