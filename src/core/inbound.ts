// The inbound pipeline for envelopes from other peers, by gossip or by sync: drop what is held already
// (by topic, origin and seq) or being verified right now, shed gossip when overloaded, verify the
// signature once, store. Gossip is forwarded to the mesh while it is being written.
// A gossip bundle (bundle.ts) is authenticated as a whole, as a sync batch is (one signature per linked
// run), then each envelope goes through the same pipeline. What verified is stored; a bundle with anything
// invalid in it is Rejected (not forwarded, the relaying peer penalised), so it never travels further.
import type { PeerId } from '@libp2p/interface'
import { TopicValidatorResult, type GossipSub } from '@libp2p/gossipsub'
import { verifyEnvelope, verifyEnvelopeNow, envelopeId, ownBytes, isOwnLayout, sha256, bodyHash, decodeEnvelope, readHeldEnvelope, type Envelope } from './envelope.js'
import { InlineBudget } from './inline-budget.js'
import { decodeGossipData } from './stack/gossip.js'
import { verifyBatch, MAX_VERSIONS_PER_ID } from './sync/verify-batch.js'
import { CommittedNotDurableError, type Store, type StoreError } from '../store/store.js'
import type { PublisherPolicy } from './publishers.js'
import { PeerBuckets, type Rate } from './rate.js'
import type { OriginLimit } from './origin-limit.js'
import type { Emit, LogFn, MessageSource, NodeStats, Sources } from './events.js'
import { sameBytes } from './bytes.js'
import type { Forks } from './forks.js'
import { RecentBodies } from './recent-bodies.js'

/** gossip messages being verified or written at once; past this, inbound gossip is left to sync */
const MAX_GOSSIP_INFLIGHT = 4_000
/** queued store writes past which inbound gossip is left to sync */
const SHED_PENDING_WRITES = 5_000

/** envelopes remembered as stored from gossip but not forwarded (their message was in another layout) */
const MAX_UNFORWARDED = 10_000
/** streams whose newest accepted body hash is remembered, so the usual in-order message is chain-checked without a read */
const MAX_TIPS = 10_000
/** (held id, sending peer) pairs whose signature checks on other bodies are counted (a forger is bounded per id it targets) */
const MAX_HELD_CHECKED = 10_000

/** refused: not the sender's fault, but not stored: larger than this node accepts, or of a stream blocked by its origin's fork */
/** 'origin refused': a new origin on a topic at its origin limit (origin-limit.ts) */
export type Acceptance = 'stored' | 'duplicate' | 'rejected' | 'shed' | 'refused' | 'origin refused'
export type DropInbound = (e: Envelope, from: PeerId, source: MessageSource) => boolean
export type TopicValidator = GossipSub['topicValidators'] extends Map<string, infer V> ? V : never

export interface InboundParts {
  store: Store
  sources: Sources
  stats: NodeStats
  maxPayloadBytes: number
  isRunning: () => boolean
  isJoined: (topic: string) => boolean
  /** overloaded: pull what was shed by sync a little later */
  syncSoon: (delayMs: number) => void
  dropInbound?: DropInbound
  /** origins allowed per topic (publishers.ts) */
  publishers?: PublisherPolicy
  /** per relaying peer: gossip envelopes per second and burst (token bucket); past it they are left to sync */
  peerRate?: Rate
  /** per relaying peer: gossip signature checks in flight at once; past it they are left to sync */
  maxVerifyingPerPeer?: number
  /** whether a bundle on this topic may be forwarded: every other peer on it understands bundles (bundle-support.ts) */
  canForwardBundle?: (topic: string, from: string) => boolean
  /** how many signature checks may run inline on the main thread (inline-budget.ts; default 40 per 100 ms) */
  inlineChecks?: InlineBudget
  /**
   * how many copies of held messages are read back and compared (fork check) per window (default 100 per
   * 100 ms: a read is ~40 µs, so at most ~4% of the main thread); past it a copy is a plain duplicate
   */
  heldCopyChecks?: InlineBudget
  /** a peer delivered a message this node had not seen, now stored (evict.ts keeps such relays) */
  delivered?: (peer: PeerId) => void
  /** a relaying peer sent something invalid (penalties.ts): `points`, default 1 */
  penalise?: (peer: PeerId, reason: string, points?: number) => void
  /** forked streams (forks.ts): found here, and refused from the fork up */
  forks?: Forks
  /**
   * gossip these envelopes (a fork's two versions, or a message and the held neighbour it contradicts): the
   * proof, for peers that got one version only (each one that learns from it passes it on in turn)
   */
  passOnFork?: (topic: string, raws: Uint8Array[]) => void
  /** origins kept per topic (origin-limit.ts): past it, new origins are refused */
  originLimit?: OriginLimit
  emit: Emit
  log: LogFn
}

