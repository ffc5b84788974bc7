// GossipNode: one gossipd node as a library. It stores every message of its topics in the local queue
// before anything else happens, gossips it for speed, and repairs whatever gossip missed with the sync
// protocol, so delivery does not depend on who was online when a message was published.
// This file only composes the parts (each in its own file) for one run, from start() to stop().
import { EventEmitter } from 'node:events'
import type { PrivateKey } from '@libp2p/interface'
import type { GossipsubOpts } from '@libp2p/gossipsub'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createSwarm, DEFAULT_CONNECTIONS, type ConnectionBounds, type SwarmHost, type SwarmOptions } from './stack/libp2p.js'
import type { MdnsStats } from './stack/mdns.js'
import { PeerTags } from './stack/peer-tags.js'
import { ConnectionPruner } from './stack/evict.js'
import { GossipStreamRepair } from './stack/gossip-streams.js'
import { UnjoinedTopicFilter } from './stack/topic-filter.js'
import { alignGossipClock } from './stack/gossip-clock.js'
import { gossipOptions, meshPeersOf } from './stack/gossip.js'
import { libp2pHost, outboxHost, type NodeHost } from './host.js'
import { MAX_PAYLOAD_BYTES, checkTopic } from './limits.js'
import { loadOrCreateIdentity } from './identity.js'
import { PeerKeeper } from './stack/peers.js'
import { KeepAlive, type KeepAliveOptions } from './stack/keepalive.js'
import { GossipOutbox, type OutboxOptions } from './stack/outbox.js'
import { BundleSupport } from './bundle-support.js'
import { openStore, type StoreFactory } from './open-store.js'
import { Publisher, type PublishOptions, type PublishResult } from './publisher.js'
import { Inbound, type DropInbound } from './inbound.js'
import { OriginLimit, DEFAULT_MAX_ORIGINS_PER_TOPIC } from './origin-limit.js'
import { encodeBundle } from './bundle.js'
import { Topics, type TopicInfo } from './topics.js'
import { Consumers } from './consumers.js'
import { watchPeers } from './peer-events.js'
import { enforceRetention } from './retention-timer.js'
import { peerInfos, type NodeStatus, type PeerInfo } from './status.js'
import { SyncScheduler } from './sync/scheduler.js'
import { batchAcceptor } from './sync/accept-batch.js'
import type { SyncStats, PullLimits } from './sync/protocol.js'
import type { Consumer, ConsumerOptions } from './consumer.js'
import { PublisherPolicy } from './publishers.js'
import { PeerPenalties } from './penalties.js'
import { Forks } from './forks.js'
import { PeerGate, type PeerAccess } from './stack/gate.js'
import { scoreTopic, scoringOptions } from './stack/scoring.js'
import { banGraylisted } from './contain.js'
import { InvalidInputError } from './limits.js'
import type { Envelope } from './envelope.js'
import type { Emit, LogFn, NodeEvents, NodeStats, Sources } from './events.js'
import type { Store, StoredMessage } from '../store/store.js'
import type { Retention } from '../store/retention.js'

export type { PublishOptions, PublishResult } from './publisher.js'
export type { NodeStatus, PeerInfo } from './status.js'
export type { MessageSource, ReceivedMessage, NodeEvents } from './events.js'

