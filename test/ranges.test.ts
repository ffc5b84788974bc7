import { describe, it, expect } from 'vitest'
import { RangeSet } from '../src/store/ranges.js'

describe('RangeSet', () => {
  it('merges adjacent and overlapping numbers into ranges', () => {
    const s = new RangeSet()
    for (const n of [5, 1, 2, 3, 7, 6, 10]) s.add(n)
    expect(s.ranges).toEqual([[1, 3], [5, 7], [10, 10]])
    s.addRange(4, 9)
    expect(s.ranges).toEqual([[1, 10]])
    expect(s.size).toBe(10)
    expect(s.has(10)).toBe(true)
    expect(s.has(11)).toBe(false)
  })

  it('computes what one side holds that the other lacks, above a floor', () => {
    const server = RangeSet.from([[1, 100]])
    const client = RangeSet.from([[10, 20], [50, 50]])
    expect(server.minus(client, 5)).toEqual([[6, 9], [21, 49], [51, 100]])
    expect(server.minus(RangeSet.from([[1, 100]]))).toEqual([])
    expect(new RangeSet().minus(client)).toEqual([])
  })

  it('drops a prefix and finds the next held number', () => {
    const s = RangeSet.from([[1, 3], [8, 9]])
    s.removeUpTo(2)
    expect(s.ranges).toEqual([[3, 3], [8, 9]])
    expect(s.nextAbove(3)).toBe(8)
    expect(s.nextAbove(8)).toBe(9)
    expect(s.nextAbove(9)).toBe(0)
    s.removeUpTo(5)
    expect(s.ranges).toEqual([[8, 9]])
  })
})