/** a copy of an envelope being verified: other copies of the same (topic, origin, seq) wait for its outcome */
interface Verifying { raw: Uint8Array, outcome: Promise<boolean> }

/** what one relaying peer is costing us: its signature checks in flight */
interface PeerLoad { verifying: number }

export class Inbound {
  private readonly verifying = new Map<string, Verifying>()
  private readonly load = new Map<string, PeerLoad>()
  private readonly buckets?: PeerBuckets
  private gossipInflight = 0
  /**
   * Envelopes stored from a gossip message in another layout, so Ignored (not forwarded): id -> SHA-256 of
   * our bytes. Without this a relay that pads a genuine message (or bundles it with a padded one) and gets it
   * here first stopped its gossip at this node for free: every later, genuine copy was a duplicate, Ignored.
   * The first copy in our layout, byte for byte the one we verified and stored, is forwarded instead.
   */
  private readonly unforwarded = new Map<string, Buffer>()
  /** signature checks done on the main thread instead of the pool (inline-budget.ts) */
  private readonly inline: InlineBudget
  /** per stream (topic, origin): the newest seq accepted here and its body hash, the next one's expected prev */
  private readonly tips = new Map<string, { seq: number, hash: Buffer }>()
  /**
   * per held id and sending peer: signature checks spent on other bodies for it (at most MAX_VERSIONS_PER_ID
   * each, as in a sync batch). Per peer, so a forger spending its checks on an id cannot hide an honest
   * peer's real proof for it; each forgery costs the forger a point besides
   */
  private readonly heldChecks = new Map<string, number>()
  /** body hashes stored lately: a copy of a held id with the same body needs no read (recent-bodies.ts) */
  private readonly recent = new RecentBodies()
  /** reads of held messages to compare a copy with (a peer sends copies at will, unpenalised) */
  private readonly heldCopies: InlineBudget

  constructor (private readonly p: InboundParts) {
    this.inline = p.inlineChecks ?? new InlineBudget()
    this.heldCopies = p.heldCopyChecks ?? new InlineBudget(100, 100)
    if (p.peerRate != null) this.buckets = new PeerBuckets(p.peerRate)
  }

