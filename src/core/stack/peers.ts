// Keeps the swarm connected within bounds: keeps static peers connected, redialing with exponential
// backoff when they drop, and dials discovered peers only while this node has fewer than the low mark of
// connected peers (libp2p keeps every discovered peer in its peer store; past the high mark it prunes, see
// peer-tags.ts). Below the low mark it also dials remembered peers, those sharing our topics first. Never
// dials itself; when two nodes discover each other at the same time only the one with the smaller peer id
// dials at once, so they do not end up with two connections (the other dials only if still unconnected a
// little later).
// A discovered peer whose connection drops (keep-alive closed it during a partition, or it restarted) is
// redialed too: libp2p announces a peer by mDNS only the first time, so without this it would stay apart.
// Anyone on the LAN can announce peers, so discovery is kept honest-peer-first whatever is announced (a
// device answering every query at once with made-up peers whose addresses accept TCP and never speak kept
// two honest nodes apart for good: each such dial held one of the 8 dial slots for libp2p's 10 s, and an
// honest peer announced meanwhile was dropped):
// - a discovered peer is dialed with a deadline of DISCOVERED_DIAL_TIMEOUT_MS, handshake included, doubled
//   on each retry after a failure (a slow honest peer gets there; a fake's retries are spread out by the
//   backoff below);
// - discovered peers not yet connected stay candidates (at most MAX_CANDIDATES, most recently announced
//   first) and are dialed as slots free up, those that answered us before first and those that failed
//   last, a failed one again after a backoff; one evicted that never answered is dropped from the peer
//   store too (so libp2p announces it afresh if it is heard again);
// - dials in flight to one host (IP address), under however many peer ids, are capped (MAX_DIALS_PER_HOST).
// What the peer store keeps of peers we are not connected to is bounded too: any number of fresh peer ids
// can connect and leave, and libp2p keeps each for hours (addresses 1 h, peers 6 h, and only dropped when the
// store is read). A peer worth dialing again when it leaves (a static peer, one sharing our topics, a
// discovered one: the candidates) is remembered, at most MAX_REMEMBERED, oldest forgotten first; the rest
// is deleted from the peer store as it leaves. Only from a libp2p node gossipd built (prunePeerStore): one
// given by its owner keeps whatever its owner and its other services put there.
// The top-up dials from that list, not from a scan of the whole peer store (which took 1 s a read with 100
// bloated entries, every second while short of peers), and reads only the entries it dials.
// Every due time and age here is on the monotonic clock (a step of the wall clock delayed redials by the
// step, or made them all due at once); only the phase of the periodic tick follows the wall clock (tick.ts).
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId, PeerInfo } from '@libp2p/interface'
import { DEFAULT_CONNECTIONS, type ConnectionBounds, type SwarmHost } from './libp2p.js'
import { TOPIC_TAG_PREFIX } from './peer-tags.js'
import { connectedPeers } from './connected-peers.js'
import { toWholeTick } from '../tick.js'
import { monotonicNow } from '../monotonic.js'

const BACKOFF_MIN_MS = 500
/** a static peer is redialed at least this often, so it reconnects within moments of a partition healing */
const BACKOFF_MAX_MS = 2_000
/** a dial that hangs (SYNs into a partition) is given up after this, so the next one goes out fresh */
const DIAL_TIMEOUT_MS = 2_000
const TIE_BREAK_DELAY_MS = 1_500
/** the larger id's own dial waits this long more at random: a loaded machine can take seconds to finish a handshake, and a dial crossing one in progress makes a duplicate connection */
const TIE_BREAK_JITTER_MS = 4_000
/** a discovered (LAN) peer must connect, Noise and yamux handshakes included, within this; libp2p's default is 10 s */
const DISCOVERED_DIAL_TIMEOUT_MS = 3_000
/** a candidate that timed out gets twice the time on its next dial, up to this (a loaded host's handshake can take seconds) */
const DISCOVERED_DIAL_TIMEOUT_MAX_MS = 24_000
/** discovered peers kept as candidates until connected, most recently announced first */
const MAX_CANDIDATES = 256
/** a candidate whose dial failed is tried again after this, doubling per failure up to CANDIDATE_RETRY_MAX_MS */
const CANDIDATE_RETRY_MIN_MS = 5_000
const CANDIDATE_RETRY_MAX_MS = 60_000
/** dials in flight to one IP address, whatever peer ids it was announced under */
const MAX_DIALS_PER_HOST = 2
/** peers gone that are kept in the peer store to be dialed again (candidates and static peers aside) */
export const MAX_REMEMBERED = 256
/** how often the node tops up to the low mark from its peer store */
const TOP_UP_MS = 1_000
/** how often a node with all the peers it wants still looks (a dropped peer also wakes it at once) */
const IDLE_TICK_MS = 5_000
/** a remembered peer that failed a dial is left alone this long */
const FAILED_PEER_PAUSE_MS = 30_000