export interface NodeOptions {
  /** where the queue, identity and cursors live */
  dataDir: string
  /** libp2p listen multiaddrs (default: all interfaces, a random TCP port) */
  listen?: string[]
  /** discover peers on the LAN by mDNS (default true) */
  mdns?: boolean
  /** only nodes with the same tag see each other by mDNS */
  mdnsServiceTag?: string
  /** fastest mDNS query interval, at start and when peers are lost (default 1 s) */
  mdnsIntervalMs?: number
  /**
   * private swarm: the swarm key file's bytes (`gossipd keygen`); only nodes with the same key can connect,
   * and the mDNS service tag is derived from it
   */
  swarmKey?: Uint8Array
  /** only these peer ids may connect (default: any); replace with setPeerAccess() */
  allowPeers?: string[]
  /** these peer ids may never connect; replace with setPeerAccess() */
  denyPeers?: string[]
  /** live inbound connections accepted from one IP address (default 8) */
  maxConnectionsPerIp?: number
  /** per peer: gossip envelopes accepted per second (token bucket; default 20,000/s, burst 40,000: far above an honest peer's share); past it, sync */
  peerRate?: { perSecond: number, burst: number }
  /** per peer: sync requests this node serves (token bucket; default 1/s, burst 10); past it, streams are reset and the peer penalised a little */
  syncServeRate?: { perSecond: number, burst: number }
  /**
   * origins (publishers) kept per topic (default 5,000): past it, messages of new origins are refused,
   * counted (status.originsRefused) and not asked for by sync; known origins and this node's own always get in
   */
  maxOriginsPerTopic?: number
  /** per peer: gossip signature checks in flight at once (default 2,000, half the node's total: no one peer takes them all) */
  maxVerifyingPerPeer?: number
  /** penalty points (invalid envelopes relayed, decaying) at which a peer is disconnected and banned for banMs (default 50, 10 min) */
  banPoints?: number
  banMs?: number
  /** topic -> the only origins (peer ids) whose messages are accepted on it; replace with setPublishers() */
  publishers?: Record<string, string[]>
  /** slowest mDNS query interval, once the peer set is stable (default 30 s) */
  mdnsMaxIntervalMs?: number
  /** connected-peer bounds: discovered peers are dialled only below low, connections past high are pruned (default 8/16) */
  connections?: ConnectionBounds
  /** multiaddrs (with /p2p/<id>) kept connected, redialed with backoff */
  peers?: string[]
  /** topics joined at start, in addition to those joined in earlier runs */
  topics?: string[]
  /** default retention for topics without their own */
  retention?: Partial<Retention>
  /** how long delivery waits for a missing message before reporting a gap (default 10 s) */
  gapTimeoutMs?: number
  /** period of the background catch-up with one random connected peer (default 5 s) */
  syncIntervalMs?: number
  /** when a pull from one peer ends as a stall (its deadline, minimum progress, waits on the peer; see sync/protocol.ts) */
  syncPullLimits?: PullLimits
  maxPayloadBytes?: number
  /** publish() waits while this many writes are queued (default 10,000) */
  maxPendingWrites?: number
  /** connection liveness pings (see keepalive.ts) */
  keepAlive?: KeepAliveOptions
  /** gossip flow-control limits (see outbox.ts); past them, messages travel by sync only */
  gossipQueue?: OutboxOptions
  /** identity to use instead of the one in dataDir */
  privateKey?: PrivateKey
  /** 'FULL' (default): an acked message survives power loss; 'NORMAL': survives a process crash */
  synchronous?: 'FULL' | 'NORMAL'
  /**
   * where the store's WAL checkpoints run: 'auto' (default: inside commits on the main thread at moderate
   * rates, which keeps publish latency lowest, and on a worker thread of the node's own while over ~1 MiB/s
   * of payload is committed, e.g. a catch-up), 'background' (always the worker, started once a few MB were
   * written) or 'inline' (always the main thread; no extra thread or connection)
   */
  checkpoints?: 'auto' | 'background' | 'inline'
  /** fault injection for tests: return true to drop an inbound message (gossip or sync) as if the network lost it */
  dropInbound?: DropInbound
  /** fault injection for tests: return false to skip gossiping an own message (it still goes out by sync) */
  gossipFilter?: (e: Envelope) => boolean
  /** metrics hooks for libp2p and gossipsub (the daemon's /metrics); off by default. Only for the libp2p node this node creates */
  metrics?: { libp2p?: SwarmOptions['metrics'], gossipsub?: Pick<GossipsubOpts, 'metricsRegister' | 'metricsTopicStrToLabel'> }
  log?: LogFn
}

/** Parts a node can be given instead of building them. What it is given stays the caller's to close or stop. */
export interface NodeParts {
  /** an opened store, or the function that opens one at each start (default: the queue in dataDir) */
  store?: Store | StoreFactory
  /**
   * a started libp2p node (createSwarm(), or any with identify, ping and gossipsub(gossipOptions()) as
   * `pubsub`); its key must be opts.privateKey or the identity in dataDir. listen and mDNS options are its own.
   */
  libp2p?: SwarmHost
  /** the libp2p surface of a gossipd service (service.ts): its libp2p node's owner connects the peers */
  host?: NodeHost
}

/** penalty points per refused sync request (an invalid envelope costs 1): a burst of 40 costs 10, well short of graylisting */
const SYNC_REFUSAL_POINTS = 0.25

