// Background anti-entropy backs off while nothing a node holds changes (src/core/sync/scheduler.ts,
// MAX_IDLE_BACKOFF): an idle LAN pulls up to 6x less often, and a message that gossip never delivered is
// still pulled, after which the interval is back at its base.
import { describe, it, expect, afterAll } from 'vitest'
import type { GossipNode } from '../src/core/node.js'
import { startNode, stopAll, waitFor, addrOf } from './helpers.js'

const nodes: GossipNode[] = []
afterAll(async () => { await stopAll(nodes) })

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('anti-entropy when idle', () => {
  it('pulls less and less often while nothing changes, still pulls what gossip missed, then pulls at the base rate again', async () => {
    // A gossips nothing: whatever B gets from A comes by sync
    const a = await startNode({ topics: ['t'], gossipFilter: () => false, syncIntervalMs: 200 }); nodes.push(a)
    const b = await startNode({ topics: ['t'], peers: [addrOf(a)], syncIntervalMs: 200 }); nodes.push(b)
    await waitFor('A and B connected', () => a.peers().length > 0 && b.peers().length > 0)
    // backing off 200 -> 400 -> 800 -> 1,200 ms (about 2 s; waited for, not timed, so a loaded machine passes)
    await waitFor('B backed off to 6x its interval', () => b.status().sync.intervalMs === 1_200, 15_000)
    let pulls = 0
    b.on('sync', () => { pulls++ })
    await sleep(3_000)
    // at the base 200 ms (0.5-1.5x) about 15 pulls in 3 s; backed off (1,200 ms) 2-4
    expect(pulls).toBeLessThan(6)
    // a message B never got by gossip arrives by the next background pull, at most 1.5 x 1,200 ms away
    const sent = await a.publish('t', 'missed by gossip')
    await waitFor('B pulled the message gossip did not bring', () => b.history('t').some(m => m.origin === sent.origin && m.seq === sent.seq), 5_000)
    // something changed: the pull after it is at the base interval again
    await waitFor('B back at the base interval', () => b.status().sync.intervalMs === 200, 5_000)
  })
})