  /** gossipsub's topic validator: Accept forwards the message to the mesh, Ignore drops it, Reject also penalizes the sender */
  readonly validate: TopicValidator = async (from, msg) => {
    const data = decodeGossipData(msg.data)
    if (data == null || data.envelopes.some(e => e.topic !== msg.topic)) {
      const count = data == null ? 1 : data.envelopes.length
      this.p.stats.rejected += count
      this.p.emit('rejected', { peer: from.toString(), reason: data == null ? 'malformed envelope' : 'envelope topic is not the gossip topic', count })
      this.p.penalise?.(from, 'malformed envelope')
      return TopicValidatorResult.Reject
    }
    const { envelopes, raws } = data
    // gossipsub forwards the bytes as received: a relay's padding would cross the whole mesh. Kept in our
    // layout but not forwarded (no gossipd writes another): the mesh gets it by sync, in gossipd's bytes
    const forward = raws.every(isOwnLayout) ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore
    if (!this.takeTokens(from.toString(), envelopes.length)) {
      // over its rate: not forwarded, not penalised (an honest relay may be passing on someone's burst);
      // sync fetches whatever we lack at the pace we choose
      this.p.stats.shed += envelopes.length
      this.p.stats.throttled = (this.p.stats.throttled ?? 0) + envelopes.length
      this.p.syncSoon(1_000)
      return TopicValidatorResult.Ignore
    }
    // a message that showed this node a fork goes on to the mesh: it is the proof for peers holding one version.
    // Its own finding (not a count other messages validated meanwhile move too), and nothing else in it: the
    // ids of the proofs it showed, each a verified envelope, and every envelope of it one of them
    const taught = new Set<string>()
    const taughtFork = (): boolean => taught.size > 0 && envelopes.every(e => taught.has(envelopeId(e)))
    if (!data.bundle) {
      const result = await this.acceptEnvelope(envelopes[0], raws[0], from, 'gossip', false, undefined, taught)
      if (result === 'rejected') return TopicValidatorResult.Reject
      const fresh = this.notYetForwarded(envelopes, raws, [result], forward)
      return fresh || taughtFork() ? forward : TopicValidatorResult.Ignore
    }
    // one signature per linked run (one, for a publisher's bundle), checked once for all the envelopes
    const needed = envelopes.map(e => this.p.isJoined(e.topic) && !this.p.store.has(e.topic, e.origin, e.seq) && this.mayStore(e.topic, e.origin))
    const authentic = verifyBatch(envelopes, needed, async e => await this.checkSignature(e))
    const batchVerify = (i: number) => async (): Promise<boolean> => (await authentic)[i]
    let results: Acceptance[]
    if (isProofShaped(envelopes)) {
      // a fork proof (node.ts passOnFork): one at a time, each stored before the next is looked at, so a node
      // that held neither stores one and sees the other as the fork it is. Authenticated as a batch all the
      // same; one the batch did not vouch for (a second version of an id, which it does not check while the
      // first passed) is checked on its own: the first may not have been stored (shed, refused)
      results = []
      for (let i = 0; i < envelopes.length; i++) {
        const vouched = batchVerify(i)
        results.push(await this.acceptEnvelope(envelopes[i], raws[i], from, 'gossip', true,
          async () => await vouched() || await this.checkSignature(envelopes[i]), taught))
      }
    } else {
      results = await Promise.all(envelopes.map(async (env, i) =>
        await this.acceptEnvelope(env, raws[i], from, 'gossip', false, batchVerify(i), taught)))
    }
    if (results.includes('rejected')) return TopicValidatorResult.Reject
    // a peer of an earlier version would reject a bundle and penalise us: it gets these by sync instead
    const canForward = this.p.canForwardBundle?.(msg.topic, from.toString()) === true
    // a bundle carrying envelopes refused for the origin limit is not forwarded as it came (gossipsub passes
    // the bytes on whole): the refused ones go no further; what was stored of it is remembered as not yet
    // forwarded (a copy as its origin sent it is forwarded when it comes) and reaches the mesh by sync anyway
    // so is one carrying envelopes refused or shed before their signature was checked (a stream known forked
    // here, a payload over this node's limit, overload): forged, they would get this node penalised by every
    // peer that checks them. A fork's proof alone (every envelope one this node found the fork with) goes on
    const unchecked = results.some(r => r === 'refused' || r === 'shed') && !taughtFork()
    let answer = !canForward ? undefined : results.includes('origin refused') || unchecked ? TopicValidatorResult.Ignore : forward
    // (only when it may go on: something stored, a fork shown, or a copy in our layout awaited: notYetForwarded)
    const mayGoOn = results.includes('stored') || taughtFork() || this.unforwarded.size > 0
    if (answer === TopicValidatorResult.Accept && results.includes('duplicate') && mayGoOn) {
      // held envelopes were taken as duplicates unchecked, whatever signature they came under: before they go
      // on with the fresh ones, a peer that lacks them must find them authentic too (one check per linked run
      // not already vouched for; another version of an id, which the batch leaves unchecked, on its own, up to
      // the first that fails), or it Rejects the bundle and penalises this node
      const first = await authentic
      const unvouched = results.map((r, i) => r === 'duplicate' && !first[i])
      const vouched = unvouched.includes(true) ? await verifyBatch(envelopes, unvouched, async e => await this.checkSignature(e)) : first
      for (let i = 0; i < envelopes.length && answer === TopicValidatorResult.Accept; i++) {
        if (results[i] === 'duplicate' && !vouched[i] && !await this.checkSignature(envelopes[i])) answer = TopicValidatorResult.Ignore
      }
    }
    if (!this.notYetForwarded(envelopes, raws, results, answer) && !taughtFork()) return TopicValidatorResult.Ignore
    return answer ?? TopicValidatorResult.Ignore
  }

