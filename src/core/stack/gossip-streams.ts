// gossipsub (17) opens its outbound stream to a peer when the peer connects or opens a stream to us, through
// one queue, and never again if that fails (it only logs the error): a peer too loaded to answer the protocol
// negotiation in time then stays connected and subscribed while nothing of ours reaches it by gossip, only by
// sync pulls, until one side reconnects. This looks every few seconds for gossipsub peers with an open
// connection and no outbound stream, and queues those missing it on two looks in a row again. A peer is
// queued again ever less often (each try may hold gossipsub's one queue for its 10 s negotiation timeout, and
// a peer that stalls on purpose must not keep it blocked for everyone else).
// The fields read are gossipsub-internal (version pinned in package.json; test/gossip-stream-repair.test.ts
// fails if they move).
import type { Connection, PeerId } from '@libp2p/interface'
import type { SwarmHost } from './libp2p.js'
import { onWholeTicks } from '../tick.js'

export const STREAM_CHECK_MS = 5_000
const RETRY_MAX_MS = 5 * 60_000

interface GossipInternals {
  peers: Map<string, PeerId>
  streamsOutbound: Map<string, unknown>
  outboundInflightQueue: { push: (item: { peerId: PeerId, connection: Connection }) => void }
}

export class GossipStreamRepair {
  /** peers seen without an outbound stream on the last look */
  private missing = new Set<string>()
  /** per peer queued again: when it may be queued next, and the pause after that */
  private readonly retry = new Map<string, { at: number, pauseMs: number }>()
  private stopTicks?: () => void

  constructor (private readonly host: SwarmHost, private readonly log: (msg: string, extra?: object) => void = () => {}) {}

  start (): void {
    this.stopTicks = onWholeTicks(STREAM_CHECK_MS, () => this.check(Date.now()))
  }

  stop (): void {
    this.stopTicks?.()
  }

  check (now: number): void {
    const gs = this.host.services.pubsub as unknown as Partial<GossipInternals>
    if (gs.peers == null || gs.streamsOutbound == null || gs.outboundInflightQueue == null) return
    const missing = new Set<string>()
    for (const [id, peerId] of gs.peers) {
      if (gs.streamsOutbound.has(id)) { this.retry.delete(id); continue }
      const connection = this.host.getConnections(peerId).find(c => c.status === 'open')
      if (connection == null) continue
      missing.add(id)
      const r = this.retry.get(id)
      if (!this.missing.has(id) || (r != null && now < r.at)) continue
      const pauseMs = Math.min((r?.pauseMs ?? STREAM_CHECK_MS / 2) * 2, RETRY_MAX_MS)
      this.retry.set(id, { at: now + pauseMs, pauseMs })
      this.log('gossipsub stream to a connected peer missing: opening it again', { peer: id, nextTryInMs: pauseMs })
      gs.outboundInflightQueue.push({ peerId, connection })
    }
    for (const id of this.retry.keys()) if (!gs.peers.has(id)) this.retry.delete(id)
    this.missing = missing
  }
}
