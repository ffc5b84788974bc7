// When and from whom this node pulls: a queue of peers pulled one at a time, the periodic anti-entropy
// pull, pulls soon after overload or a hole, and the server side of the protocol for peers pulling from us.
import { setMaxListeners } from 'node:events'
import type { Stream, Connection } from '@libp2p/interface'
import { SYNC_PROTOCOL, pullFrom, serveSync, type AcceptBatch, type SyncStats } from './protocol.js'
import type { NodeHost } from '../host.js'
import type { Store } from '../../store/store.js'
import type { Emit, LogFn } from '../events.js'

export interface SchedulerParts {
  host: NodeHost
  store: Store
  /** the topics to pull (the joined ones) */
  topics: () => string[]
  accept: AcceptBatch
  isRunning: () => boolean
  syncIntervalMs?: number
  maxPayloadBytes: number
  emit: Emit
  log: LogFn
}

export class SyncScheduler {
  private readonly queue = new Set<string>()
  private syncing = false
  private timer?: NodeJS.Timeout
  private soonTimer?: NodeJS.Timeout
  /** every pull and served stream of this run listens on it */
  private readonly stopController = new AbortController()

  constructor (private readonly p: SchedulerParts) {
    // every concurrent sync stream listens on it; many at once is normal, not a leak
    setMaxListeners(Infinity, this.stopController.signal)
  }

  /** Answer peers' pulls. */
  async serve (): Promise<void> {
    const { host, store } = this.p
    await host.handle(SYNC_PROTOCOL, (stream: Stream, conn: Connection) => {
      serveSync(stream, store, this.stopController.signal, this.p.maxPayloadBytes).catch(err => {
        this.p.log('debug', 'sync serve ended', { peer: conn.remotePeer.toString(), err: (err as Error).message })
        stream.abort(err as Error)
      })
    }, { maxInboundStreams: 8, maxOutboundStreams: 8 })
  }

  async unserve (): Promise<void> {
    await this.p.host.unhandle(SYNC_PROTOCOL)
  }

  /** Abort every pull and served stream, and stop the timers. */
  stop (): void {
    this.stopController.abort()
    for (const t of [this.timer, this.soonTimer]) if (t != null) clearTimeout(t)
  }

  /** true while a pull runs or waits: a consumer does not give up a gap meanwhile */
  get repairing (): boolean { return this.syncing || this.queue.size > 0 }

  /** Queue a catch-up pull from a peer; pulls run one at a time. */
  requestSync (peer: string): void {
    if (!this.p.isRunning()) return
    this.queue.add(peer)
    void this.runQueue()
  }

  /** The next background pull, at a random point of 0.5-1.5 × syncIntervalMs, so that nodes started
   * together (a test, a rebooted LAN) do not all pull at the same moment, round after round. */
  scheduleAntiEntropy (): void {
    if (!this.p.isRunning()) return
    const interval = this.p.syncIntervalMs ?? 5_000
    this.timer = setTimeout(() => {
      this.syncWithRandomPeer()
      this.scheduleAntiEntropy()
    }, interval * (0.5 + Math.random()))
    this.timer.unref()
  }

  /**
   * Background anti-entropy, as in Serf's push-pull: one random peer per round, so the cost per node stays
   * the same however large the LAN is (every peer every round was 4 pulls per 5 s on 5 nodes, 49 on 50).
   * Anything one peer lacks spreads from peer to peer within a few rounds; holes and new connections
   * still trigger pulls at once.
   */
  private syncWithRandomPeer (): void {
    const peers = this.p.host.getPeers()
    if (peers.length > 0) this.requestSync(peers[Math.floor(Math.random() * peers.length)].toString())
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

  /** A hole below a newly stored seq means gossip lost something: ask peers for it now. */
  repairHoles (origins: Set<string>): void {
    // the origin itself surely holds what is missing of its own stream: ask it first
    for (const origin of origins) if (this.p.host.getPeers().some(p => p.toString() === origin)) this.requestSync(origin)
    this.syncSoon(200)
  }

  /** Pull from one peer now and resolve when done (null: not connected, or no topics). */
  async syncWith (peer: string): Promise<SyncStats | null> {
    if (!this.p.isRunning()) throw new Error('node is not running')
    const { host, store } = this.p
    const peerId = host.getPeers().find(p => p.toString() === peer)
    if (peerId == null) return null
    const topics = this.p.topics()
    if (topics.length === 0) return null
    const signal = this.stopController.signal
    let stats: SyncStats
    try {
      const stream = await host.dialProtocol(peerId, SYNC_PROTOCOL, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })
      stats = await pullFrom(stream, peerId, store, topics, this.p.accept, signal, this.p.maxPayloadBytes)
    } catch (err) {
      // a pull cut short by our own stop is not a failure of the peer
      if (this.p.isRunning()) this.p.emit('sync:failed', { peer, error: (err as Error).message })
      throw err
    }
    this.p.emit('sync', { peer, received: stats.received, stored: stats.stored, ms: stats.ms, batches: stats.batches })
    return stats
  }

  private async runQueue (): Promise<void> {
    if (this.syncing) return
    this.syncing = true
    try {
      while (this.p.isRunning() && this.queue.size > 0) {
        const peer = this.queue.values().next().value as string
        this.queue.delete(peer)
        try {
          await this.syncWith(peer)
        } catch (err) {
          if (this.p.isRunning()) this.p.log('debug', 'sync pull failed', { peer, err: (err as Error).message })
        }
      }
    } finally {
      this.syncing = false
    }
  }
}
