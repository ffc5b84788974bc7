// Forks (equivocation): an origin that signed two different bodies for one (topic, origin, seq). The store
// keeps the first version it got, so without this, nodes that got different versions stayed diverged for
// good and silently (their digests agree: they hold the same seqs). Two valid signatures over different
// bodies are the proof; a fork is the origin's fault, never the relay's, so no peer is penalised for one.
// Once a stream (topic, origin) is known forked, nothing of it from the fork's seq up is stored any more
// (as Secure Scuttlebutt does): which branch is "right" cannot be decided, and mixing them is worse.
import type { Emit, NodeStats } from './events.js'
import type { OriginState } from '../store/store.js'

/** a fork proof, as reported: the two body hashes (hex) of one seq (`held`: the one this node stores) */
export interface ForkInfo {
  topic: string
  origin: string
  /** the seq signed twice; the stream is blocked from here up */
  seq: number
  held: string
  other: string
  /** the peer that delivered the other version (not at fault) */
  peer: string
  /** how it was seen: a second version of a held seq, or a message whose prev names another version */
  how: 'same seq' | 'prev'
}

/** forked streams remembered (each blocked); past this, further forks are still counted and reported, not blocked */
export const MAX_FORKS = 10_000

export interface ForkParts {
  stats: NodeStats
  emit: Emit
}

export class Forks {
  private readonly known = new Map<string, ForkInfo>()
  /**
   * streams found forked past MAX_FORKS (not blocked): reported once too. Their proof is refused, not stored,
   * so a peer can send it again at will: without this, each time was counted, logged at error and written
   */
  private readonly reportedOnly = new Set<string>()
  /** told of each stream found forked (or forked lower), so the block outlives a restart (the run's store) */
  persist?: (f: ForkInfo) => void

  constructor (private readonly p: ForkParts) {}

  /** Streams found forked before (persisted): blocked again, not reported or counted again. */
  load (found: ForkInfo[]): void {
    for (const f of found) {
      const key = streamKey(f.topic, f.origin)
      const seen = this.known.get(key)
      if ((seen == null && this.known.size < MAX_FORKS) || (seen != null && f.seq < seen.seq)) this.known.set(key, f)
    }
  }

  /**
   * A proof was found: counted once per stream, reported once (the lower seq wins if a lower one shows up).
   * True when it was reported now (new to this node): then it is worth passing on.
   */
  found (f: ForkInfo): boolean {
    const key = streamKey(f.topic, f.origin)
    const seen = this.known.get(key)
    if (seen != null && seen.seq <= f.seq) return false
    if (seen == null && this.known.size >= MAX_FORKS) {
      if (this.reportedOnly.has(key)) return false
      // bounded as the streams remembered are: past it, a stream may be reported once more
      if (this.reportedOnly.size >= MAX_FORKS) this.reportedOnly.clear()
      this.reportedOnly.add(key)
    }
    if (seen == null) this.p.stats.forks = (this.p.stats.forks ?? 0) + 1
    if (seen != null || this.known.size < MAX_FORKS) this.known.set(key, f)
    this.persist?.(f)
    this.p.emit('fork', f)
    return true
  }

  /** the seq from which this stream is blocked (a fork was proved there), or undefined */
  blockedFrom (topic: string, origin: string): number | undefined {
    return this.known.size === 0 ? undefined : this.known.get(streamKey(topic, origin))?.seq
  }

  /** whether this envelope's seq is at or above its stream's fork */
  blocks (topic: string, origin: string, seq: number): boolean {
    const from = this.blockedFrom(topic, origin)
    return from != null && seq >= from
  }

  /** every forked stream known, oldest report first */
  list (): ForkInfo[] { return [...this.known.values()] }
}

/** whether a stream is blocked, and from which seq (the sync puller reads it) */
export type BlockedFrom = (topic: string, origin: string) => number | undefined

/**
 * What a sync request lists as held of a stream blocked from `from`: what we hold below it, and everything
 * from it up, so servers send nothing there that would only be refused (and re-sent at every pull).
 */
export function claimBlocked (o: OriginState, from: number): OriginState {
  const below = o.ranges.filter(r => r[0] < from).map(r => [r[0], Math.min(r[1], from - 1)] as [number, number])
  return { ...o, ranges: [...below, [Math.max(from, o.low + 1), Number.MAX_SAFE_INTEGER]] }
}

function streamKey (topic: string, origin: string): string { return `${topic}\u0000${origin}` }
