// When and from whom this node pulls: a queue of peers pulled a few at a time (one pull per peer), the
// periodic anti-entropy pull, pulls soon after overload or a hole, and the server side of the protocol
// for peers pulling from us. A peer that fails or stalls is pulled again only after a backoff, and a
// hole that stays open is asked for less and less often, so neither a hostile peer nor a hole that no
// peer can fill turns into a storm or a wedge.
import { setMaxListeners } from 'node:events'
import type { Stream, Connection, PeerId } from '@libp2p/interface'
import { SYNC_PROTOCOL_1_2, SYNC_PROTOCOL, SYNC_PROTOCOL_1_0, pullFrom, pullDigest, serveSync, serveDigest, requestPages, Progress, SyncStallError, type AcceptBatch, type SyncStats, type PullLimits } from './protocol.js'
import { DigestCache, DIGEST_BUCKETS } from './digest.js'
import { PeerHealth, type SyncHealth } from './health.js'
import { HoleRepair } from './holes.js'
import type { NodeHost } from '../host.js'
import { PeerBuckets, type Rate } from '../rate.js'
import { toWholeTick } from '../tick.js'
import { deadline, withDeadline } from '../deadline.js'
import { monotonicNow } from '../monotonic.js'
import type { Store } from '../../store/store.js'
import type { Emit, LogFn } from '../events.js'
import type { BlockedFrom } from '../forks.js'

export type { SyncHealth } from './health.js'

/** pulls running at once, each from a different peer */
const MAX_CONCURRENT_PULLS = 3
/**
 * While nothing this node holds changes, the background pull's interval doubles up to this many times
 * syncIntervalMs (5 s -> 30 s, Serf's push-pull interval). Anything stored, and any new connection,
 * brings it back at once. Measured (12 idle daemons on loopback, each connected to all others): the
 * pulls were a third of an idle node's CPU, 1.47-1.64% with them at 5 s vs 0.93-1.21% without.
 */
const MAX_IDLE_BACKOFF = 6
/** intervals of seconds are moved onto whole seconds; shorter ones (tests) are left as they are */
const alignable = (ms: number): boolean => ms >= 2_000
/** the versions this node speaks, newest first: a puller tries them in this order */
const PROTOCOLS = [SYNC_PROTOCOL_1_2, SYNC_PROTOCOL, SYNC_PROTOCOL_1_0]

export interface SchedulerParts {
  host: NodeHost
  store: Store
  /** the topics to pull (the joined ones) */
  topics: () => string[]
  accept: AcceptBatch
  isRunning: () => boolean
  syncIntervalMs?: number
  maxPayloadBytes: number
  /** deadline and minimum progress of one pull */
  pullLimits?: PullLimits
  /** consumers waiting on holes, and gaps given up (for status) */
  gaps?: () => { waiting: number, givenUp: number }
  /** per peer: sync requests served (token bucket); streams past it are reset. Absent: no limit */
  serveRate?: Rate
  /** a peer's sync stream was refused: over its serveRate */
  refused?: (peer: string) => void
  /** forked streams: not asked for from their fork up (forks.ts) */
  blockedFrom?: BlockedFrom
  /** whether a topic is at its origin limit (origin-limit.ts): pulls then ask for known origins only */
  isFull?: (topic: string) => boolean
  emit: Emit
  log: LogFn
}

export class SyncScheduler {
  private readonly queue = new Set<string>()
  private readonly active = new Set<string>()
  private timer?: NodeJS.Timeout
  private soonTimer?: NodeJS.Timeout
  private readonly health = new PeerHealth()
  private readonly holes: HoleRepair
  /** per peer, the newest version it answered (absent: not known yet, try the newest) */
  private readonly peerVersion = new Map<string, string>()
  /** each topic's digest, recomputed only when what we hold of it changed; serving and pulling share it */
  private readonly digests: DigestCache
  /** every pull and served stream of this run listens on it */
  private readonly stopController = new AbortController()
  /** what each peer may still ask of us: maxInboundStreams bounds streams open at once, not opened per second */
  private readonly serveBuckets?: PeerBuckets
  private refusedCount = 0
  /** the background pull's interval, in multiples of syncIntervalMs, and what the store held at the last one */
  private idleFactor = 1
  private heldAtLastPull = -1

