// The daemon's Prometheus metrics: gossipd_* families fed by the node's events and public getters, plus
// libp2p's own (@libp2p/prometheus-metrics), gossipsub's built-in ones and Node's process metrics, all in
// one registry per daemon. Gauges are read from the node when scraped, so an idle daemon costs nothing.
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import type { GossipNode, NodeOptions } from '../../core/node.js'
import { gossipsubMetricsRegister } from './gossipsub-register.js'
import { PeerLabels, CappedLabel, TopicLabels, withoutPeerTopics } from './bounded-labels.js'

/** event-loop lag sampling period: each sample wakes the loop for a whole iteration, about 0.5 ms of CPU
 * (measured: a lone idle daemon used 0.8% of a core at 100 ms, 0.33% at 1 s) */
export const EVENT_LOOP_SAMPLE_MS = 1_000

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120]

/** a counter whose value is a running total kept elsewhere (the node's own counters) */
function totalCounter (registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect () { this.reset(); this.inc(read()) },
  })
}

export class GossipdMetrics {
  readonly registry = new Registry()
  /** topic -> label map gossipsub reads: joined topics are few and chosen by the operator (the name is the label);
   * topics only peers name read as "other" */
  private readonly topicLabels = new TopicLabels()
  /** the peer label of the per-peer sync families: connected peers only, a few dozen at most (bounded-labels.ts) */
  private readonly peers = new PeerLabels()
  private readonly reasons = new CappedLabel()
  private node?: GossipNode
  readonly stored: Counter<'topic' | 'source'>
  readonly bytes: Counter<'topic' | 'source'>
  readonly published: Counter<'topic'>
  readonly latency: Histogram<'topic' | 'source'>
  readonly commit: Histogram
  readonly apiPublish: Histogram
  readonly rejected: Counter<'reason'>
  readonly bans: Counter
  readonly syncPulls: Counter<'result'>
  readonly syncMessages: Counter<'kind'>
  readonly syncBatches: Counter
  readonly syncPeerPulls: Counter<'peer' | 'result'>
  readonly syncPeerMessages: Counter<'peer' | 'kind'>
  readonly syncPeerBatches: Counter<'peer'>
  readonly syncSeconds: Histogram
  readonly gaps: Counter<'topic'>
  readonly gapMessages: Counter<'topic'>
  readonly joins: Counter
  readonly leaves: Counter