  /**
   * Whether the gossip message carries something this node has not forwarded yet: an envelope it just
   * stored, or one stored from a copy in another layout (`unforwarded`) that this copy, in our layout,
   * matches byte for byte. `answer` is what the message will get (undefined: Ignore, for other reasons):
   * stored envelopes of an Ignored message are remembered, those of an Accepted one forgotten.
   */
  private notYetForwarded (envelopes: Envelope[], raws: Uint8Array[], results: Acceptance[], answer: TopicValidatorResult | undefined): boolean {
    // the usual case, on every gossip message: nothing remembered and nothing to remember
    if (answer !== TopicValidatorResult.Ignore && this.unforwarded.size === 0) return results.includes('stored')
    const ids = envelopes.map(envelopeId)
    const fresh = results.map((r, i) => r === 'stored' ||
      (r === 'duplicate' && answer === TopicValidatorResult.Accept && this.unforwarded.get(ids[i])?.equals(sha256(raws[i])) === true))
    if (answer === TopicValidatorResult.Accept) {
      ids.forEach((id, i) => { if (fresh[i]) this.unforwarded.delete(id) })
    } else if (answer === TopicValidatorResult.Ignore) {
      results.forEach((r, i) => {
        if (r !== 'stored') return
        if (this.unforwarded.size >= MAX_UNFORWARDED) this.unforwarded.delete(this.unforwarded.keys().next().value as string)
        this.unforwarded.set(ids[i], sha256(ownBytes(envelopes[i], raws[i])))
      })
    }
    return fresh.includes(true)
  }

  /**
   * Dedup by id first (free), then verify the signature once, then store. Gossip does not wait for the
   * commit (waitForDisk false): a valid message is forwarded to the mesh while it is being written.
   * `verify` is replaced for sync batches, which are authenticated together along the hash chain.
   */
  async acceptEnvelope (env: Envelope, raw: Uint8Array, from: PeerId, source: MessageSource, waitForDisk = true,
    batchVerify?: () => Promise<boolean>, taught?: Set<string>): Promise<Acceptance> {
    const { store, sources } = this.p
    if (!this.p.isRunning()) return 'duplicate'
    if (!this.p.isJoined(env.topic)) return 'duplicate'
    if (store.has(env.topic, env.origin, env.seq)) return await this.heldCopy(env, raw, from, source, waitForDisk, batchVerify, taught)
    const verify = batchVerify ?? (async (): Promise<boolean> => await this.checkSignature(env))
    // stored and served onward in our own layout: a relay's wrapping (padding) stops here
    raw = ownBytes(env, raw)
    const id = envelopeId(env)
    if (this.p.publishers != null && !this.p.publishers.allows(env.topic, env.origin)) {
      // cheap, so before any signature check: the relaying peer is penalised and the envelope dropped
      this.p.stats.rejected++
      this.p.stats.unauthorized = (this.p.stats.unauthorized ?? 0) + 1
      if (source !== 'sync') this.p.penalise?.(from, 'publisher not allowed')
      this.p.emit('rejected', { peer: from.toString(), reason: 'publisher not allowed on topic', id })
      return 'rejected'
    }
    // cheap, so before any signature check; checked again right before storing (admit)
    if (this.p.originLimit?.mayAdmit(env.topic, env.origin) === false) return this.originRefused(env, from, id)
    // a copy of this id is being verified right now (gossip and sync raced): an identical copy needs no
    // second check; a different one waits, and is checked only if the first failed, or, if the first was
    // authentic, compared with it as a held copy (the origin's other version is a fork, not a duplicate)
    for (let other = this.verifying.get(id); other != null; other = this.verifying.get(id)) {
      if (sameBytes(other.raw, raw)) return 'duplicate'
      if (await other.outcome) {
        return store.has(env.topic, env.origin, env.seq) && this.p.isRunning() ? await this.heldCopy(env, raw, from, source, waitForDisk, batchVerify, taught) : 'duplicate'
      }
      if (store.has(env.topic, env.origin, env.seq) || !this.p.isRunning()) return 'duplicate'
    }
    if (this.p.dropInbound?.(env, from, source) === true) return 'duplicate'
    if (this.p.forks?.blocks(env.topic, env.origin, env.seq) === true) return this.forkRefused()
    if (source === 'gossip' && (this.gossipInflight >= MAX_GOSSIP_INFLIGHT || store.pendingWrites >= SHED_PENDING_WRITES)) {
      // overloaded: gossip is only the fast path. Drop it here and pull the message by sync, which
      // moves at the pace our disk allows instead of growing memory
      this.p.stats.shed++
      this.p.syncSoon(250)
      return 'shed'
    }
    if (env.payload.byteLength > this.p.maxPayloadBytes) {
      // over this node's limit: counted and refused before any signature work, but no penalty and no
      // Reject to gossipsub: nodes of one swarm may run with different limits, and an honest relay or sync
      // server holding such a message is not misbehaving
      this.p.stats.rejected++
      this.p.emit('rejected', { peer: from.toString(), reason: `payload larger than this node accepts (maxPayloadBytes ${this.p.maxPayloadBytes})`, id })
      return 'refused'
    }
    const load = source === 'gossip' ? this.peerLoad(from.toString()) : undefined
    if (load != null && load.verifying >= (this.p.maxVerifyingPerPeer ?? 2_000)) {
      this.p.stats.shed++
      this.p.syncSoon(1_000)
      return 'shed'
    }
    if (load != null) load.verifying++
    if (source === 'gossip') this.gossipInflight++
    let settle: (ok: boolean) => void = () => {}
    this.verifying.set(id, { raw, outcome: new Promise<boolean>(resolve => { settle = resolve }) })
    const done = (): void => {
      this.verifying.delete(id)
      sources.delete(id)
      if (source === 'gossip') this.gossipInflight--
    }
    let valid = false
    try {
      valid = await verify()
    } finally {
      if (load != null) load.verifying--
      settle(valid)
      if (!valid) done()
    }
    if (!valid) {
      this.p.stats.rejected++
      // a sync batch's rejections are charged per batch (accept-batch.ts)
      if (source !== 'sync') this.p.penalise?.(from, 'invalid envelope')
      this.p.emit('rejected', { peer: from.toString(), reason: 'bad signature', id })
      // at debug: the 'rejected' event is what the daemon logs, rate-limited (a peer chooses how many it sends)
      this.p.log('debug', 'rejected envelope', { peer: from.toString(), id })
      return 'rejected'
    }
    if (store.has(env.topic, env.origin, env.seq) || !this.p.isRunning()) { done(); return 'duplicate' }
    if (this.contradictsChain(env, raw, from, taught)) { done(); return this.forkRefused() }
    const limit = this.p.originLimit
    if (limit != null && !limit.admit(env.topic, env.origin)) { done(); return this.originRefused(env, from, id) }
    this.setTip(env)
    sources.set(id, source)
    const stored = store.insert({ topic: env.topic, origin: env.origin, seq: env.seq, ts: env.ts, payload: env.payload, raw })
      .then(row => {
        if (row == null) return 'duplicate' as const
        this.p.delivered?.(from)
        return 'stored' as const
      }, err => {
        // a failed store refuses every message (counted in status; said once, when it failed): not held, so
        // it is pulled again after a restart
        const refused = (err as StoreError)?.code === 'FSYNC_FAILED' && !(err instanceof CommittedNotDurableError)
        this.p.log(refused ? 'debug' : 'error', 'could not store received message', { id, err: (err as Error).message })
        return 'duplicate' as const
      })
      .finally(() => { limit?.settled(env.topic, env.origin); done() })
    return waitForDisk ? await stored : 'stored'
  }