/** everything of one run, from start() to stop() */
interface Run {
  host: NodeHost
  swarm?: SwarmHost
  store: Store
  ownsStore: boolean
  topics: Topics
  publisher: Publisher
  consumers: Consumers
  scheduler: SyncScheduler
  outbox: GossipOutbox
  bundles: BundleSupport
  keeper?: PeerKeeper
  tags?: PeerTags
  pruner?: ConnectionPruner
  unalignGossip?: () => void
  keepAlive?: KeepAlive
  streamRepair?: GossipStreamRepair
  topicFilter?: UnjoinedTopicFilter
  unwatch: () => void
  stopRetention: () => void
}

export class GossipNode extends EventEmitter<NodeEvents> {
  private readonly opts: NodeOptions
  private readonly parts: NodeParts
  /** kept after stop: the peer id and addresses stay readable */
  private host?: NodeHost
  private swarm?: SwarmHost
  private run?: Run
  /** counters for status and metrics */
  readonly stats: NodeStats = { shed: 0, rejected: 0, signatureChecks: 0, unauthorized: 0, forks: 0, forkRefused: 0, originsRefused: 0 }
  /** streams whose origin signed two versions of one seq, blocked from there up (forks.ts) */
  private readonly forks = new Forks({ stats: this.stats, emit: this.emit.bind(this) })
  /** what mDNS discovery counts, across restarts of the node (mdns.ts) */
  private readonly mdnsStats: MdnsStats = { refusedNewPeers: 0 }
  private readonly publishers: PublisherPolicy
  /** misbehaviour of peers (invalid envelopes they relayed), read by gossipsub's peer score */
  readonly penalties = new PeerPenalties()
  private readonly gate: PeerGate

  constructor (opts: NodeOptions, parts: NodeParts = {}) {
    super()
    this.opts = opts
    this.parts = parts
    this.publishers = new PublisherPolicy(opts.publishers)
    this.gate = new PeerGate({ allow: opts.allowPeers, deny: opts.denyPeers }, opts.maxConnectionsPerIp)
  }

  /** Replace the peer allow/deny lists; connections to peers now denied are closed. */
  setPeerAccess (access: PeerAccess): void {
    this.gate.set(access)
    this.closeDenied()
  }

  /** misbehaviour of this peer (an invalid envelope: 1 point); past banPoints it is cut off and refused for a while */
  private penalise (peer: string, points = 1): void {
    if (this.penalties.add(peer, points) >= (this.opts.banPoints ?? 50)) this.ban(peer, 'too much misbehaviour (invalid messages, excess sync requests)')
  }

  /** disconnect a misbehaving peer and refuse it for banMs; once per ban (its messages still in flight keep being penalised) */
  private ban (peer: string, reason: string): void {
    if (this.gate.isBanned(peer)) return
    this.gate.ban(peer, this.opts.banMs ?? 10 * 60_000)
    this.log('warn', 'peer banned', { peer, reason })
    this.emit('rejected', { peer, reason: `peer banned: ${reason}`, count: 0, banned: true })
    this.closeDenied()
  }

  /** true while a peer is refused (denied, not allowed, or banned) */
  isDenied (peer: string): boolean { return this.gate.denies(peer) }

  private closeDenied (): void {
    for (const c of this.host?.getConnections() ?? []) {
      if (this.gate.denies(c.remotePeer.toString())) c.abort(new Error('peer denied'))
    }
  }

  /** Replace the per-topic publisher allowlists (takes effect for the next envelope). */
  setPublishers (lists: Record<string, string[]>): void { this.publishers.set(lists) }

  get peerId (): string {
    if (this.host == null) throw new Error('node is not started')
    return this.host.peerId.toString()
  }

  get isRunning (): boolean { return this.run != null }

  /** libp2p multiaddrs this node listens on, each with /p2p/<peer id> */
  get addresses (): string[] {
    return this.host?.getMultiaddrs().map(a => a.toString()) ?? []
  }

  get dataDir (): string { return this.opts.dataDir }

  /** The libp2p node this node runs on (read-only use: events, gossipsub state, tests playing a peer). */
  get libp2p (): SwarmHost {
    if (this.swarm != null) return this.swarm
    throw new Error(this.parts.host != null ? 'this node is a libp2p service: use the libp2p node it was added to' : 'node is not started')
  }

  private get maxPayloadBytes (): number { return this.opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES }

