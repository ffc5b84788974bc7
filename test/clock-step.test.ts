// The wall clock of a node can be stepped back (NTP correcting a fast clock, an operator, a VM restored from
// a snapshot). Rates, penalty decay and backoffs measure elapsed time, so a step must not cost honest peers
// anything: before, a step back of an hour left every peer's token bucket 3,600 tokens in debt (its sync
// requests refused, each refusal a penalty) and multiplied penalty points by 2^60 (graylisted, then banned).
// Fake timers move the monotonic clock and the wall clock together; setSystemTime steps the wall clock alone.
// Bans, peer redials and hole retries are deadlines on the same monotonic clock, for the same reason.
import { it, expect, vi, afterEach } from 'vitest'
import { PeerBuckets } from '../src/core/rate.js'
import { PeerPenalties } from '../src/core/penalties.js'
import { PeerHealth } from '../src/core/sync/health.js'
import { HoleRepair } from '../src/core/sync/holes.js'
import { PeerGate } from '../src/core/stack/gate.js'
import { PeerKeeper } from '../src/core/stack/peers.js'
import type { SwarmHost } from '../src/core/stack/libp2p.js'
import type { Store } from '../src/store/store.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Progress, SyncStallError } from '../src/core/sync/protocol.js'
import { RangeSet } from '../src/store/ranges.js'

const HOUR = 3_600_000

afterEach(() => { vi.useRealTimers() })

