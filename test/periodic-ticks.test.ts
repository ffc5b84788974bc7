// Issue 11: an idle node's periodic jobs run on whole ticks of the wall clock, together, so the process
// wakes once for all of them (src/core/tick.ts, src/core/stack/gossip-clock.ts).
import { it, expect, afterEach, vi } from 'vitest'
import { setTimeout as sleep } from 'node:timers/promises'
import { onWholeTicks } from '../src/core/tick.js'
import type { GossipNode } from '../src/core/node.js'
import { startNode, stopAll } from './helpers.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

/** how far past the last whole second (ms) */
const phase = (t: number): number => t % 1000

it('onWholeTicks fires at whole multiples of its period, and not after stop', () => {
  // a fake clock: on a loaded CI machine real timers run late by tens of ms, which says nothing about
  // where onWholeTicks aimed them (this test once failed that way with real timers)
  vi.useFakeTimers({ now: 1_000_037 })
  try {
    const at: number[] = []
    const stop = onWholeTicks(100, () => at.push(Date.now()))
    vi.advanceTimersByTime(650)
    stop()
    const n = at.length
    vi.advanceTimersByTime(250)
    // the first is at least a quarter period away: 1_000_100 is 63 ms away, so it is the first
    expect(at).toEqual([1_000_100, 1_000_200, 1_000_300, 1_000_400, 1_000_500, 1_000_600])
    expect(at.length).toBe(n)
  } finally {
    vi.useRealTimers()
  }
})

it('onWholeTicks does not fire twice in a row when a run was late', () => {
  vi.useFakeTimers({ now: 2_000_000 })
  try {
    const at: number[] = []
    const stop = onWholeTicks(100, () => {
      at.push(Date.now())
      // the first run blocks 90 ms: the next whole tick (2_000_200) is then 10 ms away, under a quarter period
      if (at.length === 1) vi.setSystemTime(Date.now() + 90)
    })
    vi.advanceTimersByTime(400)
    stop()
    expect(at).toEqual([2_000_100, 2_000_300, 2_000_400])
  } finally {
    vi.useRealTimers()
  }
})

it('gossipsub\'s heartbeat lands on whole seconds, and score upkeep runs with it, not on a timer of its own', async () => {
  // start half a second off the whole second, so a heartbeat on its own phase would land far from it
  await sleep(1000 - phase(Date.now()) + 500)
  const a = await startNode({ topics: ['t'] })
  nodes = [a]
  const pubsub = a.libp2p.services.pubsub
  const beats: number[] = []
  let refreshes = 0
  let refreshesInBeat = 0
  // the node's refresh listener was added at start, before this one: a refresh made by a heartbeat is
  // followed by this listener in the same synchronous dispatch
  let refreshedThisTurn = false
  pubsub.addEventListener('gossipsub:heartbeat', () => {
    beats.push(Date.now())
    if (refreshedThisTurn) refreshesInBeat++
  })
  const score = (pubsub as unknown as { score: { background: () => void } }).score
  const background = score.background.bind(score)
  score.background = () => {
    refreshes++
    refreshedThisTurn = true
    queueMicrotask(() => { refreshedThisTurn = false })
    background()
  }
  await sleep(4_500)
  // the first heartbeat after start may still be on the old phase
  const later = beats.slice(1)
  expect(later.length).toBeGreaterThanOrEqual(3)
  expect(later.filter(t => phase(t) < 150).length).toBeGreaterThanOrEqual(later.length - 1)
  expect(refreshes).toBeGreaterThanOrEqual(3)
  // every score refresh ran in a heartbeat's dispatch, not on a timer of its own
  expect(refreshesInBeat).toBe(refreshes)
})
