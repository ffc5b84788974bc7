// Tells libp2p's connection manager which peers are worth keeping, and carries out its pruning.
// libp2p (3.3) prunes past maxConnections (the high mark plus headroom; below that evict.ts keeps the count
// at the high mark, with these same values as one criterion) by the sum of each peer's peer-store tag
// values, lowest first, but only closes a connection whose open streams are all "speculative" (identify,
// autonat...): every gossipd connection carries a gossipsub stream, so on its own it would prune nothing.
// It still announces its choice in a 'connection:prune' event; we close those connections, except static
// peers'.
// Values (0-100 per tag, summed): static peer 100 (and never closed here), each topic we share 50, and
// gossipsub's own tag (the topic name, 100) for each topic mesh the peer is in.
import type { Connection, PeerId } from '@libp2p/interface'
import type { SwarmHost } from './libp2p.js'
import { onWholeTicks } from '../tick.js'

export const TOPIC_TAG_PREFIX = 'gossipd-topic:'
const STATIC_TAG = 'gossipd-static'
const STATIC_VALUE = 100
/** a peer's value per topic it shares with us */
export const TOPIC_VALUE = 50
/** gossipsub's own tag on a peer, per topic mesh it is in */
export const MESH_TAG_VALUE = 100
/** our own topic joins and leaves are picked up this often */
const REFRESH_MS = 5_000
/** peers' subscription changes are applied to their tags at most this often */
const FLUSH_MS = 1_000

/** the key of a tag on a peer in `tagged` and `pending` */
function tagKey (peer: PeerId, name: string): string {
  return `${peer.toString()} ${name}`
}

interface SubscriptionChange { peerId: PeerId, subscriptions: Array<{ topic: string, subscribe: boolean }> }

export class PeerTags {
  /** the tags this node set, to take off at stop: a libp2p node given to gossipd outlives it */
  private readonly tagged = new Map<string, { peer: PeerId, name: string }>()
  private stopTicks?: () => void
  /** subscription changes not yet applied, by `${peer} ${tag}` */
  private readonly pending = new Map<string, { peer: PeerId, name: string, value: number | undefined }>()
  private flushTimer?: ReturnType<typeof setTimeout>

  constructor (private readonly host: SwarmHost, private readonly isStatic: (peer: PeerId) => boolean, private readonly log: (msg: string, extra?: object) => void = () => {}) {}

  start (): void {
    this.host.services.pubsub.addEventListener('subscription-change', this.onSubscriptions)
    this.host.addEventListener('peer:connect', this.onConnect)
    this.host.addEventListener('connection:prune', this.onPrune)
    this.stopTicks = onWholeTicks(REFRESH_MS, () => this.refresh())
    // a libp2p node given to gossipd keeps its connections across our restarts: no peer:connect for those
    this.refresh()
  }

  stop (): void {
    this.host.services.pubsub.removeEventListener('subscription-change', this.onSubscriptions)
    this.host.removeEventListener('peer:connect', this.onConnect)
    this.host.removeEventListener('connection:prune', this.onPrune)
    this.stopTicks?.()
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    this.pending.clear()
    this.untagAll()
  }

  /**
   * One peer-store write per peer, not per tag: each write is a datastore round trip, and one per tag made
   * stopping a node of 1,100 topics take 9 s
   */
  private untagAll (): void {
    const byPeer = new Map<string, { peer: PeerId, tags: Record<string, undefined> }>()
    for (const { peer, name } of this.tagged.values()) {
      const key = peer.toString()
      let e = byPeer.get(key)
      if (e == null) { e = { peer, tags: {} }; byPeer.set(key, e) }
      e.tags[name] = undefined
    }
    this.tagged.clear()
    for (const { peer, tags } of byPeer.values()) {
      this.host.peerStore.merge(peer, { tags })
        .catch(err => this.log('peer untag failed', { peer: peer.toString(), err: (err as Error).message }))
    }
  }

  /** the peer store let the peer go, tags and all (peers.ts): tag it afresh if it comes back */
  forget (peer: PeerId): void {
    const prefix = tagKey(peer, '')
    for (const key of this.tagged.keys()) if (key.startsWith(prefix)) this.tagged.delete(key)
  }

  private tag (peer: PeerId, name: string, value: number | undefined): void {
    const key = tagKey(peer, name)
    if ((value != null) === this.tagged.has(key)) return
    if (value != null) this.tagged.set(key, { peer, name })
    else this.tagged.delete(key)
    this.host.peerStore.merge(peer, { tags: { [name]: value != null ? { value } : undefined } })
      .catch(err => this.log('peer tag failed', { peer: peer.toString(), tag: name, err: (err as Error).message }))
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    if (this.isStatic(evt.detail)) this.tag(evt.detail, STATIC_TAG, STATIC_VALUE)
  }

  // A peer's subscription changes are noted (last one wins) and applied at most once a FLUSH_MS: each tag
  // change is a peer-store write, and one RPC may carry 5,000 subscribe/unsubscribe pairs of a topic we
  // share. Applied at once, 5 such RPCs (175 KB) cost 25,000 writes and ~4 s of CPU in a review. Only
  // topics we keep (or a tag we set) are noted, so the map holds at most peers x our topics.
  private readonly onSubscriptions = (evt: CustomEvent<SubscriptionChange>): void => {
    const ours = new Set(this.host.services.pubsub.getTopics())
    for (const s of evt.detail.subscriptions) {
      if (s.subscribe && !ours.has(s.topic)) continue
      const name = TOPIC_TAG_PREFIX + s.topic
      const key = tagKey(evt.detail.peerId, name)
      if (!s.subscribe && !this.tagged.has(key) && !this.pending.has(key)) continue
      this.pending.set(key, { peer: evt.detail.peerId, name, value: s.subscribe ? TOPIC_VALUE : undefined })
    }
    if (this.pending.size > 0 && this.flushTimer == null) {
      this.flushTimer = setTimeout(() => { this.flush() }, FLUSH_MS)
      this.flushTimer.unref()
    }
  }

  private flush (): void {
    this.flushTimer = undefined
    const pending = [...this.pending.values()]
    this.pending.clear()
    for (const p of pending) this.tag(p.peer, p.name, p.value)
  }

  /** topics we joined after the peer announced its own, and static peers connected before we started
   * (or known by id only once dialed) */
  private refresh (): void {
    for (const peer of this.host.getPeers()) if (this.isStatic(peer)) this.tag(peer, STATIC_TAG, STATIC_VALUE)
    const pubsub = this.host.services.pubsub
    for (const topic of pubsub.getTopics()) {
      for (const peer of pubsub.getSubscribers(topic)) this.tag(peer, TOPIC_TAG_PREFIX + topic, TOPIC_VALUE)
    }
  }

  private readonly onPrune = (evt: CustomEvent<Connection[]>): void => {
    for (const conn of evt.detail) {
      if (conn.status !== 'open' || this.isStatic(conn.remotePeer)) continue
      this.log('over the connection high mark: closing the least valued connection', { peer: conn.remotePeer.toString() })
      conn.close().catch(err => conn.abort(err as Error))
    }
  }
}
