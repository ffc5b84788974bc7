// Containment: once gossipsub's score graylists a peer, it ignores that peer's gossip, but the connection
// (and its sync traffic) would stay. Every second, peers scored under the graylist threshold are
// disconnected and banned for a while (node.ts bans through the connection gater).
import type { NodeHost } from './host.js'
import { gossipScore, SCORE_THRESHOLDS } from './stack/scoring.js'
import { onWholeTicks } from './tick.js'

export function banGraylisted (host: NodeHost, ban: (peer: string) => void, everyMs = 1_000): () => void {
  return onWholeTicks(everyMs, () => {
    let pubsub
    try { pubsub = host.pubsub } catch { return }
    for (const p of host.getPeers()) {
      const id = p.toString()
      if (gossipScore(pubsub, id) < SCORE_THRESHOLDS.graylistThreshold) ban(id)
    }
  })
}