  constructor (readonly info: { version: string }) {
    const r = this.registry
    const reg = { registers: [r] }
    // prom-client samples event-loop lag with a 10 ms timer by default: 200 wakeups a second in an idle daemon,
    // most of its idle CPU. Once a second: a busy loop delays every sample, so sustained lag is still seen;
    // a single short stall is caught in proportion to its length
    collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS })
    this.stored = new Counter({ name: 'gossipd_messages_stored_total', help: 'messages committed to the local queue, by topic and how they came (local publish, gossip, sync)', labelNames: ['topic', 'source'], ...reg })
    this.bytes = new Counter({ name: 'gossipd_message_bytes_total', help: 'payload bytes committed, by topic and source', labelNames: ['topic', 'source'], ...reg })
    this.published = new Counter({ name: 'gossipd_messages_published_total', help: 'messages published by this node', labelNames: ['topic'], ...reg })
    this.latency = new Histogram({ name: 'gossipd_message_latency_seconds', help: 'origin publish time to commit here, for messages from other nodes (assumes synchronised clocks)', labelNames: ['topic', 'source'], buckets: LATENCY_BUCKETS, ...reg })
    this.commit = new Histogram({ name: 'gossipd_publish_commit_seconds', help: 'own messages: publish to commit in the local queue', buckets: LATENCY_BUCKETS, ...reg })
    this.apiPublish = new Histogram({ name: 'gossipd_api_publish_seconds', help: 'API publish requests: received to acked (committed and fsynced)', buckets: LATENCY_BUCKETS, ...reg })
    this.rejected = new Counter({ name: 'gossipd_messages_rejected_total', help: 'envelopes rejected (bad signature, malformed, oversized); sums to status.rejected', labelNames: ['reason'], ...reg })
    this.bans = new Counter({ name: 'gossipd_peer_bans_total', help: 'peers banned for misbehaviour (invalid envelopes, excess sync requests)', ...reg })
    // sync by peer: a peer's own series last while it is connected (at most MAX_PEER_SERIES peers, the rest and
    // late events count as peer="other") and are removed when it leaves; the families without the peer label
    // keep the exact totals
    this.syncPulls = new Counter({ name: 'gossipd_sync_pulls_total', help: 'catch-up pulls from peers, by result', labelNames: ['result'], ...reg })
    this.syncMessages = new Counter({ name: 'gossipd_sync_messages_total', help: 'messages received by sync pulls (kind=received) and the new ones among them (kind=stored)', labelNames: ['kind'], ...reg })
    this.syncBatches = new Counter({ name: 'gossipd_sync_batches_total', help: 'sync batches received', ...reg })
    const perPeer = 'connected peers only (a few dozen; the rest as peer="other"); a peer\'s series go when it leaves, so they restart if it returns'
    this.syncPeerPulls = new Counter({ name: 'gossipd_sync_peer_pulls_total', help: `catch-up pulls by peer and result: ${perPeer}`, labelNames: ['peer', 'result'], ...reg })
    this.syncPeerMessages = new Counter({ name: 'gossipd_sync_peer_messages_total', help: `messages received by sync pulls, by peer: ${perPeer}`, labelNames: ['peer', 'kind'], ...reg })
    this.syncPeerBatches = new Counter({ name: 'gossipd_sync_peer_batches_total', help: `sync batches received, by peer: ${perPeer}`, labelNames: ['peer'], ...reg })
    this.peers.track(this.syncPeerPulls, [{ result: 'ok' }, { result: 'failed' }])
    this.peers.track(this.syncPeerMessages, [{ kind: 'received' }, { kind: 'stored' }])
    this.peers.track(this.syncPeerBatches)
    this.syncSeconds = new Histogram({ name: 'gossipd_sync_pull_seconds', help: 'duration of successful sync pulls', buckets: LATENCY_BUCKETS, ...reg })
    this.gaps = new Counter({ name: 'gossipd_gaps_total', help: 'ranges of messages given up: by a consumer after its gap timeout, or by sync when no connected peer holds them', labelNames: ['topic'], ...reg })
    this.gapMessages = new Counter({ name: 'gossipd_gap_messages_total', help: 'messages in the holes given up', labelNames: ['topic'], ...reg })
    this.joins = new Counter({ name: 'gossipd_peer_joins_total', help: 'peer connections opened', ...reg })
    this.leaves = new Counter({ name: 'gossipd_peer_leaves_total', help: 'peer connections closed', ...reg })

    const node = (): GossipNode | undefined => this.node?.isRunning === true ? this.node : undefined
    const status = () => node()?.status()
    new Gauge({ name: 'gossipd_info', help: 'constant 1, with the version and peer id as labels', labelNames: ['version', 'peer_id'], ...reg, collect () { this.reset(); const n = node(); if (n != null) this.set({ version: info.version, peer_id: n.peerId }, 1) } })
    new Gauge({ name: 'gossipd_up', help: '1 while the node runs', ...reg, collect () { this.set(node() != null ? 1 : 0) } })
    new Gauge({ name: 'gossipd_peers_connected', help: 'peers connected now', ...reg, collect () { this.set(status()?.peers ?? 0) } })
    new Gauge({ name: 'gossipd_store_pending_writes', help: 'store writes queued, not yet acked', ...reg, collect () { this.set(status()?.pendingWrites ?? 0) } })
    new Gauge({ name: 'gossipd_sync_interval_seconds', help: 'background anti-entropy interval now (grows up to 6x while nothing changes)', ...reg, collect () { this.set((status()?.sync.intervalMs ?? 0) / 1000) } })
    new Gauge({ name: 'gossipd_outbox_queued', help: 'own messages waiting to be gossiped', ...reg, collect () { this.set(status()?.gossipQueued ?? 0) } })
    totalCounter(r, 'gossipd_gossip_bundles_total', 'gossip messages that carried a bundle of own envelopes', () => status()?.gossipBundles ?? 0)
    totalCounter(r, 'gossipd_gossip_bundled_envelopes_total', 'own envelopes gossiped inside bundles', () => status()?.gossipBundled ?? 0)
    totalCounter(r, 'gossipd_outbox_skipped_total', 'own messages not gossiped because peers could not keep up (they go by sync)', () => status()?.gossipSkipped ?? 0)
    totalCounter(r, 'gossipd_gossip_streams_reopened_total', 'connected gossipsub peers whose missing outbound stream was opened again (gossipsub does not retry)', () => status()?.gossipStreamsReopened ?? 0)
    totalCounter(r, 'gossipd_gossip_streams_stalled_total', 'peers whose gossipsub stream from us was aborted: over its byte limit, it took nothing for 5 s (they get the rest by sync)', () => status()?.gossipStreamsStalled ?? 0)
    totalCounter(r, 'gossipd_gossip_dropped_unjoined_total', 'gossip messages dropped unread because this node does not keep their topic', () => status()?.gossipDroppedUnjoined ?? 0)
    totalCounter(r, 'gossipd_mdns_new_peers_refused_total', 'mDNS answers not passed on: a new peer id from a LAN address that already introduced its share', () => status()?.mdnsRefusedNewPeers ?? 0)
    totalCounter(r, 'gossipd_inbound_shed_total', 'inbound gossip left to sync because this node was overloaded', () => status()?.inboundShed ?? 0)
    totalCounter(r, 'gossipd_signature_checks_total', 'Ed25519 signatures verified', () => status()?.signatureChecks ?? 0)
    totalCounter(r, 'gossipd_forks_total', 'streams (topic, origin) whose origin signed two versions of one seq; each is blocked from that seq up', () => status()?.forks ?? 0)
    totalCounter(r, 'gossipd_fork_refused_total', 'envelopes not stored because their stream forked at or below their seq', () => status()?.forkRefused ?? 0)
    totalCounter(r, 'gossipd_origins_refused_total', 'envelopes of new origins refused: their topic had maxOriginsPerTopic origins', () => status()?.originsRefused ?? 0)
    new Gauge({ name: 'gossipd_store_failed', help: '1 once an fsync of the WAL failed: nothing is stored or acked until the daemon restarts', ...reg, collect () { this.set(status()?.storeFailed != null ? 1 : 0) } })
    totalCounter(r, 'gossipd_store_refused_total', 'messages refused because the store failed (own publishes, and received ones peers still hold)', () => status()?.storeRefused ?? 0)
    totalCounter(r, 'gossipd_store_fsyncs_total', 'WAL fsyncs', () => status()?.fsyncs ?? 0)
    totalCounter(r, 'gossipd_store_fsync_seconds_total', 'time spent in WAL fsyncs', () => status()?.fsyncSeconds ?? 0)
    totalCounter(r, 'gossipd_store_checkpoints_total', 'WAL checkpoints done on the store\'s worker thread', () => status()?.checkpoints ?? 0)
    totalCounter(r, 'gossipd_store_checkpoint_seconds_total', 'time WAL checkpoints took on the worker thread', () => status()?.checkpointSeconds ?? 0)
    totalCounter(r, 'gossipd_store_checkpoint_failures_total', 'WAL checkpoints that failed (the WAL keeps the data; the next one retries)', () => status()?.checkpointFailures ?? 0)
    const perTopic = (name: string, help: string, pick: (t: ReturnType<GossipNode['topics']>[number], n: GossipNode) => number): void => {
      new Gauge({
        name, help, labelNames: ['topic'], ...reg,
        collect () {
          this.reset()
          const n = node()
          for (const t of n?.topics() ?? []) this.set({ topic: t.topic }, pick(t, n!))
        },
      })
    }
    perTopic('gossipd_store_messages', 'messages held per topic', t => t.messages)
    perTopic('gossipd_store_bytes', 'bytes held per topic', t => t.bytes)
    perTopic('gossipd_topic_peers', 'connected peers subscribed to the topic', t => t.peers)
    perTopic('gossipd_mesh_peers', 'peers in this node\'s gossipsub mesh of the topic', (t, n) => n.meshPeers(t.topic).length)
    new Gauge({
      name: 'gossipd_consumers', help: 'open consumers per topic', labelNames: ['topic'], ...reg,
      collect () {
        this.reset()
        for (const t of node()?.topics() ?? []) this.set({ topic: t.topic }, 0)
        for (const c of node()?.consumerStats() ?? []) this.inc({ topic: c.topic })
      },
    })
    new Gauge({
      name: 'gossipd_consumer_lag_messages', help: 'messages held but not yet delivered to a consumer (named consumers by name; anonymous ones summed as "-")', labelNames: ['topic', 'consumer'], ...reg,
      collect () {
        this.reset()
        for (const c of node()?.consumerStats() ?? []) this.inc({ topic: c.topic, consumer: c.name ?? '-' }, c.lag)
      },
    })
  }

  /** Options for GossipNode: libp2p and gossipsub report into this registry. */
  nodeMetrics (): NonNullable<NodeOptions['metrics']> {
    return {
      // its name cache is process-wide: letting it clear that (the default) gives each daemon in a process
      // (tests) metrics of its own registry; process metrics are collected above
      libp2p: prometheusMetrics({ registry: this.registry, collectDefaultMetrics: false }),
      gossipsub: {
        metricsRegister: withoutPeerTopics(gossipsubMetricsRegister(this.registry), topic => this.topicLabels.has(topic)),
        metricsTopicStrToLabel: this.topicLabels,
      },
    }
  }

  /** Start counting a node's events (call once, after start). */
  attach (node: GossipNode): void {
    this.node = node
    node.on('message', m => {
      this.topicLabels.set(m.topic, m.topic)
      this.stored.inc({ topic: m.topic, source: m.source })
      this.bytes.inc({ topic: m.topic, source: m.source }, m.payload.byteLength)
      const age = Math.max(0, Date.now() - m.ts) / 1000
      if (m.source === 'local') {
        this.published.inc({ topic: m.topic })
        this.commit.observe(age)
      } else {
        this.latency.observe({ topic: m.topic, source: m.source }, age)
      }
    })
    node.on('sync', s => {
      const peer = this.peers.label(s.peer)
      this.syncPulls.inc({ result: 'ok' })
      this.syncMessages.inc({ kind: 'received' }, s.received)
      this.syncMessages.inc({ kind: 'stored' }, s.stored)
      this.syncBatches.inc(s.batches)
      this.syncPeerPulls.inc({ peer, result: 'ok' })
      this.syncPeerMessages.inc({ peer, kind: 'received' }, s.received)
      this.syncPeerMessages.inc({ peer, kind: 'stored' }, s.stored)
      this.syncPeerBatches.inc({ peer }, s.batches)
      this.syncSeconds.observe(s.ms / 1000)
    })
    node.on('sync:failed', f => {
      this.syncPulls.inc({ result: 'failed' })
      this.syncPeerPulls.inc({ peer: this.peers.label(f.peer), result: 'failed' })
    })
    // an event may stand for many envelopes (a sync batch's malformed ones); a ban rejects no envelope
    node.on('rejected', r => {
      if (r.banned === true) this.bans.inc()
      const n = r.count ?? 1
      if (n > 0) this.rejected.inc({ reason: this.reasons.label(r.reason) }, n)
    })
    node.on('gap', g => {
      this.gaps.inc({ topic: g.topic })
      this.gapMessages.inc({ topic: g.topic }, g.to - g.from + 1)
    })
    node.on('peer:join', p => { this.joins.inc(); this.peers.join(p.peer) })
    node.on('peer:leave', p => { this.leaves.inc(); this.peers.leave(p.peer) })
    if (node.isRunning) for (const p of node.peers()) this.peers.join(p.id)
    this.joinedTopics()
  }

  /** joined topics are gossipsub's labelled ones (a topic may be joined before its first message) */
  private joinedTopics (): void {
    const n = this.node
    if (n?.isRunning !== true) return
    for (const t of n.topics()) this.topicLabels.set(t.topic, t.topic)
  }

  async text (): Promise<{ body: string, contentType: string }> {
    this.joinedTopics()
    return { body: await this.registry.metrics(), contentType: this.registry.contentType }
  }
}
