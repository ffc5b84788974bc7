// The body hashes of the envelopes stored lately, per stream (topic, origin): 8 bytes of each, in a ring
// slot per seq modulo WINDOW. A copy of a held message arrives often: under load two or three pulls from
// different peers bring the same missing range, thousands of seqs below the newest (20-35 thousand copies
// in one 10,000-message bench run). The fork check (inbound.ts) would read each one's row from SQLite
// (~20-40 µs) to compare. Same body: nothing to compare (a copy under a relay's signature is not the
// origin's doing either). Only a copy whose body differs, or whose slot holds another seq, is read.
// 96 KiB per stream, at most 6 MiB. The body, not the signature: a relay sends copies under signatures of
// its own at will, unpenalised, each a read from the budget all peers share (a fork proof from an honest
// peer then went unread); and a signature begins with R, the signer's nonce, which a forking origin can
// reuse for its second version. Hashing a copy's body costs ~1 µs for a small message.
const WINDOW = 8192
/** streams remembered; past this the least recently stored-to stream is forgotten (its copies are read) */
const MAX_STREAMS = 64

/** per slot: seq / WINDOW (which seq the slot holds), then the body hash's first two words */
type Ring = Uint32Array

export class RecentBodies {
  private readonly streams = new Map<string, Ring>()

  /** an authentic envelope of this stream is being stored; `hash` is its body hash */
  remember (topic: string, origin: string, seq: number, hash: Uint8Array): void {
    if (hash.byteLength < 8) return
    const key = `${topic}\u0000${origin}`
    let ring = this.streams.get(key)
    if (ring == null) {
      if (this.streams.size >= MAX_STREAMS) this.streams.delete(this.streams.keys().next().value as string)
      ring = new Uint32Array(3 * WINDOW)
    } else {
      this.streams.delete(key)
    }
    // most recently stored-to last: the first key is the one to forget
    this.streams.set(key, ring)
    const at = 3 * (seq % WINDOW)
    // + 1: an empty slot (0) never matches
    ring[at] = Math.floor(seq / WINDOW) + 1
    ring[at + 1] = word(hash, 0)
    ring[at + 2] = word(hash, 4)
  }

  /** true: this seq was stored with this body hash; false: with another one, or not seen here (read it) */
  sameAsStored (topic: string, origin: string, seq: number, hash: Uint8Array): boolean {
    if (hash.byteLength < 8) return false
    const ring = this.streams.get(`${topic}\u0000${origin}`)
    if (ring == null) return false
    const at = 3 * (seq % WINDOW)
    return ring[at] === Math.floor(seq / WINDOW) + 1 && ring[at + 1] === word(hash, 0) && ring[at + 2] === word(hash, 4)
  }
}

function word (b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0
}
