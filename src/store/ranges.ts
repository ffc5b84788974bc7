// A set of positive integers kept as sorted, disjoint, non-adjacent inclusive ranges [start, end].
// Sequence numbers arrive mostly in order, so a stream of thousands of messages is usually one range.
export type Range = [number, number]

export class RangeSet {
  private r: Range[] = []

  static from (ranges: Range[]): RangeSet {
    const s = new RangeSet()
    for (const [a, b] of ranges) s.addRange(a, b)
    return s
  }

  get ranges (): readonly Range[] { return this.r }
  get size (): number { return this.r.reduce((n, [a, b]) => n + b - a + 1, 0) }
  get max (): number { return this.r.length > 0 ? this.r[this.r.length - 1][1] : 0 }
  get min (): number { return this.r.length > 0 ? this.r[0][0] : 0 }

  /** index of the first range whose end >= n */
  private find (n: number): number {
    let lo = 0; let hi = this.r.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.r[mid][1] < n) lo = mid + 1; else hi = mid
    }
    return lo
  }

  has (n: number): boolean {
    const i = this.find(n)
    return i < this.r.length && this.r[i][0] <= n
  }

  add (n: number): void { this.addRange(n, n) }

  addRange (a: number, b: number): void {
    if (b < a) return
    // merge every range that overlaps or touches [a, b]
    const i = this.find(a - 1)
    let start = a; let end = b
    let j = i
    while (j < this.r.length && this.r[j][0] <= b + 1) {
      start = Math.min(start, this.r[j][0])
      end = Math.max(end, this.r[j][1])
      j++
    }
    this.r.splice(i, j - i, [start, end])
  }

  /** drop one number (splitting its range) */
  remove (n: number): void {
    const i = this.find(n)
    if (i >= this.r.length || this.r[i][0] > n) return
    const [a, b] = this.r[i]
    const parts: Range[] = []
    if (a < n) parts.push([a, n - 1])
    if (n < b) parts.push([n + 1, b])
    this.r.splice(i, 1, ...parts)
  }

  /** drop every number <= n */
  removeUpTo (n: number): void {
    const i = this.find(n + 1)
    this.r.splice(0, i)
    if (this.r.length > 0 && this.r[0][0] <= n) this.r[0] = [n + 1, this.r[0][1]]
  }

  /** ranges of this set that are not in `other` and are above `floor` */
  minus (other: RangeSet, floor = 0): Range[] {
    const out: Range[] = []
    for (const [a0, b] of this.r) {
      let a = Math.max(a0, floor + 1)
      if (a > b) continue
      let k = other.find(a)
      while (a <= b) {
        if (k >= other.r.length || other.r[k][0] > b) { out.push([a, b]); break }
        const [oa, ob] = other.r[k]
        if (oa > a) out.push([a, oa - 1])
        a = ob + 1
        k++
      }
    }
    return out
  }

  /** smallest held number > n, or 0 */
  nextAbove (n: number): number {
    const i = this.find(n + 1)
    if (i >= this.r.length) return 0
    return Math.max(this.r[i][0], n + 1)
  }
}
