import { describe, it, expect, afterEach } from 'vitest'
import type { GossipNode } from '../src/core/node.js'
import { startNode, waitFor, collect, text, addrOf, stopAll } from './helpers.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

describe('three nodes', () => {
  it('a message published on one reaches the other two once, with origin, seq and payload intact', async () => {
    const a = await startNode({ topics: ['chat'] })
    const b = await startNode({ topics: ['chat'], peers: [addrOf(a)] })
    const c = await startNode({ topics: ['chat'], peers: [addrOf(a), addrOf(b)] })
    nodes = [a, b, c]
    const gotB = collect(b, 'chat')
    const gotC = collect(c, 'chat')
    await waitFor('mesh', () => b.peers().length >= 1 && c.peers().length >= 2)
    const r = await a.publish('chat', 'hello')
    expect(r.seq).toBe(1)
    expect(r.origin).toBe(a.peerId)
    await waitFor('b and c receive', () => gotB.length === 1 && gotC.length === 1)
    for (const got of [gotB, gotC]) {
      expect(got[0].origin).toBe(a.peerId)
      expect(got[0].seq).toBe(1)
      expect(text(got[0])).toBe('hello')
    }
    // no second copy arrives later (by gossip relays or sync)
    await new Promise(resolve => setTimeout(resolve, 1500))
    expect(gotB.length).toBe(1)
    expect(gotC.length).toBe(1)
  })
})