/** lost peers are redialed every second for this long (a partition's heal is noticed at once), then ever less often */
const LOST_FAST_MS = 60_000
const LOST_FAST_EVERY_MS = 1_000
const LOST_SLOW_MAX_MS = 30_000
/** and forgotten after this */
const LOST_FORGET_MS = 60 * 60_000
/** a connection that closes sooner than this after opening was refused (a gater that denies us after the handshake) or is flapping */
const FLAP_MS = 5_000
/** such a peer is redialed after this, doubling each time it happens again, up to LOST_SLOW_MAX_MS */
const FLAP_BACKOFF_MIN_MS = 2_000

interface StaticPeer { addr: Multiaddr, peerId?: PeerId, nextDial: number, backoff: number, dialing: boolean, warned?: boolean }
interface LostPeer { peer: PeerId, since: number, nextDial: number, backoff: number, dialing: boolean }
/** a discovered peer not connected (yet): hosts are the IP addresses it was announced at */
interface Candidate { peer: PeerId, hosts: string[], notBefore: number, failures: number, answered: boolean }
/** a peer worth dialing again, not connected */
interface Remembered { peer: PeerId, topical: boolean }

export interface PeerKeeperOptions {
  /** delete from the peer store the peers gone that are not worth remembering (only on a libp2p node gossipd built) */
  prunePeerStore?: boolean
  /** a remembered peer (one with our tags) was deleted from the peer store, its tags with it */
  onForget?: (peer: PeerId) => void
}

/** the IP addresses of some multiaddrs (at most 8) */
function hostsOf (addrs: Multiaddr[]): string[] {
  const hosts = new Set<string>()
  for (const a of addrs) {
    const ip = a.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')?.value
    // loopback is every daemon's own machine (a daemon on 0.0.0.0 announces 127.0.0.1 too; many nodes of a
    // test or bench share it): it says nothing about which device a peer is on, as in gate.ts
    if (ip != null && ip !== '::1' && !ip.startsWith('127.')) hosts.add(ip)
    if (hosts.size >= 8) break
  }
  return [...hosts]
}

export class PeerKeeper {
  private readonly statics: StaticPeer[]
  private readonly lost = new Map<string, LostPeer>()
  private timer?: NodeJS.Timeout
  private timerAt = 0
  private stopped = false
  private readonly dialing = new Set<string>()
  private readonly failedUntil = new Map<string, number>()
  private lastTopUp = -Infinity
  /** discovered peers are dialCandidates'; topUp leaves them alone. Map order: least recently announced first */
  private readonly candidates = new Map<string, Candidate>()
  /** dials in flight per IP address */
  private readonly hostDials = new Map<string, number>()
  /** when each peer's current connection opened, and the redial pause for peers whose connections keep closing at once */
  private readonly connectedAt = new Map<string, number>()
  private readonly flapBackoff = new Map<string, number>()
  /** peers whose connection this node closed to stay within its bounds (evict.ts): not redialed as lost */
  private readonly evicted = new Set<string>()
  /** peers worth dialing again that are not connected, at most MAX_REMEMBERED. Map order: least recently lost first */
  private readonly remembered = new Map<string, Remembered>()

