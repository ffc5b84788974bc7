// A peer that drops us right after every handshake (its gater denies us) is redialed with a growing pause,
// not every second forever (a denied node used to run a Noise handshake against the peer every ~1.7 s).
import { it, expect, afterEach } from 'vitest'
import type { GossipNode } from '../src/core/node.js'
import { startNode, stopAll, addrOf } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

for (const how of ['discovered', 'static'] as const) {
  it(`a ${how} peer that keeps refusing us is redialed ever less often`, async () => {
    const refuser = await startNode({ topics: ['t'] })
    nodes.push(refuser)
    const denied = await startNode({ topics: ['t'], peers: how === 'static' ? [addrOf(refuser)] : [] })
    nodes.push(denied)
    refuser.setPeerAccess({ deny: [denied.peerId] })
    let connects = 0
    denied.libp2p.addEventListener('peer:connect', () => { connects++ })
    if (how === 'discovered') await denied.libp2p.dial(refuser.libp2p.getMultiaddrs()[0]).catch(() => {})
    await new Promise(resolve => setTimeout(resolve, 12_000))
    // pauses of 2, 4, 8 s: at most 4 connections in 12 s (the old fixed redial made 7 or more)
    expect(connects).toBeGreaterThanOrEqual(1)
    expect(connects).toBeLessThanOrEqual(4)
  }, 30_000)
}
