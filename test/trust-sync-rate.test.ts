// Issue 10, build 4: a per-peer limit on the sync requests this node serves. libp2p's maxInboundStreams
// bounds the sync streams open at once per connection, not how fast a peer opens them; a peer asking
// faster than its token bucket allows (default burst 10, 1 per second) has its streams reset, counted in
// status and lightly penalised, while honest pullers keep syncing.
import { describe, it, expect, afterEach } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import type { GossipNode } from '../src/core/node.js'
import { SYNC_PROTOCOL, pullFrom } from '../src/core/sync/protocol.js'
import { startNode, waitFor, addrOf, stopAll, collect } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

describe('sync request rate per peer', () => {
  it('a peer opening 50 sync streams in a burst is mostly refused while an honest puller syncs', async () => {
    // the server's own messages travel by sync only; nobody pulls in the background during the test
    const server = await startNode({ topics: ['t'], gossipFilter: () => false, syncIntervalMs: 60_000 })
    nodes.push(server)
    const honest = await startNode({ topics: ['t'], peers: [addrOf(server)], syncIntervalMs: 60_000 })
    nodes.push(honest)
    const flooder = await startNode({ topics: ['t'], peers: [addrOf(server)], syncIntervalMs: 60_000 })
    nodes.push(flooder)
    await waitFor('both connected to the server', () => server.peers().length === 2)
    for (let i = 1; i <= 20; i++) await server.publish('t', `m${i}`)
    const got = collect(honest, 't')

    const serverId = peerIdFromString(server.peerId)
    let served = 0
    let refused = 0
    const one = async (): Promise<void> => {
      try {
        const stream = await flooder.libp2p.dialProtocol(serverId, SYNC_PROTOCOL)
        await pullFrom(stream, serverId, [{ topic: 't', origins: [] }], async () => ({ stored: 0, asked: 0, askedBytes: 0 }))
        served++
      } catch { refused++ }
    }
    // 50 requests, 5 at a time: under maxInboundStreams (8), so only the rate limit can refuse them
    const flood = (async () => {
      for (let wave = 0; wave < 10; wave++) await Promise.all(Array.from({ length: 5 }, one))
    })()
    const pulled = honest.syncWith(server.peerId)
    const [stats] = await Promise.all([pulled, flood])

    // the honest pull went through (some messages may have come by an earlier pull of the honest node)
    expect(stats).not.toBeNull()
    await waitFor('honest node holds all 20', () => got.length === 20, 5_000)
    expect(honest.status().sync.failures).toBe(0)
    expect(served + refused).toBe(50)
    expect(refused).toBeGreaterThanOrEqual(30)
    // refusals are counted, and cost the flooder a little (not yet a ban)
    expect(server.status().sync.refused).toBeGreaterThanOrEqual(refused)
    expect(server.penalties.get(flooder.peerId)).toBeGreaterThan(0)
    expect(server.isDenied(flooder.peerId)).toBe(false)
  }, 60_000)
})