function fakeClocks (): void {
  vi.useFakeTimers({ now: Date.UTC(2025, 0, 1), toFake: ['Date', 'performance', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
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

// Deadlines too: a ban, a redial and a hole's next ask are due after an elapsed time, so a step of the
// wall clock must neither stretch them by the step nor make them all due at once.

it('a ban lasts its time whatever the wall clock does', () => {
  fakeClocks()
  const g = new PeerGate()
  g.ban('back', 10 * 60_000)
  g.ban('ahead', 10 * 60_000)
  vi.setSystemTime(Date.now() - HOUR)
  expect(g.isBanned('back')).toBe(true)
  vi.advanceTimersByTime(10 * 60_000 + 1)
  // over after its 10 minutes, not an hour later
  expect(g.isBanned('back')).toBe(false)
  expect(g.denies('back')).toBe(false)
  // a step forward does not end a ban early
  g.ban('ahead2', 10 * 60_000)
  vi.setSystemTime(Date.now() + HOUR)
  expect(g.isBanned('ahead2')).toBe(true)
  expect(g.denies('ahead2')).toBe(true)
})

it('a hole is asked for again after its backoff, and a bottom hole is not given up early, whatever the wall clock does', () => {
  fakeClocks()
  const raised: number[] = []
  // origin O on topic t holds 5-9 (low 0): a hole at the bottom; peer P (not the origin) is connected
  const store = {
    heldState: () => ({ low: 0, skip: 0, set: { ranges: [[5, 9]], min: 5 } }),
    raiseSkip: (_t: string, _o: string, skip: number) => { raised.push(skip) },
  } as unknown as Store
  const holes = new HoleRepair(store, () => ['P'])
  const hole = [{ topic: 't', origin: 'O' }]
  expect(holes.due(hole)).toEqual(hole)
  expect(holes.due(hole)).toEqual([])
  vi.setSystemTime(Date.now() - HOUR)
  vi.advanceTimersByTime(1_000)
  // due after its 1 s backoff, not an hour later
  expect(holes.due(hole)).toEqual(hole)
  // P reports it holds nothing below 5: that alone gives the hole up only once it has been open 2 minutes
  vi.setSystemTime(Date.now() + 2 * HOUR)
  holes.pulled('P', ['t'], [['t', 'O', 5]], false)
  expect(raised).toEqual([])
  vi.advanceTimersByTime(120_000)
  holes.pulled('P', ['t'], [['t', 'O', 5]], false)
  expect(raised).toEqual([4])
})

/** a libp2p host whose dials all fail, counting them; its event listeners are kept to be called */
async function refusingHost (): Promise<{ host: SwarmHost, dials: () => number, emit: (type: string, detail: unknown) => void }> {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const listeners = new Map<string, (evt: CustomEvent) => void>()
  let dials = 0
  const host = {
    peerId,
    addEventListener: (type: string, fn: (evt: CustomEvent) => void) => { listeners.set(type, fn) },
    removeEventListener: () => {},
    getConnections: () => [],
    dial: async () => { dials++; throw new Error('refused') },
    // every peer it knows shares a topic with us (so a lost one is remembered and redialed, peers.ts)
    peerStore: { all: async () => [], delete: async () => {}, get: async (id: unknown) => ({ id, addresses: [], tags: new Map([['gossipd-topic:t', { value: 50 }]]) }) },
  } as unknown as SwarmHost
  return { host, dials: () => dials, emit: (type, detail) => listeners.get(type)?.(new CustomEvent(type, { detail })) }
}

it('a static peer is redialed after its backoff whatever the wall clock does', async () => {
  fakeClocks()
  const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const { host, dials } = await refusingHost()
  const k = new PeerKeeper(host, [`/ip4/127.0.0.1/tcp/1/p2p/${other.toString()}`])
  try {
    k.start()
    await vi.advanceTimersByTimeAsync(100)
    expect(dials()).toBe(1)
    vi.setSystemTime(Date.now() - HOUR)
    // the backoff is 0.5-2 s: redialed within seconds, not an hour later
    await vi.advanceTimersByTimeAsync(5_000)
    expect(dials()).toBeGreaterThan(1)
  } finally { k.stop() }
})

it('a lost peer is redialed after its backoff whatever the wall clock does', async () => {
  fakeClocks()
  const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const { host, dials, emit } = await refusingHost()
  const k = new PeerKeeper(host, [])
  try {
    k.start()
    emit('peer:connect', other)
    await vi.advanceTimersByTimeAsync(60_000)
    emit('peer:disconnect', other)
    // the first redial within 1.5-5.5 s (the tie-break), then every 0.5-1 s
    await vi.advanceTimersByTimeAsync(6_000)
    const before = dials()
    expect(before).toBeGreaterThan(0)
    vi.setSystemTime(Date.now() - HOUR)
    await vi.advanceTimersByTimeAsync(3_000)
    expect(dials()).toBeGreaterThan(before)
  } finally { k.stop() }
})

it('a wall clock stepped forward or back does not end an honest pull early nor keep a stalling one past its window', () => {
  fakeClocks()
  // an honest server's first frames: floors of origins it pruned (not kept, no bytes of progress), more to come
  const honest = new Progress({ progressWindowMs: 20_000 })
  honest.batch(0, 0, true, 5_000, 0)
  vi.setSystemTime(Date.now() + HOUR)
  vi.advanceTimersByTime(10)
  // 10 ms into the pull, not a 20 s window with nothing: its next frame of floors is no stall
  expect(() => honest.batch(0, 0, true, 5_000, 0)).not.toThrow()
  // a server that sends nothing of use is still a staller 20 s on, the wall clock stepped back meanwhile
  const stalling = new Progress({ progressWindowMs: 20_000 })
  stalling.batch(0, 0, true, 5_000, 0)
  vi.setSystemTime(Date.now() - HOUR)
  vi.advanceTimersByTime(21_000)
  expect(() => stalling.batch(0, 0, true, 5_000, 0)).toThrow(SyncStallError)
})

it('a wall clock stepped forward does not give up a bottom hole before it was open for 2 minutes', () => {
  fakeClocks()
  // we hold seqs 5-6 of O: 1-4 are a hole at the bottom; the one connected peer, A, holds nothing below 10
  const set = RangeSet.from([[5, 6]])
  const raised: number[] = []
  const store = { heldState: () => ({ low: 0, skip: 0, set }), raiseSkip: (_t: string, _o: string, skip: number) => raised.push(skip) } as unknown as Store
  const holes = new HoleRepair(store, () => ['A'])
  expect(holes.due([{ topic: 't', origin: 'O' }])).toHaveLength(1)
  holes.pulled('A', ['t'], [['t', 'O', 10]], false)
  expect(raised).toEqual([])
  // O itself (or another peer back from a restart) may still hold 1-4: an hour's step is not two minutes open
  vi.setSystemTime(Date.now() + HOUR)
  vi.advanceTimersByTime(10)
  holes.pulled('A', ['t'], [['t', 'O', 10]], false)
  expect(raised).toEqual([])
  vi.advanceTimersByTime(120_000)
  holes.pulled('A', ['t'], [['t', 'O', 10]], false)
  expect(raised).toEqual([4])
})