  private readonly log: LogFn = (level, msg, extra) => { this.opts.log?.(level, msg, extra) }
  private readonly emitEvent: Emit = this.emit.bind(this)

  /**
   * Start a run (idempotent). start() and stop() calls run one at a time in call order, so concurrent
   * calls are safe and the last one decides. A start that fails undoes what it did: libp2p stopped,
   * store closed, data-dir lock released.
   */
  async start (): Promise<this> {
    if (this.run != null && this.pending === 0) return this
    await this.serially(async () => { if (this.run == null) await this.startRun() })
    return this
  }

  /** start()/stop() operations queued or running */
  private pending = 0
  private lifecycle: Promise<void> = Promise.resolve()

  private async serially (op: () => Promise<void>): Promise<void> {
    this.pending++
    const next = this.lifecycle.then(op)
    this.lifecycle = next.catch(() => {})
    try { await next } finally { this.pending-- }
  }

  private async startRun (): Promise<void> {
    const o = this.opts
    const key = o.privateKey ?? await loadOrCreateIdentity(o.dataDir)
    const given = this.parts.store
    const store = typeof given === 'object' ? given : (given ?? openStore)(o.dataDir, {
      retention: o.retention,
      synchronous: o.synchronous,
      origin: peerIdFromPrivateKey(key).toString(),
      checkpoints: o.checkpoints,
      onCheckpointerFailed: err => this.log('warn', 'WAL checkpoints fall back to the main thread: the checkpoint worker failed', { err: err.message }),
    })
    const ownsStore = typeof given !== 'object'
    let swarm: SwarmHost | undefined
    let host: NodeHost
    try {
      swarm = this.parts.host != null ? undefined : this.parts.libp2p ?? await this.createSwarm(key)
      host = this.parts.host ?? libp2pHost(swarm!)
      if (!peerIdFromPrivateKey(key).equals(host.peerId)) throw new Error('the libp2p node has another peer id than this node\'s identity')
    } catch (err) {
      if (ownsStore) store.close()
      if (swarm != null && swarm !== this.parts.libp2p) await swarm.stop()
      throw err
    }
    this.host = host
    this.swarm = swarm
    this.gate.connections = () => host.getConnections()

    // the parts of this run; each sees only what it is handed. The run counts as running from the
    // moment it is this.run until stop() clears it
    const isRunning = (): boolean => this.run === run
    const sources: Sources = new Map()
    const emit = this.emitEvent
    const log = this.log
    const maxPayloadBytes = this.maxPayloadBytes
    const maxPendingWrites = o.maxPendingWrites ?? 10_000
    const bundles = new BundleSupport(host)
    // forks found in earlier runs stay blocked; new ones are written down (a failed write only loses that)
    this.forks.load(store.forks().map(f => ({ ...f, how: f.how === 'prev' ? 'prev' : 'same seq' })))
    this.forks.persist = f => {
      try { store.recordFork({ ...f, at: Date.now() }) } catch (err) { log('error', 'could not record a fork; it is blocked until restart only', { topic: f.topic, origin: f.origin, err: (err as Error).message }) }
    }
    const originLimit = new OriginLimit(store, o.maxOriginsPerTopic ?? DEFAULT_MAX_ORIGINS_PER_TOPIC, host.peerId.toString())
    const inbound: Inbound = new Inbound({
      store, sources, stats: this.stats, maxPayloadBytes, isRunning, dropInbound: o.dropInbound, emit, log,
      publishers: this.publishers, delivered: peer => this.run?.pruner?.delivered(peer), penalise: (peer, _reason, points) => this.penalise(peer.toString(), points), forks: this.forks, originLimit,
      // one bundle of its own, sent at once: new bytes to gossipsub, which would drop either envelope alone as
      // already seen (a peer without bundles gets them one by one, if at all: sync does not carry the proof)
      passOnFork: (topic, raws) => {
        const sends = bundles.everySubscriber(topic) ? [encodeBundle(raws)] : raws
        for (const data of sends) void host.pubsub.publish(topic, data).catch(() => {})
      },
      peerRate: o.peerRate ?? { perSecond: 20_000, burst: 40_000 }, maxVerifyingPerPeer: o.maxVerifyingPerPeer,
      isJoined: (t: string): boolean => topics.has(t),
      syncSoon: ms => scheduler.syncSoon(ms),
      canForwardBundle: (t, from) => bundles.everySubscriber(t, from),
    })
    const scheduler: SyncScheduler = new SyncScheduler({
      host, store, isRunning, syncIntervalMs: o.syncIntervalMs, pullLimits: o.syncPullLimits, maxPayloadBytes, emit, log,
      topics: () => topics.list(),
      accept: batchAcceptor({
        store, inbound, isJoined: (t: string): boolean => topics.has(t), emit, stats: this.stats,
        penalise: (peer, points) => this.penalise(peer.toString(), points),
      }),
      gaps: () => ({ waiting: consumers.gapsWaiting, givenUp: consumers.gapsGivenUp }),
      serveRate: o.syncServeRate ?? { perSecond: 1, burst: 10 },
      // a fraction of an invalid envelope's cost: a peer that keeps it up is graylisted and banned, one burst is not
      refused: peer => this.penalise(peer, SYNC_REFUSAL_POINTS),
      blockedFrom: (t, origin) => this.forks.blockedFrom(t, origin),
      isFull: t => originLimit.full(t),
    })
    const consumers: Consumers = new Consumers({
      store, sources, gapTimeoutMs: o.gapTimeoutMs, emit, log,
      isJoined: (t: string): boolean => topics.has(t),
      join: t => topics.join(t),
      repairing: () => scheduler.repairing,
      repair: holes => scheduler.repairHoles(holes),
    })
    const topics: Topics = new Topics({
      store, pubsub: () => host.pubsub, validate: inbound.validate,
      onJoin: t => { scoreTopic(host.pubsub, t); scheduler.syncWithAllPeers() },
      onLeave: t => consumers.closeTopic(t),
    })
    const outbox = new GossipOutbox(swarm ?? outboxHost(host), o.gossipQueue, t => bundles.everySubscriber(t))
    const publisher = new Publisher({
      store, key, origin: host.peerId.toString(), sources, maxPendingWrites, maxPayloadBytes,
      checkRunning: () => { if (!isRunning()) throw new Error('node is not running') },
      isJoined: (t: string): boolean => topics.has(t),
      join: t => topics.join(t),
      gossip: (envelope, raw) => { if (o.gossipFilter?.(envelope) !== false) outbox.push(envelope.topic, raw) },
    })

    store.onCommit = rows => {
      // a throwing 'message' listener is the listener's bug: publishers still wake, the batch still settles
      try { consumers.onCommit(rows) } catch (err) { log('error', 'a message listener threw', { err }) } finally { publisher.wake() }
    }
    store.onAcked = () => publisher.wake()
    store.onListenerError = err => log('error', 'a store listener threw', { err })
    store.onPrune = r => log(r.byAge > 0 ? 'info' : 'debug', 'retention removed messages', r)
    store.onQuarantine = q => { log('error', 'undecodable stored message quarantined; fetching it again from peers', q); scheduler.syncSoon(200) }
    // once: every later write is refused (counted in status), so the log says why only here
    store.onFailed = err => log('error', 'store failed: publishes and received messages are refused until the daemon restarts', { err: err.message })
    const run: Run = { host, swarm, store, ownsStore, topics, publisher, consumers, scheduler, outbox, bundles, unwatch: () => {}, stopRetention: () => {} }
    this.run = run
    try {
      await scheduler.serve()
      await bundles.start()
      const unwatchPeers = watchPeers({ host, emit, isJoined: (t: string): boolean => topics.has(t), requestSync: p => scheduler.requestSync(p) })
      const stopBans = banGraylisted(host, peer => this.ban(peer, 'graylisted by gossipsub score'))
      run.unwatch = (): void => { unwatchPeers(); stopBans() }
      for (const t of store.topics()) topics.join(t.topic)
      for (const t of o.topics ?? []) topics.join(t)
      if (swarm != null) {
        // whoever owns the libp2p node of a service connects its peers and checks their liveness
        // the peer store is pruned only on a libp2p node this node built: a given one's owner and other
        // services may keep peers there that gossipd knows nothing of
        const keeper = run.keeper = new PeerKeeper(swarm, o.peers ?? [], (msg, extra, level) => log(level ?? 'debug', msg, extra), o.connections,
          { prunePeerStore: swarm !== this.parts.libp2p, onForget: peer => tags.forget(peer) })
        const tags = run.tags = new PeerTags(swarm, peer => keeper.isStatic(peer), (msg, extra) => log('debug', msg, extra))
        run.tags.start()
        run.pruner = new ConnectionPruner(swarm, o.connections ?? DEFAULT_CONNECTIONS, peer => keeper.isStatic(peer), peer => keeper.evict(peer), (msg, extra) => log('debug', msg, extra))
        run.pruner.start()
        run.keeper.start()
        run.keepAlive = new KeepAlive(swarm, o.keepAlive, (msg, extra) => log('debug', msg, extra))
        run.keepAlive.start()
        run.streamRepair = new GossipStreamRepair(swarm, (msg, extra) => log('info', msg, extra))
        run.streamRepair.start()
        run.topicFilter = new UnjoinedTopicFilter(swarm.services.pubsub, t => topics.has(t))
        run.topicFilter.start()
        run.unalignGossip = alignGossipClock(swarm.services.pubsub)
      }
      scheduler.scheduleAntiEntropy()
      run.stopRetention = enforceRetention(store, log)
    } catch (err) {
      // roll back: nothing of a failed start may stay listening or hold the data dir
      this.run = undefined
      await this.teardown(run).catch(e => log('warn', 'rollback of a failed start', { err: e }))
      throw err
    }
  }

