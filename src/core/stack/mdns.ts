// mDNS peer discovery that keeps its cost per node flat as the LAN grows. Same records as @libp2p/mdns
// (a PTR for the service tag, TXT "dnsaddr=<multiaddr>/p2p/<id>"), so the two interoperate, but:
// - the query interval starts fast (minIntervalMs), doubles whenever a round found no new peer, up to
//   maxIntervalMs, with ±20% jitter, and drops back to fast when a peer is lost while we are short of peers;
// - a node with its low mark of connections (wantPeers) does not query at all: at N = 50 the one query per
//   interval on the LAN drew 50 answers that every node heard, ~2.5 wake-ups a second per node when idle;
// - hearing another host's query pushes our own back (RFC 6762 §7.3: its answers reach us too, since they
//   are multicast), so a LAN of nodes short of peers sends about one query per interval in all, not one per node;
// - answers wait a random 20-120 ms (RFC 6762 §6), so N answers to one query do not land at once, and a
//   node answers at most once per second however many queries it hears.
// - an answer that repeats what a peer already told us is dropped before it is parsed: each query draws an
//   answer from every node, and every node hears them all (a newcomer's query, or a small LAN's), each
//   costing a multiaddr parse and a libp2p peer-store merge that changed nothing.
// - what an answer costs us is bounded in bytes, whatever a device on the LAN sends: only its first
//   MAX_TXT_STRINGS TXT strings are looked at and only MAX_ADDRS "dnsaddr=" ones kept; an answer is
//   remembered as a 32-byte digest, not its text (answers of 57 KB of TXT under fresh names, 80 a second,
//   kept 41.8 M characters after 724 of them); the peers we have heard of are a bounded recent-first set.
// @libp2p/mdns 12 queries on a fixed setInterval and answers every query at once, which is N² packets per
// interval: this is why gossipd has its own.
import multicastDNS from 'multicast-dns'
import type { MulticastDNS, QueryPacket, ResponsePacket } from 'multicast-dns'
import { TypedEventEmitter, peerDiscoverySymbol, serviceCapabilities, type PeerDiscovery, type PeerDiscoveryEvents, type PeerInfo, type PeerId, type ComponentLogger, type Logger, type Libp2pEvents, type TypedEventTarget } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { isPrivate } from '@libp2p/utils'
import { multiaddr, CODE_P2P, type Multiaddr } from '@multiformats/multiaddr'
import { createHash, randomBytes } from 'node:crypto'
import { PeerBuckets, type Rate } from '../rate.js'

export interface ScalingMdnsInit {
  serviceTag?: string
  /** first and fastest query interval (default 1 s) */
  minIntervalMs?: number
  /** slowest query interval once the peer set is stable (default 30 s) */
  maxIntervalMs?: number
  /** below this many connected peers a lost peer makes queries fast again (the connection low mark) */
  wantPeers?: number
  /** counts the node reports (status); the service's own object if not given */
  stats?: MdnsStats
}

export interface MdnsStats {
  /** answers not passed on: a new peer id from a sender past its budget (NEW_PEERS_PER_SENDER) */
  refusedNewPeers: number
}

interface Components {
  peerId: PeerId
  addressManager: { getAddresses: () => Multiaddr[] }
  connectionManager: { getConnections: () => Array<{ remotePeer: PeerId }> }
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

const ANSWER_DELAY_MIN_MS = 20
const ANSWER_DELAY_MAX_MS = 120
const MIN_ANSWER_GAP_MS = 1_000
/** an unchanged answer is passed on again after this, in case libp2p's peer store let the peer go */
const REPEAT_AFTER_MS = 5 * 60_000
/** answers remembered for that (as a 32-byte digest and a name of at most 255 characters); a LAN (or a flood of made-up names) past this starts the memory afresh */
const MAX_REMEMBERED_ANSWERS = 4_096
/** TXT strings of one answer looked at; a node sends one per address it listens on */
const MAX_TXT_STRINGS = 64
/** "dnsaddr=" strings of one answer kept (the addresses passed on with its peer) */
const MAX_ADDRS = 16
/** the longest instance name remembered; a longer one (DNS allows 255 bytes) is dropped */
const MAX_NAME_CHARS = 255
/** peers we heard of, most recent last: one new to this set makes queries fast again; the oldest is forgotten past this */
const MAX_KNOWN_PEERS = 1_024
/**
 * peer ids one LAN address (an answer's sender) may introduce: a host runs one daemon, a test machine a few.
 * A device answering with made-up peers costs each node a dial slot per fake (peers.ts); from one address it
 * now gets 16, then one per 15 s. (A device that forges its source address is not stopped by this.)
 */
const NEW_PEERS_PER_SENDER: Rate = { perSecond: 1 / 15, burst: 16 }
/** senders whose budgets are kept (past this all start afresh) */
const MAX_SENDERS = 1_024

export class ScalingMdns extends TypedEventEmitter<PeerDiscoveryEvents> implements PeerDiscovery {
  readonly [peerDiscoverySymbol] = this
  readonly [Symbol.toStringTag] = 'gossipd:mdns'
  readonly [serviceCapabilities] = ['@libp2p/peer-discovery']

