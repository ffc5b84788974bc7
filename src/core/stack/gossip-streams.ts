// gossipsub (17) tries to open its outbound stream to a peer only around the moment the peer connects (once per
// protocol the peer advertises, and when the peer opens a stream to us), through one queue, and never after
// that (it only logs a failure): a peer too loaded to answer the protocol negotiation in time then stays
// connected and subscribed while nothing of ours reaches it by gossip, only by sync pulls, until one side
// reconnects. This looks every few seconds for gossipsub peers with an open connection and no outbound
// stream, and queues such a peer again, ever less often. An attempt can hold gossipsub's one queue for the
// 10 s negotiation timeout, and a peer that stalls on purpose must not keep it blocked for everyone else: a
// peer is queued again only while nothing waits in the queue (at most one peer a look), never while an attempt of
// its own is running, and only a pause after its last attempt ended (10 s, doubling to 5 min; it starts over
// once a stream to the peer has lasted 5 min).
// The fields used are gossipsub-internal (version pinned in package.json; test/gossip-stream-repair.test.ts
// fails if they move).
import type { Connection, PeerId } from '@libp2p/interface'
import type { SwarmHost } from './libp2p.js'
import { onWholeTicks } from '../tick.js'

export const STREAM_CHECK_MS = 5_000
export const RETRY_FIRST_MS = 10_000
export const RETRY_MAX_MS = 5 * 60_000
/** a stream that lasted this long earns its peer a fresh start of the pauses */
export const STREAM_TRUSTED_MS = 5 * 60_000

interface GossipInternals {
  peers: Map<string, PeerId>
  streamsOutbound: Map<string, unknown>
  outboundInflightQueue: { push: (item: { peerId: PeerId, connection: Connection }) => void, readableLength: number }
  createOutboundStream: (peerId: PeerId, connection: Connection) => Promise<void>
}

interface PeerState {
  /** attempts running now, gossipsub's own too (counted from their start; queued ones show in readableLength) */
  attempts: number
  endedAt: number
  pauseMs: number
  /** since when the stream has been there (0: not there on the last look) */
  streamSince: number
  /** missing on the last look */
  missing: boolean
}

export class GossipStreamRepair {
  private readonly state = new Map<string, PeerState>()
  private stopTicks?: () => void
  private gs?: GossipInternals
  private wrapper?: GossipInternals['createOutboundStream']
  /** peers queued again, in all (status and tests) */
  reopened = 0

  constructor (private readonly host: SwarmHost, private readonly log: (msg: string, extra?: object) => void = () => {}, private readonly now: () => number = Date.now) {}

  start (): void {
    const gs = this.host.services.pubsub as unknown as Partial<GossipInternals>
    if (gs.peers == null || gs.streamsOutbound == null || typeof gs.outboundInflightQueue?.readableLength !== 'number' || typeof gs.createOutboundStream !== 'function') return
    this.gs = gs as GossipInternals
    // count every attempt (gossipsub's own too), so a peer with one pending or running is never queued again
    const original = gs.createOutboundStream
    gs.createOutboundStream = this.wrapper = async (peerId, connection) => {
      const s = this.peer(peerId.toString())
      s.attempts++
      try {
        await original.call(gs, peerId, connection)
      } finally {
        s.attempts--
        s.endedAt = this.now()
      }
    }
    this.stopTicks = onWholeTicks(STREAM_CHECK_MS, () => this.check())
  }

  stop (): void {
    this.stopTicks?.()
    // only our own wrapper comes off (the prototype's method shows through again)
    if (this.gs != null && this.gs.createOutboundStream === this.wrapper) delete (this.gs as Partial<GossipInternals>).createOutboundStream
  }

  private peer (id: string): PeerState {
    let s = this.state.get(id)
    if (s == null) {
      s = { attempts: 0, endedAt: 0, pauseMs: RETRY_FIRST_MS, streamSince: 0, missing: false }
      this.state.set(id, s)
    }
    return s
  }

  /** one look (every STREAM_CHECK_MS) */
  check (): void {
    const gs = this.gs
    if (gs == null) return
    const now = this.now()
    // one peer a look: a push to an idle queue is taken at once (readableLength stays 0), and a second would
    // wait behind it, maybe for the whole negotiation timeout
    let pushed = false
    for (const [id, peerId] of gs.peers) {
      const s = this.peer(id)
      if (gs.streamsOutbound.has(id)) {
        s.missing = false
        if (s.streamSince === 0) s.streamSince = now
        else if (now - s.streamSince >= STREAM_TRUSTED_MS) s.pauseMs = RETRY_FIRST_MS
        continue
      }
      s.streamSince = 0
      const connection = this.host.getConnections(peerId).find(c => c.status === 'open')
      const wasMissing = s.missing
      s.missing = connection != null
      if (connection == null || !wasMissing || pushed || s.attempts > 0 || gs.outboundInflightQueue.readableLength > 0) continue
      if (now - s.endedAt < s.pauseMs) continue
      s.pauseMs = Math.min(s.pauseMs * 2, RETRY_MAX_MS)
      this.log('gossipsub stream to a connected peer missing: opening it again', { peer: id, nextPauseMs: s.pauseMs })
      // it runs after the attempt now running, if any (the wrapper counts it from its start); while it waits,
      // readableLength keeps this from queuing anything more
      gs.outboundInflightQueue.push({ peerId, connection })
      pushed = true
      this.reopened++
    }
    for (const id of this.state.keys()) if (!gs.peers.has(id)) this.state.delete(id)
  }
}