  private async createSwarm (key: PrivateKey): Promise<SwarmHost> {
    const o = this.opts
    return await createSwarm({
      privateKey: key,
      listen: o.listen ?? ['/ip4/0.0.0.0/tcp/0'],
      mdns: o.mdns ?? true,
      mdnsServiceTag: o.mdnsServiceTag,
      mdnsIntervalMs: o.mdnsIntervalMs,
      swarmKey: o.swarmKey,
      connectionGater: this.gate.gater(),
      mdnsMaxIntervalMs: o.mdnsMaxIntervalMs,
      mdnsStats: this.mdnsStats,
      connections: o.connections,
      staticPeers: o.peers,
      gossip: { ...gossipOptions(this.maxPayloadBytes), ...scoringOptions(peer => this.penalties.get(peer)), ...o.metrics?.gossipsub },
      metrics: o.metrics?.libp2p,
      connectionMonitor: false,
    })
  }

  /** Stop the run (idempotent; ordered with start() calls, see there). */
  async stop (): Promise<void> {
    if (this.run == null && this.pending === 0) return
    await this.serially(async () => {
      const run = this.run
      if (run == null) return
      this.run = undefined
      await this.teardown(run)
    })
  }

  private async teardown (run: Run): Promise<void> {
    run.scheduler.stop()
    run.stopRetention()
    run.keeper?.stop()
    run.tags?.stop()
    run.pruner?.stop()
    run.keepAlive?.stop()
    run.streamRepair?.stop()
    run.topicFilter?.stop()
    run.unalignGossip?.()
    run.outbox.stop()
    run.bundles.stop()
    run.consumers.closeAll()
    run.unwatch()
    try {
      if (run.swarm != null && run.swarm !== this.parts.libp2p) {
        await run.swarm.stop()
      } else {
        // the host outlives this node: take our protocol and topics off it
        await run.scheduler.unserve().catch(() => {})
        await run.bundles.unadvertise().catch(() => {})
        run.topics.detach()
      }
    } finally {
      // even if libp2p failed to stop, the store closes and its data-dir lock goes
      if (run.ownsStore) {
        run.store.close()
      } else {
        run.store.onCommit = () => {}
        run.store.onAcked = () => {}
        run.store.onListenerError = () => {}
        run.store.onPrune = () => {}
        run.store.onQuarantine = () => {}
        run.store.onFailed = () => {}
      }
      run.publisher.release()
    }
  }