  /**
   * A copy of a held (committed) id. One stored lately with the same body costs nothing (recent-bodies.ts); other identical bytes one read (within a budget); a different body with a valid signature
   * (or vouched for by its sync batch's chain) is a fork proof. The stored version was authenticated when it
   * was stored. A different body that is not authentic is the relay's forgery, penalised as one.
   */
  /** `taught`: the ids of the proof are added to it when this copy shows a fork new to this node (validate) */
  private async heldCopy (env: Envelope, raw: Uint8Array, from: PeerId, source: MessageSource, waitForDisk: boolean, batchVerify?: () => Promise<boolean>, taught?: Set<string>): Promise<Acceptance> {
    const forks = this.p.forks
    // once a stream is known forked there is nothing more to learn from it
    if (forks == null || forks.blockedFrom(env.topic, env.origin) != null) return 'duplicate'
    // the usual copy (a sync batch racing gossip): stored lately with this body (recent-bodies.ts)
    if (this.recent.sameAsStored(env.topic, env.origin, env.seq, bodyHash(env.body))) return 'duplicate'
    // a read costs ~200 times the id check: a peer flooding copies of held ids (padded, so new to gossipsub,
    // or repeated within one sync batch) gets a bounded share of the main thread; past it, a plain duplicate
    if (!this.heldCopies.take()) return 'duplicate'
    const read = (): { raw: Uint8Array } | undefined => this.p.store.readRawRange(env.topic, env.origin, env.seq, env.seq, 1)[0]
    let row = read()
    // held but still queued for writing (a version that came just before): compared once it is committed
    if (row == null && this.p.store.has(env.topic, env.origin, env.seq)) {
      await this.p.store.whenFlushed()
      row = read()
    }
    if (row == null || sameBytes(row.raw, ownBytes(env, raw))) return 'duplicate'
    let held: Envelope
    try { held = decodeEnvelope(row.raw) } catch { return 'duplicate' }
    // the same body under another layout or a relay's signature: not the origin's doing (ours stays)
    if (sameBytes(held.body, env.body)) return 'duplicate'
    // an honest fork needs one check; a forger sending many bodies for one held id gets no more than a batch allows
    const id = envelopeId(env)
    const checkKey = `${id}\u0000${from.toString()}`
    const checks = this.heldChecks.get(checkKey) ?? 0
    if (checks >= MAX_VERSIONS_PER_ID) return 'duplicate'
    if (checks === 0 && this.heldChecks.size >= MAX_HELD_CHECKED) this.heldChecks.clear()
    this.heldChecks.set(checkKey, checks + 1)
    const authentic = (batchVerify != null && await batchVerify()) || await this.checkSignature(env)
    if (!authentic) {
      this.p.stats.rejected++
      // never an honest server's doing (a row it holds verified, or has the body it was vouched for):
      // a point each, by sync too, or a forger could use up the checks of held ids cheaply (heldChecks)
      this.p.penalise?.(from, 'invalid envelope')
      this.p.emit('rejected', { peer: from.toString(), reason: 'bad signature', id })
      return 'rejected'
    }
    // two versions prove a fork only if ours is authentic too: by its signature, or by the held seq + 1's
    // link (a chain-vouched copy whose signature a relay swapped). One that is neither was damaged on disk
    // (bit rot inside a payload still decodes): quarantined, and the verified copy goes the usual way
    if (!await this.checkSignature(held) && !this.vouchedFromAbove(env.topic, env.origin, env.seq, held)) {
      if (this.p.store.quarantineHeld(env.topic, env.origin, env.seq, 'its signature does not verify, and a verified copy with another body came')) {
        return await this.acceptEnvelope(env, raw, from, source, waitForDisk, batchVerify, taught)
      }
      return 'duplicate'
    }
    if (forks.found({ topic: env.topic, origin: env.origin, seq: env.seq, held: bodyHash(held.body).toString('hex'), other: bodyHash(env.body).toString('hex'), peer: from.toString(), how: 'same seq' })) {
      taught?.add(id)
      this.p.passOnFork?.(env.topic, [row.raw, ownBytes(env, raw)])
    }
    return 'duplicate'
  }