  /** level: debug unless given (a static peer that cannot be reached is a warning, once: a typo in --peer must show) */
  constructor (private readonly host: SwarmHost, staticPeers: string[], private readonly log: (msg: string, extra?: object, level?: 'warn') => void = () => {}, private readonly bounds: ConnectionBounds = DEFAULT_CONNECTIONS, private readonly opts: PeerKeeperOptions = {}) {
    this.statics = staticPeers.map(s => {
      const addr = multiaddr(s)
      const id = addr.getComponents().find(c => c.name === 'p2p')?.value
      return { addr, peerId: id != null ? peerIdFromString(id) : undefined, nextDial: 0, backoff: BACKOFF_MIN_MS, dialing: false }
    })
  }

  start (): void {
    this.host.addEventListener('peer:discovery', this.onDiscovery)
    this.host.addEventListener('peer:connect', this.onConnect)
    this.host.addEventListener('peer:disconnect', this.onDisconnect)
    this.tick()
  }

  /** run tick() after ms, or sooner if already due sooner */
  private schedule (ms: number): void {
    if (this.stopped) return
    const at = monotonicNow() + ms
    if (this.timer != null && this.timerAt <= at) return
    clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(() => { this.timer = undefined; this.tick() }, ms)
    this.timer.unref()
  }

  stop (): void {
    this.stopped = true
    this.host.removeEventListener('peer:discovery', this.onDiscovery)
    this.host.removeEventListener('peer:connect', this.onConnect)
    this.host.removeEventListener('peer:disconnect', this.onDisconnect)
    clearTimeout(this.timer)
  }

  /** this node is closing the peer's connections to stay within its bounds: do not redial it for a while */
  evict (peer: PeerId): void {
    if (this.evicted.size > 1_000) this.evicted.clear()
    this.evicted.add(peer.toString())
  }

  /** a configured static peer (known by id once dialed) */
  isStatic (peer: PeerId): boolean {
    return this.statics.some(p => p.peerId?.equals(peer) === true)
  }

  private connected (peer: PeerId): boolean {
    return this.host.getConnections(peer).some(c => c.status === 'open')
  }

  /** free dial slots below the low mark (dials in flight count as taken) */
  private wanted (): number {
    return this.bounds.low - connectedPeers(this.host).length - this.dialing.size
  }

  /** one of the hosts already has MAX_DIALS_PER_HOST dials in flight */
  private hostBusy (hosts: string[]): boolean {
    return hosts.some(h => (this.hostDials.get(h) ?? 0) >= MAX_DIALS_PER_HOST)
  }

  /** dial a discovered or remembered peer, with a deadline for the whole connection (handshakes included) */
  private dial (peer: PeerId, why: string, hosts: string[]): void {
    const id = peer.toString()
    if (this.stopped || this.dialing.has(id) || this.connected(peer) || this.hostBusy(hosts)) return
    this.dialing.add(id)
    for (const h of hosts) this.hostDials.set(h, (this.hostDials.get(h) ?? 0) + 1)
    const failures = this.candidates.get(id)?.failures ?? 0
    const deadline = Math.min(DISCOVERED_DIAL_TIMEOUT_MS * 2 ** failures, DISCOVERED_DIAL_TIMEOUT_MAX_MS)
    this.host.dial(peer, { signal: AbortSignal.timeout(deadline) }).then(() => {
      this.failedUntil.delete(id)
      const c = this.candidates.get(id)
      if (c != null) { c.answered = true; c.failures = 0 }
    }, err => {
      const now = monotonicNow()
      const c = this.candidates.get(id)
      if (c != null) {
        c.failures++
        c.notBefore = now + Math.min(CANDIDATE_RETRY_MIN_MS * 2 ** (c.failures - 1), CANDIDATE_RETRY_MAX_MS)
      } else this.failedUntil.set(id, now + FAILED_PEER_PAUSE_MS)
      this.log(`${why} peer not reachable`, { peer: id, err: (err as Error).message })
    }).finally(() => {
      this.dialing.delete(id)
      for (const h of hosts) {
        const n = (this.hostDials.get(h) ?? 1) - 1
        if (n > 0) this.hostDials.set(h, n)
        else this.hostDials.delete(h)
      }
      // a slot is free: the next candidate need not wait for the tick
      this.dialCandidates()
    })
  }