  private requireRun (): Run {
    if (this.run == null) throw new Error('node is not running')
    return this.run
  }

  // ---- topics ----

  /** Keep and gossip a topic. Joined topics are remembered and rejoined after a restart. */
  join (topic: string, retention?: Partial<Retention>): void {
    this.requireRun().topics.join(topic, retention)
  }

  /** Stop keeping a topic. With purge, its stored messages and cursors are deleted. */
  leave (topic: string, purge = false): void {
    this.requireRun().topics.leave(topic, purge)
  }

  topics (): TopicInfo[] {
    return this.requireRun().topics.info()
  }

  // ---- publishing and reading ----

  /**
   * Publish a message. Resolves once it is committed to the local queue ("acked" means on disk); it then
   * reaches subscribers by gossip now or by sync later, whoever is online. Joins the topic if needed.
   * When the store is behind (maxPendingWrites queued), waits until it catches up: that is the backpressure.
   * If `signal` aborts while waiting, rejects with StoreError BUSY and publishes nothing. With `msgId`, a
   * repeat within the duplicate window returns the first result (duplicate: true). If the fsync after the
   * commit fails, resolves with durable: false: the message is published (never retry it without a msgId).
   */
  async publish (topic: string, payload: Uint8Array | string, opts: PublishOptions = {}): Promise<PublishResult> {
    // every other node would reject it: refuse here instead of storing a message that goes nowhere
    if (this.host != null && !this.publishers.allows(topic, this.peerId)) throw new InvalidInputError(`this node (${this.peerId}) is not an allowed publisher on ${topic}`, 'PUBLISHER_NOT_ALLOWED')
    return await this.requireRun().publisher.publish(topic, payload, opts)
  }

