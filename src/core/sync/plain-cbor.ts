// Sync frames from a peer are decoded with cbor-x, which also honours CBOR tags. Value sharing (tags 28/29)
// lets a frame of 100 KB stand for gigabytes of objects (the same 300 KB origin string 10,000 times, or
// 20,000 copies of one envelope, each then checked or answered as if sent in full); other tags build Sets,
// Maps, Errors or typed arrays. gossipd's own frames use none of that, save tag 64, cbor-x's mark on a
// Uint8Array. So before a frame from the wire is decoded, one pass over its bytes checks that it is plain
// CBOR: one item, definite lengths that fit in the frame, nesting at most MAX_DEPTH deep, and no tag but
// 64 on a byte string. Then what cbor-x builds is no bigger than the bytes that came.

/** deeper than any gossipd frame (a request is 5 levels) */
const MAX_DEPTH = 16
/** CBOR's tag for a Uint8Array (RFC 8746), which cbor-x writes for one */
const TAG_UINT8ARRAY = 64

export class NotPlainCborError extends Error {
  constructor (msg: string) { super(`sync: frame is not plain CBOR: ${msg}`); this.name = 'NotPlainCborError' }
}

/** Throws NotPlainCborError unless `b` is exactly one plain CBOR item (see above); returns `b`. */
export function assertPlainCbor (b: Uint8Array): Uint8Array {
  // items still to read at each open array/map level
  const open: number[] = [1]
  let i = 0
  let tagged = false
  while (open.length > 0) {
    if (open[open.length - 1] === 0) { open.pop(); continue }
    open[open.length - 1]--
    if (i >= b.length) throw new NotPlainCborError('truncated')
    const major = b[i] >> 5
    const info = b[i] & 31
    i++
    let value: number
    if (info < 24) value = info
    else if (info <= 27) {
      const n = 1 << (info - 24)
      if (i + n > b.length) throw new NotPlainCborError('truncated')
      value = 0
      for (let k = 0; k < n; k++) value = value * 256 + b[i + k]
      i += n
    } else throw new NotPlainCborError(info === 31 ? 'indefinite length' : 'reserved length')
    if (tagged && major !== 2) throw new NotPlainCborError('tag 64 on something other than bytes')
    tagged = false
    switch (major) {
      case 2: case 3:
        if (value > b.length - i) throw new NotPlainCborError('string longer than the frame')
        i += value
        break
      case 4: case 5: {
        const items = major === 4 ? value : value * 2
        // every item takes at least one byte
        if (items > b.length - i) throw new NotPlainCborError('more items than bytes')
        if (open.length > MAX_DEPTH) throw new NotPlainCborError('nested too deep')
        open.push(items)
        break
      }
      case 6:
        if (value !== TAG_UINT8ARRAY) throw new NotPlainCborError(`tag ${value}`)
        tagged = true
        // the tagged item is read next, in the same slot
        open[open.length - 1]++
        break
      // 0, 1: integers; 7: simple values and floats (their bytes were skipped above)
    }
  }
  if (i !== b.length) throw new NotPlainCborError('bytes after the frame')
  return b
}
