// Keeps the connection count at the high mark by closing connections itself, chosen so that no one device
// can hold a node's slots (Bitcoin Core's inbound eviction is the model). libp2p is given a few slots of
// headroom above the high mark (libp2p.ts) so that inbound connections are still taken at it; without it one
// device with many free peer ids that only answered pings filled a node for good: libp2p refused every
// inbound connection at the mark and pruned only past it, keep-alive never closed the strangers, and a node
// with its low mark of peers dials no one (an honest newcomer got 0 messages in 30-40 s runs).
// Each connection that takes the count past the high mark closes one, picked in this order:
// - never a static peer's;
// - not one younger than GRACE_MS (a newcomer has had no chance to be useful), unless all candidates are;
// - not a peer that recently delivered messages we had not seen (a useful relay), unless all are;
// - from the source-IP group holding the most candidates (loopback is one group, an IPv6 /64 is one:
//   addresses in it are free), the lowest-valued (peer-tags.ts values) then youngest in that group.
import type { Connection, PeerId } from '@libp2p/interface'
import type { GossipSub } from '@libp2p/gossipsub'
import { meshPeersOf } from './gossip.js'
import { TOPIC_VALUE, MESH_TAG_VALUE } from './peer-tags.js'
import type { ConnectionBounds, SwarmHost } from './libp2p.js'
import { monotonicNow } from '../monotonic.js'

/** a new connection cannot be chosen for this long, unless every candidate is as new */
export const GRACE_MS = 30_000
/** a peer that delivered a message first-seen by us within this long is a useful relay */
export const USEFUL_MS = 120_000

export interface EvictionCandidate {
  /** source-IP group (ipGroup) */
  group: string
  /** what the peer is worth (peer-tags.ts values: topics shared, mesh membership) */
  value: number
  /** monotonic ms */
  openedAt: number
  useful: boolean
}

/** the source-IP group of a remote multiaddr: loopback is one machine; an IPv6 /64 is one device's to pick from */
export function ipGroup (addr: string): string {
  const m = /^\/(ip4|ip6)\/([^/]+)/.exec(addr)
  if (m == null) return addr
  const ip = m[2]
  if (ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.')) return 'loopback'
  if (m[1] === 'ip4' || ip.startsWith('::ffff:')) return ip
  return expandIp6(ip).slice(0, 4).join(':') + '::/64'
}

function expandIp6 (ip: string): string[] {
  const [head, tail] = ip.split('::')
  const h = head === '' ? [] : head.split(':')
  const t = tail == null ? [] : tail === '' ? [] : tail.split(':')
  return [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t].map(x => x.toLowerCase())
}

/** the candidate to close, or undefined if there is none */
export function chooseVictim<T extends EvictionCandidate> (candidates: T[], now: number, graceMs = GRACE_MS): T | undefined {
  const settled = (c: T): boolean => now - c.openedAt >= graceMs
  // the first non-empty tier: settled strangers, then new strangers, then useful relays
  let pool = candidates.filter(c => !c.useful && settled(c))
  if (pool.length === 0) pool = candidates.filter(c => !c.useful)
  if (pool.length === 0) pool = candidates.filter(settled)
  if (pool.length === 0) pool = candidates
  if (pool.length === 0) return undefined
  const groups = new Map<string, T[]>()
  for (const c of pool) {
    const g = groups.get(c.group)
    if (g == null) groups.set(c.group, [c])
    else g.push(c)
  }
  // the group with the most connections; on a tie, the one with the youngest connection (Bitcoin Core's rule)
  const youngest = (g: T[]): number => Math.max(...g.map(c => c.openedAt))
  let worst: T[] = []
  for (const g of groups.values()) {
    if (g.length > worst.length || (g.length === worst.length && youngest(g) > youngest(worst))) worst = g
  }
  return worst.reduce((a, b) => b.value < a.value || (b.value === a.value && b.openedAt > a.openedAt) ? b : a)
}

/** value of a peer to us, as the peer store's tags have it: per topic shared, and more per topic mesh (peer-tags.ts) */
function peerValue (pubsub: GossipSub, peer: string): number {
  let v = 0
  for (const topic of pubsub.getTopics()) {
    if (pubsub.getSubscribers(topic).some(p => p.toString() === peer)) v += TOPIC_VALUE
    if (meshPeersOf(pubsub, topic).includes(peer)) v += MESH_TAG_VALUE
  }
  return v
}

export class ConnectionPruner {
  /** when each connection opened (monotonic); connections older than this pruner count as settled */
  private readonly openedAt = new WeakMap<Connection, number>()
  /** when each peer last delivered a message first-seen by us (monotonic) */
  private readonly deliveredAt = new Map<string, number>()
  private scheduled = false
  private stopped = false

  constructor (
    private readonly host: SwarmHost,
    private readonly bounds: ConnectionBounds,
    private readonly isStatic: (peer: PeerId) => boolean,
    /** told before a victim is closed (the peer keeper then does not redial it) */
    private readonly onEvict: (peer: PeerId) => void = () => {},
    private readonly log: (msg: string, extra?: object) => void = () => {},
  ) {}

  start (): void {
    this.host.addEventListener('connection:open', this.onOpen)
    this.host.addEventListener('peer:disconnect', this.onDisconnect)
    this.schedule()
  }

  stop (): void {
    this.stopped = true
    this.host.removeEventListener('connection:open', this.onOpen)
    this.host.removeEventListener('peer:disconnect', this.onDisconnect)
  }

  /** a peer delivered a message we had not seen (inbound.ts): worth keeping */
  delivered (peer: PeerId): void {
    this.deliveredAt.set(peer.toString(), monotonicNow())
  }

  private readonly onOpen = (evt: CustomEvent<Connection>): void => {
    this.openedAt.set(evt.detail, monotonicNow())
    this.schedule()
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.deliveredAt.delete(evt.detail.toString())
  }

  /** once per event-loop turn: a burst of connections is pruned in one pass */
  private schedule (): void {
    if (this.scheduled || this.stopped) return
    this.scheduled = true
    setImmediate(() => { this.scheduled = false; this.prune() })
  }

  prune (): void {
    if (this.stopped) return
    const open = this.host.getConnections().filter(c => c.status === 'open')
    let excess = open.length - this.bounds.high
    if (excess <= 0) return
    const now = monotonicNow()
    const pubsub = this.host.services.pubsub
    const byPeer = new Map<string, Connection[]>()
    for (const c of open) {
      if (this.isStatic(c.remotePeer)) continue
      const id = c.remotePeer.toString()
      byPeer.set(id, [...(byPeer.get(id) ?? []), c])
    }
    const candidates = [...byPeer.entries()].map(([id, conns]) => ({
      id,
      conns,
      group: ipGroup(conns[0].remoteAddr.toString()),
      value: peerValue(pubsub, id),
      // a peer's newest connection is what it is judged by; one opened before we started counts as settled
      openedAt: Math.max(...conns.map(c => this.openedAt.get(c) ?? -Infinity)),
      useful: now - (this.deliveredAt.get(id) ?? -Infinity) < USEFUL_MS,
    }))
    while (excess > 0) {
      const victim = chooseVictim(candidates, now)
      if (victim == null) return
      candidates.splice(candidates.indexOf(victim), 1)
      excess -= victim.conns.length
      this.log('over the connection high mark: closing a connection', { peer: victim.id, group: victim.group, value: victim.value, useful: victim.useful })
      this.onEvict(victim.conns[0].remotePeer)
      for (const c of victim.conns) c.close().catch(err => c.abort(err as Error))
    }
  }
}