  /** Read a topic from the local queue: once per message, in per-origin order (see Consumer). */
  consume (topic: string, opts: ConsumerOptions = {}): Consumer {
    return this.requireRun().consumers.consume(topic, opts)
  }

  /** The local log of a topic (oldest first), for history queries. */
  history (topic: string, opts: { afterOffset?: number, limit?: number } = {}): StoredMessage[] {
    return this.requireRun().store.history(checkTopic(topic), opts)
  }

  // ---- sync ----

  /** Queue a catch-up pull from a peer; a few peers are pulled at once, one pull per peer. */
  requestSync (peer: string): void {
    this.run?.scheduler.requestSync(peer)
  }

  /** Pull from one peer now and resolve when done (tests and the API use this). */
  async syncWith (peer: string): Promise<SyncStats | null> {
    return await this.requireRun().scheduler.syncWith(peer)
  }

  // ---- peers and status ----

  peers (): PeerInfo[] {
    const run = this.requireRun()
    return peerInfos(run.host, run.topics.list())
  }

  /** Peers in this node's gossipsub mesh of a topic (for metrics and the swarm page). */
  meshPeers (topic: string): string[] {
    return meshPeersOf(this.requireRun().host.pubsub, topic)
  }

  /** Open consumers and how far behind each is (see Consumer.lag). */
  consumerStats (): Array<{ topic: string, name?: string, lag: number, unacked?: number }> {
    return this.requireRun().consumers.stats()
  }

  status (): NodeStatus {
    const run = this.requireRun()
    return {
      peerId: this.peerId,
      addresses: this.addresses,
      peers: run.host.getPeers().length,
      topics: run.topics.size,
      consumers: run.consumers.size,
      pendingWrites: run.store.pendingWrites,
      gossipQueued: run.outbox.queued,
      gossipSkipped: run.outbox.skipped,
      gossipBundles: run.outbox.bundles,
      gossipBundled: run.outbox.bundled,
      inboundShed: this.stats.shed,
      gossipStreamsReopened: run.streamRepair?.reopened ?? 0,
      gossipStreamsStalled: run.outbox.stalledStreams,
      gossipDroppedUnjoined: run.topicFilter?.dropped ?? 0,
      mdnsRefusedNewPeers: this.mdnsStats.refusedNewPeers,
      rejected: this.stats.rejected,
      unauthorized: this.stats.unauthorized ?? 0,
      signatureChecks: this.stats.signatureChecks,
      forks: this.stats.forks ?? 0,
      forkRefused: this.stats.forkRefused ?? 0,
      originsRefused: this.stats.originsRefused ?? 0,
      forked: this.forks.list().slice(0, 100).map(({ topic, origin, seq }) => ({ topic, origin, seq })),
      quarantined: run.store.quarantined,
      storeFailed: run.store.failure?.message,
      storeRefused: run.store.refused,
      fsyncs: run.store.fsyncStats.count,
      fsyncSeconds: run.store.fsyncStats.seconds,
      checkpoints: run.store.checkpointStats?.count ?? 0,
      checkpointSeconds: run.store.checkpointStats?.seconds ?? 0,
      checkpointFailures: run.store.checkpointStats?.failures ?? 0,
      sync: run.scheduler.status(),
    }
  }
}

export function createNode (opts: NodeOptions, parts?: NodeParts): GossipNode {
  return new GossipNode(opts, parts)
}
