// gossipsub v1.1 peer scoring for gossipd. With these weights about six invalid messages in a short while
// graylist a peer (-2n² for gossip, -5 per penalty point); one or two (a clock glitch, a race) do not.
// Each joined topic gets score params (added on join, as topics
// are dynamic): invalid messages cost a lot (the P4 penalty is squared), first deliveries and time in the
// mesh earn a little, and mesh-delivery-rate penalties are off, since a quiet topic is normal here. The
// application part is gossipd's own penalty record (penalties.ts: invalid envelopes by gossip and by sync).
// Below graylistThreshold gossipsub ignores everything the peer sends.
// IP colocation scoring is off: a LAN host, or every test on 127.0.0.1, runs many honest nodes; the gater
// caps connections per IP instead (gate.ts).
import type { GossipsubOpts, GossipSub } from '@libp2p/gossipsub'

// acceptPXThreshold is unreachable: peer exchange (peer records in a PRUNE) made gossipsub dial whatever
// addresses a peer put in them, once its score reached 10 (twenty valid first deliveries do), 17 dials of an
// attacker-chosen address from one PRUNE in a review. gossipd finds peers by mDNS and static peers only.
export const SCORE_THRESHOLDS = { gossipThreshold: -10, publishThreshold: -50, graylistThreshold: -80, acceptPXThreshold: Infinity, opportunisticGraftThreshold: 20 }

// every field of gossipsub's TopicScoreParams (its createTopicScoreParams is not exported)
const TOPIC_PARAMS = {
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1_000,
  timeInMeshCap: 300,
  firstMessageDeliveriesWeight: 0.5,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 20,
  meshMessageDeliveriesWeight: 0,
  meshMessageDeliveriesDecay: 0.5,
  meshMessageDeliveriesCap: 100,
  meshMessageDeliveriesThreshold: 1,
  meshMessageDeliveriesWindow: 10,
  meshMessageDeliveriesActivation: 5_000,
  meshFailurePenaltyWeight: 0,
  meshFailurePenaltyDecay: 0.5,
  invalidMessageDeliveriesWeight: -2,
  invalidMessageDeliveriesDecay: 0.9,
}

/** gossipsub options that turn scoring on; `penalty(peer)` is gossipd's own (decaying) penalty points */
export function scoringOptions (penalty: (peer: string) => number): Partial<GossipsubOpts> {
  return {
    scoreParams: {
      appSpecificScore: peer => -penalty(peer),
      appSpecificWeight: 5,
      IPColocationFactorWeight: 0,
      behaviourPenaltyWeight: -10,
      behaviourPenaltyDecay: 0.9,
      decayInterval: 1_000,
    },
    scoreThresholds: SCORE_THRESHOLDS,
  }
}

/** the part of gossipsub's class (not of its GossipSub interface) that holds the live score params */
interface Scored { score?: { params?: { topics?: Record<string, unknown> } } }

/** give a joined topic its score params (once); gossipsub reads them on every score computation */
export function scoreTopic (pubsub: GossipSub, topic: string): void {
  const topics = (pubsub as unknown as Scored).score?.params?.topics
  if (topics != null && topics[topic] == null) topics[topic] = { ...TOPIC_PARAMS }
}

/** a peer's current gossipsub score (0 when scoring is off or the peer is unknown) */
export function gossipScore (pubsub: GossipSub, peer: string): number {
  return (pubsub as unknown as { getScore?: (p: string) => number }).getScore?.(peer) ?? 0
}
