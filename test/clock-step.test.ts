// The wall clock of a node can be stepped back (NTP correcting a fast clock, an operator, a VM restored from
// a snapshot). Rates, penalty decay and backoffs measure elapsed time, so a step must not cost honest peers
// anything: before, a step back of an hour left every peer's token bucket 3,600 tokens in debt (its sync
// requests refused, each refusal a penalty) and multiplied penalty points by 2^60 (graylisted, then banned).
// Fake timers move the monotonic clock and the wall clock together; setSystemTime steps the wall clock alone.
import { it, expect, vi, afterEach } from 'vitest'
import { PeerBuckets } from '../src/core/rate.js'
import { PeerPenalties } from '../src/core/penalties.js'
import { PeerHealth } from '../src/core/sync/health.js'

const HOUR = 3_600_000

afterEach(() => { vi.useRealTimers() })

function fakeClocks (): void {
  vi.useFakeTimers({ now: Date.UTC(2025, 0, 1), toFake: ['Date', 'performance', 'setTimeout', 'clearTimeout'] })
}

it('a wall clock stepped back an hour leaves token buckets as they were', () => {
  fakeClocks()
  // the sync serve rate: burst 10, 1 a second
  const b = new PeerBuckets({ perSecond: 1, burst: 10 })
  expect(b.take('P')).toBe(true)
  vi.setSystemTime(Date.now() - HOUR)
  vi.advanceTimersByTime(100)
  // 9 tokens left: the peer may still send its burst
  for (let i = 0; i < 9; i++) expect(b.take('P')).toBe(true)
  expect(b.take('P')).toBe(false)
  // and refills at its rate, whatever the wall clock does
  vi.advanceTimersByTime(2_000)
  expect(b.take('P')).toBe(true)
})

it('a wall clock stepped back an hour does not inflate penalty points', () => {
  fakeClocks()
  const p = new PeerPenalties(60_000)
  p.add('P', 1)
  vi.setSystemTime(Date.now() - HOUR)
  expect(p.get('P')).toBeLessThanOrEqual(1)
  // one more small penalty keeps the peer far from the ban at 50 points
  expect(p.add('P', 0.25)).toBeLessThanOrEqual(1.25)
  // and points still decay with elapsed time
  vi.advanceTimersByTime(60_000)
  expect(p.get('P')).toBeLessThan(0.7)
})

it('a wall clock stepped back an hour does not stretch a sync backoff to an hour', () => {
  fakeClocks()
  const h = new PeerHealth()
  h.failed('P', new Error('refused'), false)
  expect(h.backingOff('P')).toBe(true)
  vi.setSystemTime(Date.now() - HOUR)
  vi.advanceTimersByTime(10_000)
  expect(h.backingOff('P')).toBe(false)
  expect(h.backoffOf('P')).toBe(0)
})
