// What a node reports about itself: its connected peers (with the topics they share with us) and its
// status counters.
import type { NodeHost } from './host.js'
import type { SyncHealth } from './sync/health.js'

export type { SyncHealth, PeerSyncHealth } from './sync/health.js'

export interface PeerInfo {
  id: string
  addrs: string[]
  /** 'inbound', 'outbound', or 'both' while two connections to the peer are open */
  direction: string
  topics: string[]
  /** round-trip time of the last keep-alive ping, ms (none before the first; the best of its connections) */
  rtt?: number
}

export interface NodeStatus {
  peerId: string
  addresses: string[]
  peers: number
  topics: number
  consumers: number
  /** store writes queued, not yet committed */
  pendingWrites: number
  /** own messages waiting for gossip */
  gossipQueued: number
  /** own messages not gossiped because peers could not keep up (they travel by sync) */
  gossipSkipped: number
  /** gossip bundles published, and the own envelopes they carried (the rest went one per gossip message) */
  gossipBundles: number
  gossipBundled: number
  /** inbound gossip messages left to sync because this node was overloaded */
  inboundShed: number
  /** connected gossipsub peers whose missing outbound stream this node asked gossipsub to open again */
  gossipStreamsReopened: number
  /** peers' gossipsub streams aborted because the peer stopped taking bytes (outbox.ts) */
  gossipStreamsStalled: number
  /** gossip messages dropped unread because this node does not keep their topic (topic-filter.ts) */
  gossipDroppedUnjoined: number
  /** mDNS answers not passed on: a new peer id from a LAN address that already introduced its share (mdns.ts) */
  mdnsRefusedNewPeers: number
  /** envelopes rejected (bad signature, malformed, oversized) */
  rejected: number
  /** of those, envelopes from an origin not allowed to publish on the topic */
  unauthorized: number
  /** Ed25519 signatures verified (sync batches need about one per batch thanks to the hash chain) */
  signatureChecks: number
  /** streams (topic, origin) whose origin signed two different versions of one seq (a fork, forks.ts) */
  forks: number
  /** envelopes not stored because their stream is blocked from its fork up */
  forkRefused: number
  /** envelopes of new origins refused: their topic had as many origins as it keeps (maxOriginsPerTopic) */
  originsRefused: number
  /** the forked streams and the seq each is blocked from (the first 100) */
  forked: Array<{ topic: string, origin: string, seq: number }>
  /** stored rows found undecodable and moved to quarantine (fetched again from peers) */
  quarantined: number
  /**
   * set once an fsync of the store's WAL failed: why. Nothing is stored or acked as durable from then on;
   * a restart reopens the store clean (store/wal.ts)
   */
  storeFailed?: string
  /** messages refused since (own publishes, and received ones that peers still hold) */
  storeRefused: number
  /** WAL fsyncs done, and the time they took */
  fsyncs: number
  fsyncSeconds: number
  /** WAL checkpoints done on the store's worker thread, their time there, and those that failed (0 when inline) */
  checkpoints: number
  checkpointSeconds: number
  checkpointFailures: number
  /** sync health: pulls, failures and stalls (in all and per peer), holes and gaps */
  sync: SyncHealth
}

/**
 * Every connected peer once, with the joined topics it subscribes to. Two nodes that dial each other at the same
 * moment hold two connections (libp2p keeps both); the peer is still one peer (its addresses and directions merged).
 */
export function peerInfos (host: NodeHost, joined: string[]): PeerInfo[] {
  const pubsub = host.pubsub
  const byPeer = new Map<string, PeerInfo>()
  for (const c of host.getConnections()) {
    if (c.status !== 'open') continue
    const id = c.remotePeer.toString()
    const addr = c.remoteAddr.toString()
    const seen = byPeer.get(id)
    if (seen == null) {
      byPeer.set(id, {
        id,
        addrs: [addr],
        direction: c.direction,
        topics: joined.filter(t => pubsub.getSubscribers(t).some(p => p.equals(c.remotePeer))),
        rtt: c.rtt,
      })
      continue
    }
    if (!seen.addrs.includes(addr)) seen.addrs.push(addr)
    if (seen.direction !== c.direction) seen.direction = 'both'
    if (c.rtt != null && (seen.rtt == null || c.rtt < seen.rtt)) seen.rtt = c.rtt
  }
  return [...byPeer.values()]
}
