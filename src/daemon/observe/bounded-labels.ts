// Label values that a remote peer chooses (its id, a topic it names, a reason text) must not become one series
// each: any device on the network could then grow /metrics, the daemon's memory and every scraper's storage
// without bound by reconnecting with fresh keys. These keep such labels to a fixed number of values; whatever
// does not fit is counted under "other", so the sum over a family's series stays exact.
import type { Counter } from 'prom-client'
import type { GossipsubOpts } from '@libp2p/gossipsub'

/** the label value for everything that has no series of its own */
export const OTHER = 'other'
/** peers with series of their own at once (each one costs a few series per per-peer family) */
export const MAX_PEER_SERIES = 32
/** distinct values a free-text label (a rejection reason) may take before the rest count as "other" */
export const MAX_REASON_SERIES = 32
/** a longer free-text label value is cut to this many characters */
export const MAX_LABEL_CHARS = 120

type PeerCounter = Counter<'peer' | string>

/**
 * The `peer` label of per-peer counters: a peer has series of its own only while it is connected, and at most
 * `max` peers at once (the first to be counted); everything else (peers beyond the cap, events that arrive after
 * a peer left) is counted under peer="other". When a peer leaves, its series are removed, so its per-peer
 * counters restart from zero if it comes back: sums over time belong to the families without the peer label.
 */
export class PeerLabels {
  private readonly connected = new Set<string>()
  private readonly labelled = new Set<string>()
  private readonly families: Array<{ counter: PeerCounter, others: Array<Record<string, string>> }> = []

  constructor (readonly max = MAX_PEER_SERIES) {}

  /** a counter with a peer label, and every combination of its other labels (removed with the peer) */
  track (counter: PeerCounter, others: Array<Record<string, string>> = [{}]): void {
    this.families.push({ counter, others })
  }

  join (peer: string): void { this.connected.add(peer) }

  leave (peer: string): void {
    this.connected.delete(peer)
    if (!this.labelled.delete(peer)) return
    for (const { counter, others } of this.families) {
      for (const o of others) counter.remove({ ...o, peer })
    }
  }

  /** the label value to count this peer's event under */
  label (peer: string): string {
    if (this.labelled.has(peer)) return peer
    if (!this.connected.has(peer) || this.labelled.size >= this.max) return OTHER
    this.labelled.add(peer)
    return peer
  }

  /** peers with series of their own now */
  get size (): number { return this.labelled.size }
}

/**
 * A free-text label (the node's rejection reasons are fixed texts today, but nothing in the event's type keeps
 * them so): the first `max` distinct values keep their text, cut to MAX_LABEL_CHARS; later ones are "other".
 */
export class CappedLabel {
  private readonly seen = new Set<string>()

  constructor (readonly max = MAX_REASON_SERIES) {}

  label (value: string): string {
    const v = value.length > MAX_LABEL_CHARS ? value.slice(0, MAX_LABEL_CHARS) : value
    if (this.seen.has(v)) return v
    if (this.seen.size >= this.max) return OTHER
    this.seen.add(v)
    return v
  }
}

/**
 * gossipsub's topic -> label map (its `metricsTopicStrToLabel`): gossipsub labels a topic it finds no label for
 * with the topic's own name, and it counts messages and IHAVEs on topics that peers name, joined or not. Here a
 * topic this node has not joined reads as "other".
 */
export class TopicLabels extends Map<string, string> {
  override get (topic: string): string { return super.get(topic) ?? OTHER }
}

type MetricsRegister = NonNullable<GossipsubOpts['metricsRegister']>
/** gossipsub sets this gauge, at every scrape, for every topic any connected peer subscribed to */
export const PEER_TOPIC_GAUGE = 'gossipsub_topic_peer_count'

/**
 * gossipsub's metrics register, but its per-topic peer count is kept for joined topics only: gossipsub labels that
 * gauge with each topic's raw name and never removes one, so peers subscribing to made-up topics (a per-peer byte
 * budget each, fresh keys without end) would add series for ever. Joined topics have gossipd_topic_peers too.
 */
export function withoutPeerTopics (register: MetricsRegister, joined: (topic: string) => boolean): MetricsRegister {
  const bounded = {
    gauge (config: { name: string }) {
      const g = (register.gauge.bind(register) as unknown as (c: unknown) => { set: (labels: Record<string, string>, value: number) => void })(config)
      if (config.name !== PEER_TOPIC_GAUGE) return g
      const set = g.set.bind(g)
      g.set = (labels, value) => { if (joined(labels.topicStr)) set(labels, value) }
      return g
    },
    histogram: register.histogram.bind(register),
    avgMinMax: register.avgMinMax.bind(register),
  }
  return bounded as unknown as MetricsRegister
}
