// The signatures of the envelopes stored lately, per stream (topic, origin): the last 8 bytes of each, in a
// ring slot per seq modulo WINDOW. A copy of a held message arrives often: under load two or three pulls
// from different peers bring the same missing range, thousands of seqs below the newest (20-35 thousand
// copies in one 10,000-message bench run). The fork check (inbound.ts) would read each one's row from
// SQLite (~20-40 µs) to compare. Same signature: the same signed body, nothing to compare. Only a copy
// whose signature differs, or whose slot holds another seq, is read. 96 KiB per stream, at most 6 MiB.
// The last bytes, not the first: an Ed25519 signature begins with R, which the signer chooses (its nonce),
// so a forking origin signs its second version with the same R, and a copy of it looked the same as the
// stored one. The end of S depends on the body signed: matching it for another body is a 2^64 search.
/** where the 8 bytes compared begin (an Ed25519 signature is 64 bytes: R, then S) */
const tail = (sig: Uint8Array): number => sig.byteLength - 8
const WINDOW = 8192
/** streams remembered; past this the least recently stored-to stream is forgotten (its copies are read) */
const MAX_STREAMS = 64

/** per slot: seq / WINDOW (which seq the slot holds), then the signature's first two words */
type Ring = Uint32Array

export class RecentSigs {
  private readonly streams = new Map<string, Ring>()

  /** an authentic envelope of this stream is being stored with this signature */
  remember (topic: string, origin: string, seq: number, sig: Uint8Array): void {
    if (sig.byteLength < 8) return
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
    ring[at + 1] = word(sig, tail(sig))
    ring[at + 2] = word(sig, tail(sig) + 4)
  }

  /** true: this seq was stored with this signature; false: with another one, or not seen here (read it) */
  sameAsStored (topic: string, origin: string, seq: number, sig: Uint8Array): boolean {
    if (sig.byteLength < 8) return false
    const ring = this.streams.get(`${topic}\u0000${origin}`)
    if (ring == null) return false
    const at = 3 * (seq % WINDOW)
    return ring[at] === Math.floor(seq / WINDOW) + 1 && ring[at + 1] === word(sig, tail(sig)) && ring[at + 2] === word(sig, tail(sig) + 4)
  }
}

function word (b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0
}
