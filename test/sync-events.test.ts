// The node's sync events, which the daemon's metrics and swarm page count: 'sync' per pull (with its
// batches) and 'sync:failed' when a pull fails. The failing peer is a bare libp2p node on 127.0.0.1 that
// speaks gossipsub but not the sync protocol.
import { describe, it, expect, afterAll } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { GossipNode } from '../src/core/node.js'
import { createSwarm, type SwarmHost } from '../src/core/stack/libp2p.js'
import { gossipOptions } from '../src/core/stack/gossip.js'
import { startNode, stopAll, waitFor, addrOf } from './helpers.js'

const nodes: GossipNode[] = []
let bare: SwarmHost | undefined
afterAll(async () => {
  await bare?.stop()
  await stopAll(nodes)
})

describe('sync events', () => {
  it('a pull from a peer emits sync with its batches; a pull from a peer without the protocol emits sync:failed', async () => {
    const a = await startNode({ topics: ['t'] }); nodes.push(a)
    const b = await startNode({ topics: ['t'], peers: [addrOf(a)] }); nodes.push(b)
    await a.publish('t', 'one')
    await waitFor('A and B connected', () => a.peers().length > 0 && b.peers().length > 0)
    const ok = new Promise<{ peer: string, batches: number }>(resolve => b.once('sync', resolve))
    b.requestSync(a.peerId)
    const s = await ok
    expect(s.peer).toBe(a.peerId)
    expect(s.batches).toBeGreaterThanOrEqual(1)

    bare = await createSwarm({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, gossip: gossipOptions(1024 * 1024) })
    await bare.dial(multiaddr(addrOf(b)))
    await waitFor('B sees the bare peer', () => b.peers().some(p => p.id === bare!.peerId.toString()))
    const failed = new Promise<{ peer: string, error: string }>(resolve => b.on('sync:failed', f => { if (f.peer === bare!.peerId.toString()) resolve(f) }))
    b.requestSync(bare.peerId.toString())
    const f = await failed
    expect(f.error).not.toBe('')
  })
})
