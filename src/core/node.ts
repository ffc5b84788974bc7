// GossipNode: one gossipd node as a library. It stores every message of its topics in the local queue
// before anything else happens, gossips it for speed, and repairs whatever gossip missed with the sync
// protocol, so delivery does not depend on who was online when a message was published.
import { EventEmitter, setMaxListeners } from 'node:events'
import type { PeerId, PrivateKey, Stream, Connection } from '@libp2p/interface'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { createSwarm, type SwarmHost } from './libp2p.js'
import { gossipOptions, decodeGossipData } from './gossip.js'
import { sealEnvelope, verifyEnvelope, decodeEnvelope, envelopeId, envelopeCodec, type Envelope } from './envelope.js'
import { verifyBatch } from './verify-batch.js'
import { checkTopic, checkPayload, MAX_PAYLOAD_BYTES, InvalidInputError } from './limits.js'
import { loadOrCreateIdentity } from './identity.js'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerKeeper } from './peers.js'
import { KeepAlive, type KeepAliveOptions } from './keepalive.js'
import { SYNC_PROTOCOL, pullFrom, serveSync, type SyncStats } from './sync.js'
import { Consumer, type ConsumerOptions, type GapInfo } from './consumer.js'
import { GossipOutbox, type OutboxOptions } from './outbox.js'
import { Store, StoreError, type StoredMessage } from '../store/store.js'
import type { Retention } from '../store/retention.js'

/** gossip messages being verified or written at once; past this, inbound gossip is left to sync */
const MAX_GOSSIP_INFLIGHT = 4_000
/** queued store writes past which inbound gossip is left to sync */
const SHED_PENDING_WRITES = 5_000

export interface NodeOptions {
  /** where the queue, identity and cursors live */
  dataDir: string
  /** libp2p listen multiaddrs (default: all interfaces, a random TCP port) */
  listen?: string[]
  /** discover peers on the LAN by mDNS (default true) */
  mdns?: boolean
  /** only nodes with the same tag see each other by mDNS */
  mdnsServiceTag?: string
  mdnsIntervalMs?: number
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
  /** fault injection for tests: return true to drop an inbound message (gossip or sync) as if the network lost it */
  dropInbound?: (e: Envelope, from: PeerId, source: MessageSource) => boolean
  /** fault injection for tests: return false to skip gossiping an own message (it still goes out by sync) */
  gossipFilter?: (e: Envelope) => boolean
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, extra?: object) => void
}

export interface PublishResult {
  id: string
  origin: string
  topic: string
  seq: number
  ts: number
  /** position in this node's local log */
  offset: number
}

export type MessageSource = 'local' | 'gossip' | 'sync'
export interface ReceivedMessage extends StoredMessage { id: string, source: MessageSource }

export interface PeerInfo { id: string, addrs: string[], direction: string, topics: string[] }

export interface NodeEvents {
  'peer:join': [{ peer: string }]
  'peer:leave': [{ peer: string }]
  message: [ReceivedMessage]
  gap: [GapInfo]
  sync: [{ peer: string, received: number, stored: number, ms: number }]
  rejected: [{ peer: string, reason: string, id?: string }]
  error: [Error]
}

export class GossipNode extends EventEmitter<NodeEvents> {
  private readonly opts: NodeOptions
  private host?: SwarmHost
  private store?: Store
  private keeper?: PeerKeeper
  private keepAlive?: KeepAlive
  private outbox?: GossipOutbox
  private key?: PrivateKey
  private readonly joined = new Set<string>()
  private readonly consumers = new Set<Consumer>()
  private readonly syncQueue = new Set<string>()
  private syncing = false
  private syncTimer?: NodeJS.Timeout
  private syncSoonTimer?: NodeJS.Timeout
  private retentionTimer?: NodeJS.Timeout
  private readonly sources = new Map<string, MessageSource>()
  private drainWaiters: Array<() => void> = []
  private readonly verifying = new Set<string>()
  private gossipInflight = 0
  /** counters for status and metrics */
  readonly stats = { shed: 0, rejected: 0, signatureChecks: 0 }
  private running = false
  private stopController = new AbortController()

