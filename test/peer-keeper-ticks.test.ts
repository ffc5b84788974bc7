// The peer keeper's periodic ticks land on whole seconds, with the node's other periodic work (tick.ts),
// so an idle node below its low mark does not wake once more a second for it (strace of an idle daemon:
// a tick at its own phase, ~4.7 wake-ups a second in all; 3.1-3.5 with it on whole seconds).
import { it, expect, vi } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerKeeper } from '../src/core/stack/peers.js'
import type { SwarmHost } from '../src/core/stack/libp2p.js'

it('an idle node below its low mark ticks on whole seconds, and tops up on each', async () => {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  let reads = 0
  const host = {
    peerId,
    addEventListener: () => {},
    removeEventListener: () => {},
    getConnections: () => [],
    dial: async () => { throw new Error('no dialing in this test') },
    peerStore: { all: async () => [] },
  } as unknown as SwarmHost
  // the keeper measures elapsed time on the monotonic clock (performance) and puts its ticks on whole seconds of the wall clock (Date)
  vi.useFakeTimers({ now: 1_000_300, toFake: ['Date', 'performance', 'setTimeout', 'clearTimeout'] })
  try {
    const k = new PeerKeeper(host, [])
    const ticks: number[] = []
    const tick = (k as unknown as { tick: () => void }).tick.bind(k)
    ;(k as unknown as { tick: () => void }).tick = () => {
      ticks.push(Date.now())
      // the tick at 1_002_000 finds the wall clock 10 ms on (as a late tick would): the next, on the next whole
      // second, is 990 ms after it, and must still top up
      if (ticks.length === 3) vi.setSystemTime(Date.now() + 10)
      tick()
    }
    // a top-up dials from the keeper's list of remembered peers (it no longer reads the whole peer store)
    const dialRemembered = (k as unknown as { dialRemembered: (now: number) => void }).dialRemembered.bind(k)
    ;(k as unknown as { dialRemembered: (now: number) => void }).dialRemembered = now => { reads++; dialRemembered(now) }
    k.start()
    await vi.advanceTimersByTimeAsync(3_000)
    k.stop()
    // started off a whole second, then every whole second (the first is at least 250 ms away)
    expect(ticks).toEqual([1_000_300, 1_001_000, 1_002_000, 1_003_000])
    // a top-up at start and on each whole second after the next one: the tick
    // 700 ms after start skips it, the one 990 ms after a late tick does not
    expect(reads).toBe(3)
  } finally {
    vi.useRealTimers()
  }
})
