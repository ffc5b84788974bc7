// A peer that drops us right after every handshake (its gater denies us) is redialed with a growing pause,
// not every second forever (a denied node used to run a Noise handshake against the peer every ~1.7 s).
import { it, expect, afterEach } from 'vitest'
import type { GossipNode } from '../src/core/node.js'
import type { PeerId } from '@libp2p/interface'
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

it('a node that has its static peers and enough connections wakes rarely to check on them, and redials a dropped one at once', async () => {
  const a = await startNode({})
  const b = await startNode({ peers: [addrOf(a)], connections: { low: 1, high: 4 } })
  nodes.push(a, b)
  await new Promise(resolve => setTimeout(resolve, 1_000))
  expect(b.peers().map(p => p.id)).toEqual([a.peerId])
  // each look of the peer keeper lists the connected peers (libp2p's getPeers, or all its connections); its fixed
  // 250 ms timer looked 4 times a second
  let looks = 0
  const fromKeeper = (): boolean => new Error().stack?.includes('/stack/peers.') === true
  const getPeers = b.libp2p.getPeers.bind(b.libp2p)
  const getConnections = b.libp2p.getConnections.bind(b.libp2p)
  b.libp2p.getPeers = () => { if (fromKeeper()) looks++; return getPeers() }
  b.libp2p.getConnections = (peer?: PeerId) => { if (peer == null && fromKeeper()) looks++; return getConnections(peer) }
  await new Promise(resolve => setTimeout(resolve, 3_000))
  expect(looks).toBeLessThanOrEqual(2)
  b.libp2p.getPeers = getPeers
  b.libp2p.getConnections = getConnections
  // a drop still wakes it at once
  const t0 = Date.now()
  await b.libp2p.hangUp(a.libp2p.peerId)
  while (b.peers().length === 0 && Date.now() - t0 < 10_000) await new Promise(resolve => setTimeout(resolve, 50))
  expect(b.peers().map(p => p.id)).toEqual([a.peerId])
  expect(Date.now() - t0).toBeLessThan(2_500)
}, 30_000)
