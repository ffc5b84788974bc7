// A peer that keeps a pull waiting without a word: it never answers the request, or never opens the sync
// stream. Such a pull used to end as a plain failure (as a dropped connection does), backed off for 1-5 s,
// so a few silent peers held the 3 pull slots almost all the time: 30 s (or 10 s) per pull, again and
// again. Now it is a stall, backed off 10 s doubling to 2 min, like a peer that sends nothing useful.
import { it, expect, afterEach } from 'vitest'
import { setTimeout as sleep } from 'node:timers/promises'
import { SyncStallError } from '../src/core/sync/protocol.js'
import type { GossipNode } from '../src/core/node.js'
import { startNode, stopAll, waitFor, addrOf, serveSyncWith, schedulerWithMutePeer } from './helpers.js'

let nodes: GossipNode[] = []
const closers: Array<() => void> = []
afterEach(async () => {
  await stopAll(nodes.splice(0))
  for (const c of closers.splice(0)) c()
})

/** stall backoff starts at 10 s; a plain failure's is at most 5 s */
const FAILURE_BACKOFF_MAX_MS = 5_000

it('a server that reads the request and never answers: the pull ends as a stall and the peer backs off as a staller', async () => {
  const silent = await startNode({ topics: ['t'] })
  nodes = [silent]
  await serveSyncWith(silent, async (s, stream) => {
    await s.read()
    // keep the stream open, say nothing
    await new Promise<void>(resolve => stream.addEventListener('close', () => resolve()))
  })
  const c = await startNode({ topics: ['t'], peers: [addrOf(silent)], syncPullLimits: { frameTimeoutMs: 500 } })
  nodes.push(c)
  await waitFor('the silent pull ended as a stall', () => (c.status().sync.stalls ?? 0) >= 1, 8_000)
  const peer = c.status().sync.peers.find(p => p.peer === silent.peerId)
  expect(peer?.lastError).toMatch(/nothing from the peer/)
  expect(peer?.backoffMs).toBeGreaterThan(FAILURE_BACKOFF_MAX_MS)
})

it('a peer that never opens the sync stream: the pull ends as a stall, not a plain failure', async () => {
  const { scheduler, peer, close } = await schedulerWithMutePeer({ dialTimeoutMs: 300 })
  closers.push(close)
  const outcome = await Promise.race([
    scheduler.syncWith(peer).then(() => 'pulled', (err: Error) => err),
    sleep(3_000).then(() => 'still waiting after 3 s'),
  ])
  expect(outcome).toBeInstanceOf(SyncStallError)
  const health = scheduler.status().peers[0]
  expect(health.stalls).toBe(1)
  expect(health.backoffMs).toBeGreaterThan(FAILURE_BACKOFF_MAX_MS)
})

it('a pull asked for while the last one ran waits out the backoff that one earned', async () => {
  const { scheduler, peer, close } = await schedulerWithMutePeer({ dialTimeoutMs: 200 })
  closers.push(close)
  scheduler.requestSync(peer)
  // asked again while the first runs (a new hole, a connection): queued behind it
  scheduler.requestSync(peer)
  await waitFor('the first pull ended as a stall', () => scheduler.status().peers[0]?.stalls === 1, 3_000)
  await sleep(1_000)
  // the queued pull did not start at once after the stall: it waits for the stall's 10 s backoff
  expect(scheduler.status().peers[0].pulls).toBe(1)
})