  constructor (opts: NodeOptions) {
    super()
    this.opts = opts
  }

  get peerId (): string {
    if (this.host == null) throw new Error('node is not started')
    return this.host.peerId.toString()
  }

  get isRunning (): boolean { return this.running }

  /** libp2p multiaddrs this node listens on, each with /p2p/<peer id> */
  get addresses (): string[] {
    return this.host?.getMultiaddrs().map(a => a.toString()) ?? []
  }

  get dataDir (): string { return this.opts.dataDir }

  private get maxPayloadBytes (): number { return this.opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES }

  private log (level: 'debug' | 'info' | 'warn' | 'error', msg: string, extra?: object): void {
    this.opts.log?.(level, msg, extra)
  }

  async start (): Promise<this> {
    if (this.running) return this
    const o = this.opts
    this.stopController = new AbortController()
    // every concurrent sync stream listens on it; many at once is normal, not a leak
    setMaxListeners(Infinity, this.stopController.signal)
    this.key = o.privateKey ?? await loadOrCreateIdentity(o.dataDir)
    const origin = peerIdFromPrivateKey(this.key).toString()
    const store = new Store(o.dataDir, { codec: envelopeCodec, retention: o.retention, synchronous: o.synchronous, origin })
    this.store = store
    store.onPrune = r => this.log(r.byAge > 0 ? 'info' : 'debug', 'retention removed messages', r)
    store.onQuarantine = q => { this.log('error', 'undecodable stored message quarantined; fetching it again from peers', q); this.syncSoon(200) }
    try {
      this.host = await createSwarm({
        privateKey: this.key,
        listen: o.listen ?? ['/ip4/0.0.0.0/tcp/0'],
        mdns: o.mdns ?? true,
        mdnsServiceTag: o.mdnsServiceTag,
        mdnsIntervalMs: o.mdnsIntervalMs,
        gossip: gossipOptions(this.maxPayloadBytes),
        connectionMonitor: false,
      })
    } catch (err) {
      store.close()
      throw err
    }
    const host = this.host
    store.onCommit = rows => this.onCommit(rows)
    store.onAcked = () => this.wakePublishers()
    await host.handle(SYNC_PROTOCOL, (stream: Stream, conn: Connection) => {
      serveSync(stream, store, this.stopController.signal, this.maxPayloadBytes).catch(err => {
        this.log('debug', 'sync serve ended', { peer: conn.remotePeer.toString(), err: (err as Error).message })
        stream.abort(err as Error)
      })
    }, { maxInboundStreams: 8, maxOutboundStreams: 8 })
    host.addEventListener('peer:connect', evt => {
      const peer = evt.detail.toString()
      this.emit('peer:join', { peer })
      this.requestSync(peer)
    })
    host.addEventListener('peer:disconnect', evt => this.emit('peer:leave', { peer: evt.detail.toString() }))
    host.services.pubsub.addEventListener('subscription-change', evt => {
      // a peer that just joined one of our topics may lack what we hold: let it (and us) catch up
      if (evt.detail.subscriptions.some(s => s.subscribe && this.joined.has(s.topic))) this.requestSync(evt.detail.peerId.toString())
    })
    this.outbox = new GossipOutbox(host, o.gossipQueue)
    this.running = true
    for (const t of store.topics()) this.join(t.topic)
    for (const t of o.topics ?? []) this.join(t)
    this.keeper = new PeerKeeper(host, o.peers ?? [], (msg, extra) => this.log('debug', msg, extra))
    this.keeper.start()
    this.keepAlive = new KeepAlive(host, o.keepAlive, (msg, extra) => this.log('debug', msg, extra))
    this.keepAlive.start()
    this.scheduleAntiEntropy()
    this.retentionTimer = setInterval(() => {
      try { store.enforceAllLimits() } catch (err) { this.log('error', 'retention failed', { err: (err as Error).message }) }
    }, 30_000)
    this.retentionTimer.unref()
    store.enforceAllLimits()
    return this
  }

  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    this.stopController.abort()
    for (const t of [this.syncTimer, this.syncSoonTimer]) if (t != null) clearTimeout(t)
    if (this.retentionTimer != null) clearInterval(this.retentionTimer)
    this.keeper?.stop()
    this.keepAlive?.stop()
    this.outbox?.stop()
    for (const c of [...this.consumers]) c.close()
    await this.host?.stop()
    this.store?.close()
    for (const w of this.drainWaiters.splice(0)) w()
  }

  private requireStarted (): { host: SwarmHost, store: Store } {
    if (!this.running || this.host == null || this.store == null) throw new Error('node is not running')
    return { host: this.host, store: this.store }
  }

  // ---- topics ----

  /** Keep and gossip a topic. Joined topics are remembered and rejoined after a restart. */
  join (topic: string, retention?: Partial<Retention>): void {
    const { host, store } = this.requireStarted()
    checkTopic(topic)
    store.addTopic(topic, retention)
    if (this.joined.has(topic)) return
    this.joined.add(topic)
    const pubsub = host.services.pubsub
    pubsub.topicValidators.set(topic, async (from, msg) => await this.validateGossip(from, msg.topic, msg.data))
    pubsub.subscribe(topic)
    this.syncWithAllPeers()
  }

  /** Stop keeping a topic. With purge, its stored messages and cursors are deleted. */
  leave (topic: string, purge = false): void {
    const { host, store } = this.requireStarted()
    checkTopic(topic)
    this.joined.delete(topic)
    host.services.pubsub.unsubscribe(topic)
    host.services.pubsub.topicValidators.delete(topic)
    for (const c of [...this.consumers]) if (c.topic === topic) c.close()
    store.removeTopic(topic, purge)
  }

  topics (): Array<{ topic: string, messages: number, bytes: number, retention: Retention, peers: number }> {
    const { host, store } = this.requireStarted()
    return store.topics().map(t => ({ ...t, peers: host.services.pubsub.getSubscribers(t.topic).length }))
  }

  // ---- publishing ----

  /**
   * Publish a message. Resolves once it is committed to the local queue ("acked" means on disk); it then
   * reaches subscribers by gossip now or by sync later, whoever is online. Joins the topic if needed.
   * When the store is behind (maxPendingWrites queued), waits until it catches up: that is the backpressure.
   * If `signal` aborts while waiting, rejects with StoreError BUSY and publishes nothing.
   */
  async publish (topic: string, payload: Uint8Array | string, opts: { signal?: AbortSignal } = {}): Promise<PublishResult> {
    const { store } = this.requireStarted()
    checkTopic(topic)
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload
    checkPayload(bytes, this.maxPayloadBytes)
    const signal = opts.signal
    while (store.pendingWrites >= (this.opts.maxPendingWrites ?? 10_000)) {
      if (signal?.aborted === true) throw new StoreError('the store is behind; retry shortly', 'BUSY')
      await new Promise<void>(resolve => {
        const done = (): void => { signal?.removeEventListener('abort', done); resolve() }
        this.drainWaiters.push(done)
        signal?.addEventListener('abort', done, { once: true })
      })
      this.requireStarted()
    }
    if (!this.joined.has(topic)) this.join(topic)
    const key = this.key!
    const origin = this.peerId
    // reserve, sign and queue in one tick so a failed commit can hand the seq back (see Store.flush)
    const { seq, prev } = store.reservePublish(topic, origin)
    const ts = Date.now()
    const { envelope, bytes: raw, hash } = sealEnvelope(key, origin, topic, seq, ts, bytes, prev)
    const id = envelopeId(envelope)
    this.sources.set(id, 'local')
    let row: StoredMessage | null
    try {
      row = await store.insert({ topic, origin, seq, ts, payload: bytes, raw, own: { prev, hash } })
    } finally {
      this.sources.delete(id)
    }
    if (row == null) throw new Error(`publish: ${id} already stored`)
    if (this.opts.gossipFilter?.(envelope) !== false) this.outbox?.push(topic, raw)
    return { id, origin, topic, seq, ts, offset: row.offset }
  }

  // ---- receiving ----

  private async validateGossip (from: PeerId, topic: string, data: Uint8Array): Promise<TopicValidatorResult> {
    const env = decodeGossipData(data)
    if (env == null || env.topic !== topic) {
      this.emit('rejected', { peer: from.toString(), reason: 'malformed envelope' })
      return TopicValidatorResult.Reject
    }
    const result = await this.acceptEnvelope(env, data, from, 'gossip', false)
    return result === 'stored' ? TopicValidatorResult.Accept : result === 'rejected' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
  }

  /**
   * Dedup by id first (free), then verify the signature once, then store. Gossip does not wait for the
   * commit (waitForDisk false): a valid message is forwarded to the mesh while it is being written.
   * `verify` is replaced for sync batches, which are authenticated together along the hash chain.
   */
  private async acceptEnvelope (env: Envelope, raw: Uint8Array, from: PeerId, source: MessageSource, waitForDisk = true,
    verify = async (): Promise<boolean> => await this.checkSignature(env)): Promise<'stored' | 'duplicate' | 'rejected' | 'shed'> {
    const store = this.store
    if (store == null || !this.running) return 'duplicate'
    if (!this.joined.has(env.topic)) return 'duplicate'
    if (store.has(env.topic, env.origin, env.seq)) return 'duplicate'
    const id = envelopeId(env)
    // a copy of this id is being verified right now (gossip and sync raced): one verification is enough
    if (this.verifying.has(id)) return 'duplicate'
    if (this.opts.dropInbound?.(env, from, source) === true) return 'duplicate'
    if (source === 'gossip' && (this.gossipInflight >= MAX_GOSSIP_INFLIGHT || store.pendingWrites >= SHED_PENDING_WRITES)) {
      // overloaded: gossip is only the fast path. Drop it here and pull the message by sync, which
      // moves at the pace our disk allows instead of growing memory
      this.stats.shed++
      this.syncSoon(250)
      return 'shed'
    }
    if (source === 'gossip') this.gossipInflight++
    this.verifying.add(id)
    const done = (): void => {
      this.verifying.delete(id)
      this.sources.delete(id)
      if (source === 'gossip') this.gossipInflight--
    }
    let valid = false
    try {
      valid = env.payload.byteLength <= this.maxPayloadBytes && await verify()
    } finally {
      if (!valid) done()
    }
    if (!valid) {
      this.stats.rejected++
      this.emit('rejected', { peer: from.toString(), reason: 'bad signature or oversized payload', id })
      this.log('warn', 'rejected envelope', { peer: from.toString(), id })
      return 'rejected'
    }
    if (store.has(env.topic, env.origin, env.seq) || !this.running) { done(); return 'duplicate' }
    this.sources.set(id, source)
    const stored = store.insert({ topic: env.topic, origin: env.origin, seq: env.seq, ts: env.ts, payload: env.payload, raw })
      .then(row => row != null ? 'stored' as const : 'duplicate' as const, err => {
        this.log('error', 'could not store received message', { id, err: (err as Error).message })
        return 'duplicate' as const
      })
      .finally(done)
    return waitForDisk ? await stored : 'stored'
  }

  private async checkSignature (env: Envelope): Promise<boolean> {
    this.stats.signatureChecks++
    return await verifyEnvelope(env)
  }

  private onCommit (rows: StoredMessage[]): void {
    const byTopic = new Map<string, Set<string>>()
    const holes = new Set<string>()
    for (const row of rows) {
      const id = envelopeId(row)
      this.emit('message', { ...row, id, source: this.sources.get(id) ?? 'sync' })
      let origins = byTopic.get(row.topic)
      if (origins == null) { origins = new Set(); byTopic.set(row.topic, origins) }
      origins.add(row.origin)
      const held = this.store!.heldState(row.topic, row.origin)
      if (held != null && (held.set.ranges.length > 1 || held.set.min > held.low + 1)) holes.add(row.origin)
    }
    for (const c of this.consumers) {
      const origins = byTopic.get(c.topic)
      if (origins != null) c.notify(origins)
    }
    // a hole below a newly stored seq means gossip lost something: ask peers for it now
    if (holes.size > 0) {
      // the origin itself surely holds what is missing of its own stream: ask it first
      for (const origin of holes) if (this.host?.getPeers().some(p => p.toString() === origin) === true) this.requestSync(origin)
      this.syncSoon(200)
    }
    this.wakePublishers()
  }

  /** publish() waits while the store is behind; commits and acks both bring it back under the limit */
  private wakePublishers (): void {
    if (this.store!.pendingWrites < (this.opts.maxPendingWrites ?? 10_000)) for (const w of this.drainWaiters.splice(0)) w()
  }

  // ---- consuming ----

  /** Read a topic from the local queue: once per message, in per-origin order (see Consumer). */
  consume (topic: string, opts: ConsumerOptions = {}): Consumer {
    const { store } = this.requireStarted()
    checkTopic(topic)
    if (opts.name != null && [...this.consumers].some(c => c.name === opts.name && c.topic === topic)) {
      throw new InvalidInputError(`consumer ${opts.name} is already open on ${topic}`, 'CONSUMER_BUSY')
    }
    if (!this.joined.has(topic)) this.join(topic)
    const repairing = (): boolean => this.syncing || this.syncQueue.size > 0
    const c = new Consumer(store, topic, { gapTimeoutMs: this.opts.gapTimeoutMs, repairing, ...opts }, c => this.consumers.delete(c))
    c.on('gap', gap => {
      this.log('warn', 'gap: giving up on missing messages', gap)
      this.emit('gap', gap)
    })
    this.consumers.add(c)
    return c
  }

  /** The local log of a topic (oldest first), for history queries. */
  history (topic: string, opts: { afterOffset?: number, limit?: number } = {}): StoredMessage[] {
    return this.requireStarted().store.history(checkTopic(topic), opts)
  }

  // ---- sync ----

  /** Queue a catch-up pull from a peer; pulls run one at a time. */
  requestSync (peer: string): void {
    if (!this.running) return
    this.syncQueue.add(peer)
    void this.runSyncQueue()
  }

  /** The next background pull, at a random point of 0.5-1.5 × syncIntervalMs, so that nodes started
   * together (a test, a rebooted LAN) do not all pull at the same moment, round after round. */
  private scheduleAntiEntropy (): void {
    if (!this.running) return
    const interval = this.opts.syncIntervalMs ?? 5_000
    this.syncTimer = setTimeout(() => {
      this.syncWithRandomPeer()
      this.scheduleAntiEntropy()
    }, interval * (0.5 + Math.random()))
    this.syncTimer.unref()
  }

  /**
   * Background anti-entropy, as in Serf's push-pull: one random peer per round, so the cost per node stays
   * the same however large the LAN is (every peer every round was 4 pulls per 5 s on 5 nodes, 49 on 50).
   * Anything one peer lacks spreads from peer to peer within a few rounds; holes and new connections
   * still trigger pulls at once.
   */
  private syncWithRandomPeer (): void {
    const peers = this.host?.getPeers() ?? []
    if (peers.length > 0) this.requestSync(peers[Math.floor(Math.random() * peers.length)].toString())
  }

  private syncWithAllPeers (): void {
    for (const p of this.host?.getPeers() ?? []) this.requestSync(p.toString())
  }

  private syncSoon (delayMs: number): void {
    if (this.syncSoonTimer != null || !this.running) return
    this.syncSoonTimer = setTimeout(() => {
      this.syncSoonTimer = undefined
      this.syncWithAllPeers()
    }, delayMs)
    this.syncSoonTimer.unref()
  }

  /** Pull from one peer now and resolve when done (tests and the API use this). */
  async syncWith (peer: string): Promise<SyncStats | null> {
    const { host, store } = this.requireStarted()
    const peerId = host.getPeers().find(p => p.toString() === peer)
    if (peerId == null) return null
    const topics = [...this.joined]
    if (topics.length === 0) return null
    const stream = await host.dialProtocol(peerId, SYNC_PROTOCOL, { signal: AbortSignal.any([this.stopController.signal, AbortSignal.timeout(10_000)]) })
    const stats = await pullFrom(stream, peerId, store, topics, async (raws, from) => {
      // authenticate the whole batch at once (one signature per linked run). Every message then waits on
      // the same promise, so all of the batch's inserts are queued in one tick and committed in one
      // transaction, without holding back commits of gossip arriving meanwhile
      const decoded: Array<{ env: Envelope, raw: Uint8Array }> = []
      for (const raw of raws) {
        try { decoded.push({ env: decodeEnvelope(raw), raw }) } catch {
          this.emit('rejected', { peer: from.toString(), reason: 'malformed envelope in sync' })
        }
      }
      const envs = decoded.map(d => d.env)
      const needed = envs.map(e => this.joined.has(e.topic) && !store.has(e.topic, e.origin, e.seq))
      const authentic = verifyBatch(envs, needed, async e => await this.checkSignature(e))
      const results = await Promise.all(decoded.map(async ({ env, raw }, i) =>
        await this.acceptEnvelope(env, raw, from, 'sync', false, async () => (await authentic)[i])))
      await store.whenFlushed()
      return results.filter(r => r === 'stored').length
    }, this.stopController.signal, this.maxPayloadBytes)
    this.emit('sync', { peer, received: stats.received, stored: stats.stored, ms: stats.ms })
    return stats
  }

  private async runSyncQueue (): Promise<void> {
    if (this.syncing) return
    this.syncing = true
    try {
      while (this.running && this.syncQueue.size > 0) {
        const peer = this.syncQueue.values().next().value as string
        this.syncQueue.delete(peer)
        try {
          await this.syncWith(peer)
        } catch (err) {
          if (this.running) this.log('debug', 'sync pull failed', { peer, err: (err as Error).message })
        }
      }
    } finally {
      this.syncing = false
    }
  }

  // ---- peers and status ----

  peers (): PeerInfo[] {
    const { host } = this.requireStarted()
    const pubsub = host.services.pubsub
    return host.getConnections().filter(c => c.status === 'open').map(c => ({
      id: c.remotePeer.toString(),
      addrs: [c.remoteAddr.toString()],
      direction: c.direction,
      topics: [...this.joined].filter(t => pubsub.getSubscribers(t).some(p => p.equals(c.remotePeer))),
    }))
  }

  status (): NodeStatus {
    const { host, store } = this.requireStarted()
    return {
      peerId: this.peerId,
      addresses: this.addresses,
      peers: host.getPeers().length,
      topics: this.joined.size,
      consumers: this.consumers.size,
      pendingWrites: store.pendingWrites,
      gossipQueued: this.outbox?.queued ?? 0,
      gossipSkipped: this.outbox?.skipped ?? 0,
      inboundShed: this.stats.shed,
      rejected: this.stats.rejected,
      signatureChecks: this.stats.signatureChecks,
      quarantined: store.quarantined,
    }
  }
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
  /** inbound gossip messages left to sync because this node was overloaded */
  inboundShed: number
  /** envelopes rejected (bad signature, malformed, oversized) */
  rejected: number
  /** Ed25519 signatures verified (sync batches need about one per batch thanks to the hash chain) */
  signatureChecks: number
  /** stored rows found undecodable and moved to quarantine (fetched again from peers) */
  quarantined: number
}

export function createNode (opts: NodeOptions): GossipNode {
  return new GossipNode(opts)
}
