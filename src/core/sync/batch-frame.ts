// Decoding a sync batch frame ({ msgs: [bytes...], more: bool }, CBOR as cbor-x writes it) straight from the
// chunks the stream delivered. The generic path joined the ~1 MiB frame into one buffer first (a copy of
// every byte received: a tenth of the puller's CPU in a catch-up) and then walked it with cbor-x. Here each
// envelope is a view of the chunk it arrived in; only one that straddles two chunks is copied.
// Anything else (floors, tags, indefinite lengths, a non-minimal or truncated header, trailing bytes) is
// left to the generic decoder by returning undefined, so what is accepted or refused does not change.

/** the fields of a batch this decoder reads; a frame with any other field goes the generic way */
export interface PlainBatch { msgs: Uint8Array[], more: boolean }

/** A forward reader over the chunks of one frame. */
class Chunks {
  private readonly bufs: Uint8Array[]
  private chunk = 0
  private at = 0
  private left = 0

  constructor (chunks: Iterable<Uint8Array>) {
    this.bufs = [...chunks].filter(b => b.byteLength > 0)
    for (const b of this.bufs) this.left += b.byteLength
  }

  get remaining (): number { return this.left }

  /** the next byte, or -1 past the end */
  byte (): number {
    if (this.left === 0) return -1
    const buf = this.bufs[this.chunk]
    const b = buf[this.at++]
    this.left--
    if (this.at === buf.byteLength) { this.chunk++; this.at = 0 }
    return b
  }

  /**
   * The next n bytes (caller checked n <= remaining) as a Buffer, as the generic decoder gives them: a view
   * when they lie in one chunk, else a copy.
   */
  bytes (n: number): Buffer {
    if (n === 0) return Buffer.alloc(0)
    const buf = this.bufs[this.chunk]
    if (this.at + n <= buf.byteLength) {
      const view = Buffer.from(buf.buffer, buf.byteOffset + this.at, n)
      this.skip(n)
      return view
    }
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const cur = this.bufs[this.chunk]
      const take = Math.min(n - filled, cur.byteLength - this.at)
      out.set(cur.subarray(this.at, this.at + take), filled)
      filled += take
      this.skip(take)
    }
    return out
  }

  private skip (n: number): void {
    this.left -= n
    this.at += n
    while (this.chunk < this.bufs.length && this.at >= this.bufs[this.chunk].byteLength) {
      this.at -= this.bufs[this.chunk].byteLength
      this.chunk++
    }
  }
}

/** a CBOR head of `major` with a definite argument (shortest or not, as cbor-x writes map sizes), or -1 */
function head (r: Chunks, major: number): number {
  const h = r.byte()
  if (h < 0 || h >> 5 !== major) return -1
  const info = h & 0x1f
  if (info < 24) return info
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0
  // 8-byte arguments, indefinite lengths and reserved values are not what gossipd writes
  if (size === 0 || r.remaining < size) return -1
  let n = 0
  for (let i = 0; i < size; i++) n = n * 256 + r.byte()
  return n
}

/** a short ASCII text string (a key), or undefined */
function key (r: Chunks): string | undefined {
  const n = head(r, 3)
  if (n < 0 || n > 16 || n > r.remaining) return undefined
  let s = ''
  for (let i = 0; i < n; i++) s += String.fromCharCode(r.byte())
  return s
}

/**
 * The batch in `chunks` (one frame), when it is exactly { msgs: [byte strings], more: bool } in
 * definite-length CBOR; undefined for anything else, which the caller hands to the generic decoder.
 */
export function decodePlainBatch (chunks: Iterable<Uint8Array>): PlainBatch | undefined {
  const r = new Chunks(chunks)
  const fields = head(r, 5)
  if (fields !== 2) return undefined
  let msgs: Uint8Array[] | undefined
  let more: boolean | undefined
  for (let f = 0; f < fields; f++) {
    const k = key(r)
    if (k === 'msgs' && msgs == null) {
      const count = head(r, 4)
      // each element takes a byte at least: a count beyond what is left is a lie, refused before any allocation
      if (count < 0 || count > r.remaining) return undefined
      msgs = []
      for (let i = 0; i < count; i++) {
        const n = head(r, 2)
        if (n < 0 || n > r.remaining) return undefined
        msgs.push(r.bytes(n))
      }
    } else if (k === 'more' && more == null) {
      const b = r.byte()
      if (b !== 0xf4 && b !== 0xf5) return undefined
      more = b === 0xf5
    } else {
      return undefined
    }
  }
  if (msgs == null || more == null || r.remaining !== 0) return undefined
  return { msgs, more }
}