  private mdns?: MulticastDNS
  private readonly log: Logger
  private readonly serviceTag: string
  private readonly peerName = randomBytes(16).toString('hex')
  /** DNS id of our queries, so we can tell our own (looped back) query from another host's */
  private readonly queryId = randomBytes(2).readUInt16BE() | 1
  private readonly min: number
  private readonly max: number
  private readonly wantPeers: number
  private interval: number
  private timer?: NodeJS.Timeout
  private answerTimer?: NodeJS.Timeout
  private lastAnswer = 0
  private foundThisRound = false
  /** peers heard of, least recently heard first (bounded: MAX_KNOWN_PEERS) */
  private readonly known = new Set<string>()
  /** per announcing instance name: a digest of its records as last passed on, and when */
  private readonly heard = new Map<string, { digest: string, at: number }>()
  /** packets this node sent, for tests and the bench */
  readonly sent = { queries: 0, answers: 0 }
  readonly stats: MdnsStats
  private readonly newPeerBudget = new PeerBuckets(NEW_PEERS_PER_SENDER, MAX_SENDERS)

  constructor (private readonly components: Components, init: ScalingMdnsInit = {}) {
    super()
    this.log = components.logger.forComponent('gossipd:mdns')
    this.serviceTag = init.serviceTag ?? 'gossipd.local'
    this.min = init.minIntervalMs ?? 1_000
    this.max = Math.max(this.min, init.maxIntervalMs ?? 30_000)
    this.wantPeers = init.wantPeers ?? 8
    this.interval = this.min
    this.stats = init.stats ?? { refusedNewPeers: 0 }
  }

  isStarted (): boolean { return this.mdns != null }

  async start (): Promise<void> {
    if (this.mdns != null) return
    this.mdns = multicastDNS()
    this.mdns.on('query', this.onQuery)
    this.mdns.on('response', this.onResponse)
    this.mdns.on('warning', (err: Error) => this.log.error('mdns warning - %e', err))
    this.mdns.on('error', (err: Error) => this.log.error('mdns error - %e', err))
    this.components.events.addEventListener('peer:disconnect', this.onPeerLost)
    this.query()
    this.schedule()
  }

  async stop (): Promise<void> {
    this.components.events.removeEventListener('peer:disconnect', this.onPeerLost)
    clearTimeout(this.timer)
    clearTimeout(this.answerTimer)
    this.timer = undefined
    this.answerTimer = undefined
    const m = this.mdns
    this.mdns = undefined
    if (m != null) await new Promise<void>(resolve => m.destroy(() => resolve()))
  }

  /** the current query interval (grows while the peer set is stable) */
  get currentIntervalMs (): number { return this.interval }

  private schedule (): void {
    clearTimeout(this.timer)
    if (this.mdns == null) return
    const jittered = this.interval * (0.8 + Math.random() * 0.4)
    this.timer = setTimeout(this.onTimer, jittered)
    this.timer.unref()
  }

  private readonly onTimer = (): void => {
    // a node at its low mark dials no one it hears of (peers.ts), so its query would only make every node
    // on the LAN answer, and every node hear every answer; one short of peers asks, and so does a newcomer
    if (this.shortOfPeers()) this.query()
    this.endRound()
  }

  /** a query went out (ours or another host's): if it found nobody new the set is stable, so ask less often */
  private endRound (): void {
    if (!this.foundThisRound) this.interval = Math.min(this.interval * 2, this.max)
    this.foundThisRound = false
    this.schedule()
  }

  private query (): void {
    if (this.mdns == null) return
    this.sent.queries++
    this.mdns.query({ id: this.queryId, questions: [{ name: this.serviceTag, type: 'PTR' }] })
  }

  /** fewer connections than the low mark: the node dials what it discovers, so asking is worth the answers */
  private shortOfPeers (): boolean {
    return this.components.connectionManager.getConnections().length < this.wantPeers
  }

  private readonly onPeerLost = (): void => {
    if (!this.shortOfPeers()) return
    if (this.interval === this.min) return
    this.interval = this.min
    this.schedule()
  }

  private readonly onQuery = (q: QueryPacket): void => {
    if (this.mdns == null || q.questions?.[0]?.name !== this.serviceTag) return
    // another host asked what we would ask: its answers come to us as well, so our own query can wait
    if (q.id !== this.queryId) this.endRound()
    if (this.answerTimer != null || Date.now() - this.lastAnswer < MIN_ANSWER_GAP_MS) return
    const delay = ANSWER_DELAY_MIN_MS + Math.random() * (ANSWER_DELAY_MAX_MS - ANSWER_DELAY_MIN_MS)
    this.answerTimer = setTimeout(() => {
      this.answerTimer = undefined
      this.answer()
    }, delay)
    this.answerTimer.unref()
  }

