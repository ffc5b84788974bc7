// The peers this node has connections to. libp2p's getPeers() collects them in a PeerSet (keyed by the id
// string) and parses every string back into a new PeerId, whose toString() then base58-encodes it again:
// about a third of an idle daemon's allocations with a dozen peers, called every second by several timers.
// This returns the connections' own PeerId objects, whose string form is computed once.
import type { Connection, PeerId } from '@libp2p/interface'

export function connectedPeers (host: { getConnections: () => Connection[] }): PeerId[] {
  const seen = new Set<string>()
  const peers: PeerId[] = []
  for (const c of host.getConnections()) {
    const id = c.remotePeer.toString()
    if (!seen.has(id)) { seen.add(id); peers.push(c.remotePeer) }
  }
  return peers
}