  /**
   * Whether an authentic envelope's chain link contradicts what is held next to it: its prev is not the hash
   * of the held seq - 1, or the held seq + 1's prev is not its hash. Either way the origin signed two bodies
   * for one seq: reported (forks.ts), and the envelope not stored.
   */
  private contradictsChain (env: Envelope, raw: Uint8Array, from: PeerId, taught?: Set<string>): boolean {
    const forks = this.p.forks
    if (forks == null) return false
    const { topic, origin, seq } = env
    // `neighbour`: the held seq the envelope contradicts; the two together are the proof passed on
    const report = (at: number, held: Uint8Array, other: Uint8Array, neighbour: number): true => {
      if (forks.found({ topic, origin, seq: at, held: Buffer.from(held).toString('hex'), other: Buffer.from(other).toString('hex'), peer: from.toString(), how: 'prev' })) {
        taught?.add(envelopeId(env)).add(envelopeId({ topic, origin, seq: neighbour }))
        // the neighbour may still be queued for writing (gossip does not wait for the commit; the tip is set
        // before): its bytes are read once it is committed, or the proof, reported only now, went nowhere
        const pass = (): boolean => {
          const row = this.p.store.readRawRange(topic, origin, neighbour, neighbour, 1)[0]
          if (row != null) this.p.passOnFork?.(topic, [row.raw, raw])
          return row != null
        }
        if (!pass()) void this.p.store.whenFlushed().then(() => { if (this.p.isRunning()) pass() }).catch(() => {})
      }
      return true
    }
    if (env.prev != null && seq > 1) {
      const below = this.heldHash(topic, origin, seq - 1)
      if (below != null && !below.equals(env.prev)) return report(seq - 1, below, env.prev, seq - 1)
    }
    const above = this.prevAbove(topic, origin, seq)
    if (above != null) {
      const hash = bodyHash(env.body)
      if (!hash.equals(above)) return report(seq, above, hash, seq + 1)
    }
    return false
  }