  private readonly onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    const { id: peer, multiaddrs } = evt.detail
    // libp2p announces every peer new to its peer store, one that connected to us included (identify
    // writes it there once connected): that is no discovery, and is sorted out when it leaves (sortOut)
    if (this.stopped || peer.equals(this.host.peerId) || this.connected(peer)) return
    const id = peer.toString()
    const now = monotonicNow()
    const hosts = hostsOf(multiaddrs ?? [])
    let c = this.candidates.get(id)
    if (c != null) {
      // announced again (its addresses changed, or the peer store had let it go): most recent, and worth a try now
      this.candidates.delete(id)
      if (hosts.length > 0) c.hosts = hosts
      if (c.failures > 0) c.notBefore = now
    } else {
      // when two nodes discover each other at once only the smaller id dials at once; the other a little
      // later, if still unconnected (a dial crossing one in progress makes a duplicate connection)
      const wait = this.host.peerId.toString() < id ? 0 : TIE_BREAK_DELAY_MS + Math.random() * TIE_BREAK_JITTER_MS
      c = { peer, hosts, notBefore: now + wait, failures: 0, answered: false }
      if (wait > 0) this.schedule(wait)
    }
    this.candidates.set(id, c)
    if (this.candidates.size > MAX_CANDIDATES) this.evictCandidate()
    this.dialCandidates()
  }

  /** drop one candidate: the least recently announced that failed, else that is not being dialed; never one that answered us unless all did */
  private evictCandidate (): void {
    let victim: Candidate | undefined
    for (const c of this.candidates.values()) {
      if (c.answered || this.dialing.has(c.peer.toString())) continue
      if (c.failures > 0) { victim = c; break }
      victim ??= c
    }
    victim ??= this.candidates.values().next().value!
    const id = victim.peer.toString()
    this.candidates.delete(id)
    // libp2p keeps every peer it hears of; one that never answered us is let go there too, so the peer
    // store does not fill up with made-up peers (and libp2p announces the peer again if it is heard again)
    if (!victim.answered && !this.connected(victim.peer) && !this.dialing.has(id)) {
      this.host.peerStore.delete(victim.peer).catch(err => this.log('peer store delete failed', { err: (err as Error).message }))
    } else if (victim.answered && !this.connected(victim.peer)) this.remember(victim.peer, false)
  }

  /** keep a peer gone to dial it again, forgetting the least recently lost past MAX_REMEMBERED */
  private remember (peer: PeerId, topical: boolean): void {
    const id = peer.toString()
    this.remembered.delete(id)
    this.remembered.set(id, { peer, topical })
    while (this.remembered.size > MAX_REMEMBERED) {
      const [oldest, r] = this.remembered.entries().next().value!
      this.remembered.delete(oldest)
      this.lost.delete(oldest)
      this.forget(r.peer, true)
    }
  }

  /** delete a peer we are not connected to and no longer mean to dial from the peer store */
  private forget (peer: PeerId, tagged: boolean): void {
    const id = peer.toString()
    if (this.opts.prunePeerStore !== true || this.connected(peer) || this.dialing.has(id) || this.candidates.has(id) || this.isStatic(peer)) return
    this.host.peerStore.delete(peer).then(() => { if (tagged) this.opts.onForget?.(peer) }, err => this.log('peer store delete failed', { err: (err as Error).message }))
  }

  /**
   * A peer left: remember it if worth dialing again (static, sharing our topics, a candidate), else let
   * it go, from the peer store too. Its tags are read from the store (peer-tags.ts sets them; gossipsub
   * does not announce a departed peer's topics as left, so they are still there).
   */
  private sortOut (peer: PeerId): void {
    const id = peer.toString()
    if (this.isStatic(peer) || this.candidates.has(id)) return
    this.host.peerStore.get(peer).then(p => {
      if (this.stopped || this.connected(peer)) return
      const topical = [...p.tags.keys()].some(k => k.startsWith(TOPIC_TAG_PREFIX))
      if (topical || this.isStatic(peer) || this.candidates.has(id)) { this.remember(peer, topical); return }
      // a stranger: nothing to redial it with once its entry is gone
      this.lost.delete(id)
      this.forget(peer, false)
    }, () => {
      // not in the store (deleted meanwhile, or never identified): no address to redial
      if (!this.connected(peer)) this.lost.delete(id)
    })
  }

  /** below the low mark: dial due candidates, those that answered us before first, then those that never failed, most recently announced first */
  private dialCandidates (): void {
    let free = this.wanted()
    if (this.stopped || free <= 0 || this.candidates.size === 0) return
    const now = monotonicNow()
    const due: Array<{ c: Candidate, order: number }> = []
    for (const c of this.candidates.values()) {
      const id = c.peer.toString()
      // (a lost peer is redialLost's, a static one tick's; one that dropped us at once waits out its flap pause)
      if (c.notBefore > now || this.dialing.has(id) || this.lost.has(id) || (this.failedUntil.get(id) ?? 0) > now || this.isStatic(c.peer)) continue
      if (this.connected(c.peer)) { c.answered = true; continue }
      due.push({ c, order: due.length })
    }
    due.sort((a, b) => Number(b.c.answered) - Number(a.c.answered) || a.c.failures - b.c.failures || b.order - a.order)
    for (const { c } of due) {
      if (free <= 0) break
      if (this.hostBusy(c.hosts)) continue
      this.dial(c.peer, 'discovered', c.hosts)
      free--
    }
  }

  /** below the low mark: dial remembered peers (not candidates), those known to share our topics first, the rest at random */
  private topUp (): void {
    const now = monotonicNow()
    // (ticks land on whole seconds: one that fired a little late must not make the next skip its top-up)
    if (now - this.lastTopUp < TOP_UP_MS - 250 || this.wanted() <= 0) return
    this.lastTopUp = now
    if (this.failedUntil.size > MAX_CANDIDATES) for (const [id, until] of this.failedUntil) if (until < now) this.failedUntil.delete(id)
    this.dialRemembered(now)
  }

  /** dial as many remembered peers as slots are free, reading the peer store for those only (their addresses) */
  private dialRemembered (now: number): void {
    const due: Array<{ r: Remembered, rank: number }> = []
    for (const [id, r] of this.remembered) {
      // (a lost peer is redialLost's)
      if (this.connected(r.peer) || this.dialing.has(id) || this.lost.has(id) || this.candidates.has(id) || (this.failedUntil.get(id) ?? 0) >= now) continue
      due.push({ r, rank: (r.topical ? 1 : 0) + Math.random() })
    }
    due.sort((a, b) => b.rank - a.rank)
    for (const { r } of due.slice(0, Math.max(0, this.wanted()))) {
      this.host.peerStore.get(r.peer).then(p => {
        if (p.addresses.length === 0) { this.remembered.delete(r.peer.toString()); return }
        if (this.wanted() > 0) this.dial(r.peer, 'remembered', hostsOf(p.addresses.map(a => a.multiaddr)))
      }, err => {
        // libp2p let it go (its addresses expire after an hour): nothing to dial it with
        if ((err as Error).name === 'NotFoundError') this.remembered.delete(r.peer.toString())
        else this.log('peer store read failed', { err: (err as Error).message })
      })
    }
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    this.lost.delete(evt.detail.toString())
    this.remembered.delete(evt.detail.toString())
    this.connectedAt.set(evt.detail.toString(), monotonicNow())
    const c = this.candidates.get(evt.detail.toString())
    if (c != null) { c.answered = true; c.failures = 0 }
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail
    const id = peer.toString()
    const now = monotonicNow()
    // a peer that drops us right after every handshake (it denies us) must not be redialed every second forever
    const opened = this.connectedAt.get(id)
    const lived = opened == null ? Infinity : now - opened
    this.connectedAt.delete(id)
    const flap = lived < FLAP_MS ? Math.min((this.flapBackoff.get(id) ?? FLAP_BACKOFF_MIN_MS / 2) * 2, LOST_SLOW_MAX_MS) : 0
    if (flap > 0) {
      if (this.flapBackoff.size > 1_000) this.flapBackoff.clear()
      this.flapBackoff.set(id, flap)
      this.failedUntil.set(id, now + flap)
    } else this.flapBackoff.delete(id)
    if (this.stopped) return
    // (redialing a peer we evicted would only take a slot from the newcomer it was evicted for)
    if (this.evicted.delete(id)) {
      this.failedUntil.set(id, now + FAILED_PEER_PAUSE_MS)
      // kept only if worth dialing again, as any peer gone: evicted strangers must not pile up in the store
      this.sortOut(peer)
      return
    }
    if (this.statics.some(p => p.peerId?.equals(peer) === true)) { this.schedule(0); return }
    // as with discovery, only one side redials at once; the other waits a little
    const first = Math.max(this.host.peerId.toString() < id ? 0 : TIE_BREAK_DELAY_MS, flap)
    this.lost.set(id, { peer, since: now, nextDial: now + first, backoff: BACKOFF_MIN_MS, dialing: false })
    this.schedule(first)
    this.sortOut(peer)
  }

  private redialLost (now: number): void {
    for (const [key, p] of this.lost) {
      if (now - p.since > LOST_FORGET_MS || this.connected(p.peer)) { this.lost.delete(key); continue }
      if (p.dialing || now < p.nextDial) continue
      p.dialing = true
      this.host.dial(p.peer, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).then(() => { this.lost.delete(key) }, err => {
        p.nextDial = monotonicNow() + p.backoff
        this.log('lost peer redial failed', { peer: key, retryInMs: p.backoff, err: (err as Error).message })
        p.backoff = Math.min(p.backoff * 2, monotonicNow() - p.since < LOST_FAST_MS ? LOST_FAST_EVERY_MS : LOST_SLOW_MAX_MS)
      }).finally(() => { p.dialing = false })
    }
  }

  /**
   * Dial what is due. Runs every 250 ms while a static peer is unconnected or a lost peer is being redialed,
   * on every whole second while below the low mark, else on a whole second every 4-5 s (and at once when a
   * peer drops): an idle node that has its peers wakes for this rarely, where a fixed 250 ms timer woke it
   * 4 times a second.
   */
  private tick (): void {
    if (this.stopped) return
    this.dialCandidates()
    this.topUp()
    const now = monotonicNow()
    this.redialLost(now)
    let pending = this.lost.size > 0
    for (const p of this.statics) {
      if (p.peerId != null && (p.peerId.equals(this.host.peerId) || this.connected(p.peerId))) { p.backoff = BACKOFF_MIN_MS; continue }
      pending = true
      if (p.dialing || now < p.nextDial) continue
      if (p.peerId != null && (this.failedUntil.get(p.peerId.toString()) ?? 0) > now) continue
      p.dialing = true
      this.host.dial(p.addr, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).then(conn => {
        p.peerId ??= conn.remotePeer
        p.backoff = BACKOFF_MIN_MS
        p.warned = false
      }, err => {
        p.nextDial = monotonicNow() + p.backoff
        // the first failure since it was last reached is a warning, the retries are debug
        this.log('static peer dial failed', { addr: p.addr.toString(), retryInMs: p.backoff, err: (err as Error).message }, p.warned === true ? undefined : 'warn')
        p.warned = true
        p.backoff = Math.min(p.backoff * 2, BACKOFF_MAX_MS)
      }).finally(() => { p.dialing = false })
    }
    // the periodic ticks land on whole seconds, with the node's other periodic work (tick.ts): an idle
    // node that wants peers woke once more a second for this alone (strace of an idle daemon)
    this.schedule(pending ? 250 : toWholeTick((this.wanted() > 0 ? TOP_UP_MS : IDLE_TICK_MS) - 750))
  }
}