  private answer (): void {
    if (this.mdns == null) return
    const name = `${this.peerName}.${this.serviceTag}`
    const answers: ResponsePacket['answers'] = [{ name: this.serviceTag, type: 'PTR', class: 'IN', ttl: 120, data: name }]
    for (const addr of this.components.addressManager.getAddresses()) {
      // link-local/private addresses only, with our peer id, and short enough for a TXT string
      const data = `dnsaddr=${addr.toString()}`
      if (!isPrivate(addr) || data.length > 255 || addr.getComponents().findLast(c => c.code === CODE_P2P) == null) continue
      answers.push({ name, type: 'TXT', class: 'IN', ttl: 120, data })
    }
    if (answers.length === 1) return
    this.lastAnswer = Date.now()
    this.sent.answers++
    this.mdns.respond(answers)
  }

  private readonly onResponse = (r: ResponsePacket, from?: { address?: string }): void => {
    const rec = this.records(r)
    if (rec == null || rec.name.startsWith(this.peerName) || this.isRepeat(rec)) return
    const peer = this.parse(rec.txt)
    if (peer == null || peer.id.equals(this.components.peerId)) return
    const id = peer.id.toString()
    if (!this.known.has(id) && !this.mayIntroduce(from?.address)) {
      // forgotten, so the same answer is looked at again once the sender has budget
      this.heard.delete(rec.name)
      this.stats.refusedNewPeers++
      this.log('sender %s is past its budget of new peers; answer for %s not passed on', from?.address, id)
      return
    }
    if (!this.known.delete(id)) {
      this.foundThisRound = true
      // someone new: keep asking fast until the set settles
      this.interval = this.min
      if (this.known.size >= MAX_KNOWN_PEERS) this.known.delete(this.known.values().next().value!)
    }
    this.known.add(id)
    this.dispatchEvent(new CustomEvent<PeerInfo>('peer', { detail: peer }))
  }

  /** whether the sender of an answer may introduce one more peer id (its own machine always may) */
  private mayIntroduce (address: string | undefined): boolean {
    if (address == null || address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')) return true
    return this.newPeerBudget.take(address)
  }

  /**
   * the announcing instance (our service's PTR) and its "dnsaddr=" TXT strings (at most MAX_ADDRS, from the
   * first MAX_TXT_STRINGS strings), or undefined for another service's answer or an overlong name
   */
  private records (r: ResponsePacket): { name: string, txt: string[] } | undefined {
    const all = [...(r.answers ?? []), ...(r.additionals ?? [])]
    const ptr = all.find(a => a.type === 'PTR' && a.name === this.serviceTag)
    if (ptr == null) return undefined
    const name = String((ptr as { data: unknown }).data)
    if (name.length > MAX_NAME_CHARS) return undefined
    const txt: string[] = []
    let looked = 0
    for (const a of all) {
      if (a.type !== 'TXT') continue
      const data = (a as { data: string | Buffer | Array<string | Buffer> }).data
      for (const d of Array.isArray(data) ? data : [data]) {
        if (++looked > MAX_TXT_STRINGS || txt.length >= MAX_ADDRS) return { name, txt }
        // a TXT string is at most 255 bytes on the wire; one longer did not come from a DNS packet
        if (d.length > 255) continue
        const s = d.toString()
        if (s.startsWith('dnsaddr=')) txt.push(s)
      }
    }
    return { name, txt }
  }

  /** the same records from the same instance, passed on less than REPEAT_AFTER_MS ago: nothing to learn */
  private isRepeat ({ name, txt }: { name: string, txt: string[] }): boolean {
    // a digest, not the text: what one remembered answer costs is fixed, whatever the answer carried
    const digest = createHash('sha256').update([...txt].sort().join('\n')).digest('base64')
    const now = Date.now()
    const last = this.heard.get(name)
    if (last != null && last.digest === digest && now - last.at < REPEAT_AFTER_MS) return true
    if (last == null && this.heard.size >= MAX_REMEMBERED_ANSWERS) this.heard.clear()
    this.heard.set(name, { digest, at: now })
    return false
  }

  /** the peer an answer's "dnsaddr=" strings announce (the id of the first one), with its addresses */
  private parse (txt: string[]): PeerInfo | undefined {
    const addrs: Multiaddr[] = []
    for (const s of txt) {
      if (!s.startsWith('dnsaddr=')) continue
      try { addrs.push(multiaddr(s.slice('dnsaddr='.length))) } catch { /* not ours to fix */ }
    }
    const id = addrs[0]?.getComponents().findLast(c => c.code === CODE_P2P)?.value
    if (id == null) return undefined
    try {
      return { id: peerIdFromString(id), multiaddrs: addrs.map(a => a.decapsulateCode(CODE_P2P)) }
    } catch {
      return undefined
    }
  }
}

export function scalingMdns (init: ScalingMdnsInit = {}): (components: Components) => ScalingMdns {
  return components => new ScalingMdns(components, init)
}