  /** whether the held seq + 1 links to this held body (its prev is the body's hash): the body is the origin's */
  private vouchedFromAbove (topic: string, origin: string, seq: number, held: Envelope): boolean {
    const above = this.prevAbove(topic, origin, seq)
    return above != null && bodyHash(held.body).equals(above)
  }

  /** the prev of the held seq + 1 (the hash it links to at seq), if held */
  private prevAbove (topic: string, origin: string, seq: number): Uint8Array | undefined {
    if (this.p.store.heldState(topic, origin)?.set.has(seq + 1) !== true) return undefined
    return readHeldEnvelope(this.p.store, topic, origin, seq + 1)?.prev ?? undefined
  }

  /** body hash of the (committed) held seq: from the stream's tip when it is that seq, else read */
  private heldHash (topic: string, origin: string, seq: number): Buffer | undefined {
    const tip = this.tips.get(`${topic}\u0000${origin}`)
    if (tip?.seq === seq) return tip.hash
    if (this.p.store.heldState(topic, origin)?.set.has(seq) !== true) return undefined
    const held = readHeldEnvelope(this.p.store, topic, origin, seq)
    return held == null ? undefined : bodyHash(held.body)
  }

  /** an authentic envelope is about to be stored: it is its stream's tip if newest */
  private setTip (env: Envelope): void {
    if (this.p.forks == null) return
    const hash = bodyHash(env.body)
    this.recent.remember(env.topic, env.origin, env.seq, hash)
    const key = `${env.topic}\u0000${env.origin}`
    const tip = this.tips.get(key)
    if (tip != null && tip.seq > env.seq) return
    if (tip == null && this.tips.size >= MAX_TIPS) this.tips.clear()
    this.tips.set(key, { seq: env.seq, hash })
  }

  /** not stored: its stream forked at or below its seq. Counted, no penalty (the origin's fault, not the relay's) */
  /** false for a new origin on a topic that keeps no more (origin-limit.ts): no signature check is spent on it */
  mayStore (topic: string, origin: string): boolean { return this.p.originLimit?.mayAdmit(topic, origin) !== false }

  /** a new origin on a topic that has as many as it keeps: not stored, not forwarded, nobody penalised */
  private originRefused (env: Envelope, from: PeerId, id: string): Acceptance {
    this.p.stats.rejected++
    this.p.stats.originsRefused = (this.p.stats.originsRefused ?? 0) + 1
    this.p.emit('rejected', { peer: from.toString(), reason: `origin limit: topic already has ${this.p.originLimit?.max ?? 0} origins (maxOriginsPerTopic)`, id })
    return 'origin refused'
  }

  private forkRefused (): Acceptance {
    this.p.stats.forkRefused = (this.p.stats.forkRefused ?? 0) + 1
    return 'refused'
  }

  private peerLoad (peer: string): PeerLoad {
    let l = this.load.get(peer)
    if (l == null) {
      if (this.load.size > 10_000) this.load.clear()
      l = { verifying: 0 }
      this.load.set(peer, l)
    }
    return l
  }

  private takeTokens (peer: string, n: number): boolean {
    return this.buckets?.take(peer, n) ?? true
  }

  async checkSignature (env: Envelope): Promise<boolean> {
    this.p.stats.signatureChecks++
    return this.inline.take() ? verifyEnvelopeNow(env) : await verifyEnvelope(env)
  }
}

/**
 * A bundle carrying a fork's proof is taken one envelope at a time: one repeating an id (two versions of one
 * seq), or one with a message whose prev is not the hash of the seq below it in the same bundle (a message and
 * the neighbour it contradicts). Taken together, each is checked against the chain held before the other is
 * stored, so a node holding neither stored both, the fork unseen.
 */
function isProofShaped (envelopes: Envelope[]): boolean {
  const byId = new Map<string, Envelope>()
  for (const e of envelopes) {
    const id = envelopeId(e)
    if (byId.has(id)) return true
    byId.set(id, e)
  }
  for (const e of envelopes) {
    if (e.prev == null || e.seq <= 1) continue
    const below = byId.get(envelopeId({ topic: e.topic, origin: e.origin, seq: e.seq - 1 }))
    if (below != null && !bodyHash(below.body).equals(e.prev)) return true
  }
  return false
}