  constructor (private readonly p: SchedulerParts) {
    // every concurrent sync stream listens on it; many at once is normal, not a leak
    setMaxListeners(Infinity, this.stopController.signal)
    if (p.serveRate != null) this.serveBuckets = new PeerBuckets(p.serveRate)
    this.holes = new HoleRepair(p.store, () => p.host.getPeers().map(x => x.toString()), ({ floors, ...gap }) => {
      p.log('warn', 'gap: giving up on messages no connected peer holds', { ...gap, floors })
      p.emit('gap', gap)
    })
    this.digests = new DigestCache(p.store)
  }

  /**
   * A new connection ends a plain failure's backoff (a staller's stays): it may be the heal of a partition.
   * It may also be a restarted peer that speaks a newer version now: ask for the newest again.
   */
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    this.idleFactor = 1
    this.health.connected(peer)
    this.peerVersion.delete(peer)
  }

  /** Answer peers' pulls (every protocol version). */
  async serve (): Promise<void> {
    const { host, store } = this.p
    // before the node's own peer:connect listener, which pulls at once
    host.events.addEventListener('peer:connect', this.onConnect)
    for (const protocol of PROTOCOLS) {
      await host.handle(protocol, (stream: Stream, conn: Connection) => {
        const peer = conn.remotePeer.toString()
        if (this.serveBuckets?.take(peer) === false) {
          // each request costs us a read of the store: a peer asking faster than its rate is cut short
          this.refusedCount++
          this.p.log('debug', 'sync request refused: over the peer\'s rate', { peer })
          this.p.refused?.(peer)
          stream.abort(new Error('sync request rate exceeded'))
          return
        }
        const signal = this.stopController.signal
        const served = protocol === SYNC_PROTOCOL_1_2
          ? serveDigest(stream, store, this.digests, signal, this.p.maxPayloadBytes)
          : serveSync(stream, store, signal, this.p.maxPayloadBytes, protocol === SYNC_PROTOCOL)
        served.catch(err => {
          this.p.log('debug', 'sync serve ended', { peer, err: (err as Error).message })
          stream.abort(err as Error)
        })
      }, { maxInboundStreams: 8, maxOutboundStreams: 8 })
    }
  }

  async unserve (): Promise<void> {
    for (const protocol of PROTOCOLS) await this.p.host.unhandle(protocol)
  }

  /** Abort every pull and served stream, and stop the timers. */
  stop (): void {
    this.stopController.abort()
    this.p.host.events.removeEventListener('peer:connect', this.onConnect)
    for (const t of [this.timer, this.soonTimer]) if (t != null) clearTimeout(t)
    this.health.stop()
  }

  /** true while a pull runs or waits: a consumer does not give up a gap meanwhile */
  get repairing (): boolean { return this.active.size > 0 || this.queue.size > 0 }

  /** Queue a catch-up pull from a peer; up to MAX_CONCURRENT_PULLS peers are pulled at once. A peer in
   * backoff (it failed or stalled) is queued when its backoff ends. */
  requestSync (peer: string): void {
    if (!this.p.isRunning()) return
    // a failed store (an fsync failed) refuses every message until a restart: a pull would only cost both sides
    if (this.p.store.failure != null) return
    if (this.health.deferred(peer, () => this.requestSync(peer))) return
    this.queue.add(peer)
    this.pump()
  }

  /**
   * The next background pull, at a random point of 0.5-1.5 × the interval, so that nodes started together
   * (a test, a rebooted LAN) do not all pull at the same moment, round after round; on a whole second,
   * when this node and its peers are awake for their periodic jobs anyway (tick.ts). The interval grows
   * while nothing changes (MAX_IDLE_BACKOFF).
   */
  scheduleAntiEntropy (): void {
    if (!this.p.isRunning()) return
    const wait = this.intervalMs * (0.5 + Math.random())
    this.timer = setTimeout(() => {
      const held = this.p.store.heldChanges
      this.idleFactor = held === this.heldAtLastPull ? Math.min(this.idleFactor * 2, MAX_IDLE_BACKOFF) : 1
      this.heldAtLastPull = held
      this.syncWithRandomPeer()
      this.scheduleAntiEntropy()
    }, alignable(this.intervalMs) ? toWholeTick(wait) : wait)
    this.timer.unref()
  }

  /** the background pull's mean interval now: syncIntervalMs, times the idle backoff */
  private get intervalMs (): number { return (this.p.syncIntervalMs ?? 5_000) * this.idleFactor }

  /**
   * Background anti-entropy, as in Serf's push-pull: one random peer per round, so the cost per node stays
   * the same however large the LAN is (every peer every round was 4 pulls per 5 s on 5 nodes, 49 on 50).
   * Anything one peer lacks spreads from peer to peer within a few rounds; holes and new connections
   * still trigger pulls at once. Peers in backoff are picked only when no other is connected.
   */
  private syncWithRandomPeer (): void {
    const peers = this.p.host.getPeers().map(p => p.toString())
    const healthy = peers.filter(p => !this.health.backingOff(p))
    const pool = healthy.length > 0 ? healthy : peers
    if (pool.length > 0) this.requestSync(pool[Math.floor(Math.random() * pool.length)])
  }

  syncWithAllPeers (): void {
    for (const p of this.p.host.getPeers()) this.requestSync(p.toString())
  }

  syncSoon (delayMs: number): void {
    if (this.soonTimer != null || !this.p.isRunning()) return
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined
      this.syncWithAllPeers()
    }, delayMs)
    this.soonTimer.unref()
  }

  /**
   * A hole below a newly stored seq means gossip lost something: ask peers for it now, unless this hole
   * was asked for recently (each origin's repeated asks back off, see holes.ts).
   */
  repairHoles (holes: Array<{ topic: string, origin: string }>): void {
    const due = this.holes.due(holes)
    if (due.length === 0) return
    // the origin itself surely holds what is missing of its own stream: ask it alone. Every peer is asked
    // only when a hole's origin is away or backing off: pulls from all of them at once brought the same
    // range two or three times over (20,000-35,000 copies of held messages in a 10,000-message run)
    const peers = new Set(this.p.host.getPeers().map(p => p.toString()))
    let everyOriginHere = true
    for (const h of due) {
      if (peers.has(h.origin) && !this.health.backingOff(h.origin)) {
        // if the origin's pull ends with the hole still open, every peer is asked then (syncWith)
        this.holes.askedOrigin(h.topic, h.origin)
        this.requestSync(h.origin)
      } else {
        everyOriginHere = false
      }
    }
    if (!everyOriginHere) this.syncSoon(200)
  }

  /** Pull from one peer now and resolve when done (null: not connected, or no topics). */
  async syncWith (peer: string): Promise<SyncStats | null> {
    if (!this.p.isRunning()) throw new Error('node is not running')
    const { host, store } = this.p
    const peerId = host.getPeers().find(p => p.toString() === peer)
    if (peerId == null) return null
    const topics = this.p.topics()
    if (topics.length === 0) return null
    const limits = this.p.pullLimits ?? {}
    const pullDeadline = deadline(limits.deadlineMs ?? 120_000, this.stopController.signal)
    const signal = pullDeadline.signal
    setMaxListeners(Infinity, signal)
    const progress = new Progress(limits)
    const total: SyncStats = { received: 0, stored: 0, batches: 0, ms: 0, floors: [] }
    const started = Date.now()
    const startedAt = monotonicNow()
    this.health.started(peer)
    try {
      // one pull per page of the request, each within what a server accepts
      for (const page of requestPages(store, topics, this.p.blockedFrom, this.p.isFull)) {
        const { stream, protocol } = await this.dial(peerId, signal)
        const stats = protocol === SYNC_PROTOCOL_1_2
          ? await pullDigest(stream, peerId, page, topic => this.digests.digest(topic, DIGEST_BUCKETS), this.p.accept, signal, this.p.maxPayloadBytes, progress)
          : await pullFrom(stream, peerId, page, this.p.accept, signal, this.p.maxPayloadBytes, progress)
        total.received += stats.received
        total.stored += stats.stored
        total.batches += stats.batches
        total.floors.push(...stats.floors)
      }
    } catch (err) {
      const e = pullDeadline.expired ? new SyncStallError('sync: pull deadline passed') : err as Error
      if (this.p.isRunning()) {
        this.health.failed(peer, e, e instanceof SyncStallError)
        // a hole asked of this origin alone: it is backing off now, so every peer is asked
        if (this.holes.originDone(peer, startedAt)) this.syncSoon(200)
        this.p.log('warn', 'sync pull failed', { peer, err: e.message, retryInMs: this.health.backoffOf(peer) })
        this.p.emit('sync:failed', { peer, error: e.message })
      }
      throw e
    } finally {
      pullDeadline.clear()
    }
    total.ms = Date.now() - started
    this.health.succeeded(peer)
    try { this.holes.pulled(peer, topics, total.floors, this.peerVersion.get(peer) === SYNC_PROTOCOL_1_0) } catch (err) {
      this.p.log('warn', 'could not give up unreachable holes', { err: (err as Error).message })
    }
    // the origin answered, and a hole asked of it alone is still open: it did not fill it, the others may
    if (this.holes.originDone(peer, startedAt)) this.syncSoon(200)
    this.p.emit('sync', { peer, received: total.received, stored: total.stored, ms: total.ms, batches: total.batches })
    return total
  }

  /** A sync stream to a peer: the newest version it speaks (1.2.0, else 1.1.0, else 1.0.0), remembered. */
  private async dial (peer: PeerId, signal: AbortSignal): Promise<{ stream: Stream, protocol: string }> {
    const key = peer.toString()
    // a peer that leaves the stream unanswered is stalling, as one that sends nothing (protocol.ts readFrame)
    const ms = this.p.pullLimits?.dialTimeoutMs ?? 10_000
    const known = this.peerVersion.get(key)
    const versions = known != null ? PROTOCOLS.slice(PROTOCOLS.indexOf(known)) : PROTOCOLS
    return await withDeadline(ms, signal, async wait => {
      for (let i = 0; ; i++) {
        try {
          const stream = await this.p.host.dialProtocol(peer, versions[i], { signal: wait.signal })
          this.peerVersion.set(key, versions[i])
          return { stream, protocol: versions[i] }
        } catch (err) {
          if (wait.expired) throw new SyncStallError(`sync: the peer opened no sync stream within ${ms} ms`)
          if ((err as Error).name !== 'UnsupportedProtocolError' || i === versions.length - 1) throw err
        }
      }
    })
  }

  /** Start queued pulls while fewer than MAX_CONCURRENT_PULLS run; a peer already being pulled waits its turn. */
  private pump (): void {
    for (const peer of [...this.queue]) {
      if (this.active.size >= MAX_CONCURRENT_PULLS || !this.p.isRunning()) return
      if (this.active.has(peer)) continue
      this.queue.delete(peer)
      // asked for while its last pull ran, which then failed or stalled: its backoff holds this one too
      if (this.health.deferred(peer, () => this.requestSync(peer))) continue
      this.active.add(peer)
      this.syncWith(peer).catch(() => { /* counted and logged in syncWith */ }).finally(() => {
        this.active.delete(peer)
        this.pump()
      })
    }
  }

  /** sync health for status */
  status (): SyncHealth {
    const gaps = this.p.gaps?.() ?? { waiting: 0, givenUp: 0 }
    return this.health.report({ active: this.active.size, queued: this.queue.size, holes: this.holes.size, gapsWaiting: gaps.waiting, gapsGivenUp: gaps.givenUp + this.holes.givenUp, refused: this.refusedCount, intervalMs: this.intervalMs })
  }
}
