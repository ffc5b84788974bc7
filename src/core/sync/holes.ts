// Holes in origins' streams that sync is asked to fill, and the low marks peers report (their floors).
// A hole that stays open is asked for after 1 s, 2 s, 4 s ... at most every 30 s, not at every new
// message (a late joiner whose peers pruned an origin's start used to pull every peer 200 ms after every
// message, forever). A hole at the bottom of a stream that no connected peer can fill (each one's floor,
// the seq below which it holds nothing, is at or above it) is given up (the skip mark is raised) when the
// origin itself is among those peers, or else once the hole has been open for HOLE_GIVE_UP_MS: a peer
// that is down for a moment (a restart) may be the one that holds it. Given up is not lost: floors are a
// peer's word, so the range is still asked for in every pull and stored when an honest peer has it.
import { settledUpTo, firstHole, type Store } from '../../store/store.js'
import type { Floor } from './protocol.js'
import { monotonicNow } from '../monotonic.js'

const FIRST_RETRY_MS = 1_000
const MAX_RETRY_MS = 30_000
/** holes tracked at most (the oldest are forgotten: they are asked for again at once, which is safe) */
const MAX_HOLES = 10_000
/** a bottom hole is given up without the origin's word only after being open this long */
const HOLE_GIVE_UP_MS = 120_000

/** since and nextAt are on the monotonic clock: a step of the wall clock must not delay asks or give holes up early */
interface Hole {
  topic: string, origin: string, since: number, delay: number, nextAt: number, floors: Map<string, number>
  /** when it was last asked of its origin alone (undefined: not waiting on the origin) */
  originAskedAt?: number
  /** the highest seq held then: every hole asked for lay below it (one opened during the pull above it is not the origin's failure) */
  askedBelow?: number
}

const keyOf = (topic: string, origin: string): string => `${topic}\u0000${origin}`

/** seqs from..to of an origin given up for the whole node, and the floors (peer → floor) that decided it */
export interface GivenUp { topic: string, origin: string, from: number, to: number, floors: Record<string, number> }

export class HoleRepair {
  private readonly holes = new Map<string, Hole>()
  /** holes given up since start (for status) */
  givenUp = 0

  /**
   * `gaveUp` hears of every range given up: consumers move past it, and the word of the connected peers
   * decided it, so it must be seen (before, no consumer saw a gap, nothing
   * was counted or logged: a peer lying about its floors made messages vanish without a trace)
   */
  constructor (private readonly store: Store, private readonly connected: () => string[], private readonly gaveUp: (g: GivenUp) => void = () => {}) {}

  get size (): number { return this.holes.size }

  private open (topic: string, origin: string): boolean {
    const h = this.store.heldState(topic, origin)
    return h != null && firstHole(h) != null
  }

  /** The holes among these that are due for a pull now; each one's next ask backs off. */
  due (holes: Array<{ topic: string, origin: string }>): Array<{ topic: string, origin: string }> {
    this.forgetFilled()
    const now = monotonicNow()
    const out: Array<{ topic: string, origin: string }> = []
    for (const { topic, origin } of holes) {
      const key = keyOf(topic, origin)
      let h = this.holes.get(key)
      if (h == null) {
        if (this.holes.size >= MAX_HOLES) this.holes.delete(this.holes.keys().next().value as string)
        h = { topic, origin, since: now, delay: FIRST_RETRY_MS, nextAt: 0, floors: new Map() }
        this.holes.set(key, h)
      }
      if (now < h.nextAt) continue
      h.nextAt = now + h.delay
      h.delay = Math.min(h.delay * 2, MAX_RETRY_MS)
      out.push({ topic, origin })
    }
    return out
  }

  /** this hole was just asked of its origin alone (scheduler.ts repairHoles) */
  askedOrigin (topic: string, origin: string): void {
    const h = this.holes.get(keyOf(topic, origin))
    if (h == null) return
    h.originAskedAt = monotonicNow()
    h.askedBelow = this.store.heldState(topic, origin)?.set.max ?? 0
  }

  /**
   * A pull from `peer` that started at `startedAt` (monotonic) ended, well or not. Whether a hole of its
   * stream asked of it alone before that is still open: then the origin did not fill it (it answered
   * nothing for it, lied, is not subscribed, failed) and every peer must be asked, or the hole waits for the
   * periodic pull to pick a peer that holds it, one random peer a round, while consumers give it up.
   */
  originDone (peer: string, startedAt: number): boolean {
    let open = false
    for (const h of this.holes.values()) {
      if (h.origin !== peer || h.originAskedAt == null || h.originAskedAt > startedAt) continue
      h.originAskedAt = undefined
      const held = this.store.heldState(h.topic, h.origin)
      const hole = held != null ? firstHole(held) : undefined
      if (hole != null && hole[0] <= (h.askedBelow ?? Infinity)) open = true
    }
    return open
  }

  /**
   * A pull from `peer` of `topics` completed with these floors. A 1.1.0 peer that reported no floor for a
   * hole's origin holds everything of it above our low mark (it was just sent to us) or holds none of it
   * but said so: either way it is not where the missing seqs are. Then every bottom hole that no connected
   * peer can fill is given up (skip mark raised).
   */
  pulled (peer: string, topics: string[], floors: Floor[], oldProtocol: boolean): void {
    const reported = new Map<string, number>()
    for (const [topic, origin, below] of floors) reported.set(keyOf(topic, origin), below)
    const pulledTopics = new Set(topics)
    for (const [key, h] of this.holes) {
      if (!pulledTopics.has(h.topic)) continue
      const below = reported.get(key)
      if (below != null) h.floors.set(peer, below)
      else if (!oldProtocol) h.floors.set(peer, 0)
    }
    this.giveUpUnreachable()
    this.forgetFilled()
  }

  private giveUpUnreachable (): void {
    const peers = this.connected()
    if (peers.length === 0) return
    const now = monotonicNow()
    for (const h of this.holes.values()) {
      const held = this.store.heldState(h.topic, h.origin)
      const hole = held != null ? firstHole(held) : undefined
      // only a hole at the bottom: nothing held between the settled mark and it
      if (held == null || hole == null || hole[0] !== settledUpTo(held) + 1) continue
      if (!peers.includes(h.origin) && now - h.since < HOLE_GIVE_UP_MS) continue
      // every connected peer must have answered: one that was not asked yet may hold the missing seqs
      let floor = Infinity
      for (const p of peers) floor = Math.min(floor, h.floors.get(p) ?? 0)
      if (floor === 0) continue
      const low = Math.min(floor, hole[1])
      const settled = hole[0] - 1
      if (low <= settled) continue
      this.store.raiseSkip(h.topic, h.origin, low)
      const from = settled + 1
      this.givenUp++
      const floors: Record<string, number> = {}
      for (const p of peers) floors[p] = h.floors.get(p) ?? 0
      this.gaveUp({ topic: h.topic, origin: h.origin, from, to: low, floors })
    }
  }

  private forgetFilled (): void {
    for (const [key, h] of this.holes) if (!this.open(h.topic, h.origin)) this.holes.delete(key)
  }
}
