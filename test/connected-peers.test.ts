// The node's own peer listing must not re-parse every peer id (libp2p's getPeers() does, each call: base58
// decode, then encode again on toString(), a third of an idle daemon's allocations with a dozen peers).
import { it, expect, afterEach } from 'vitest'
import type { GossipNode } from '../src/core/node.js'
import { connectedPeers } from '../src/core/stack/connected-peers.js'
import { libp2pHost } from '../src/core/host.js'
import { startNode, stopAll, addrOf, waitFor } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

it('lists each connected peer once, as the PeerId its connection already holds', async () => {
  const a = await startNode({})
  const b = await startNode({ peers: [addrOf(a)] })
  const c = await startNode({ peers: [addrOf(a)] })
  nodes.push(a, b, c)
  await waitFor('a has both peers', () => a.peers().length === 2)
  // a second connection to the same peer is still one peer
  await a.libp2p.dialProtocol(b.libp2p.getMultiaddrs()[0], '/ipfs/ping/1.0.0').then(s => s.close()).catch(() => {})
  const conns = a.libp2p.getConnections()
  for (const list of [connectedPeers(a.libp2p), libp2pHost(a.libp2p).getPeers()]) {
    expect(list.map(p => p.toString()).sort()).toEqual([b.peerId, c.peerId].sort())
    for (const p of list) expect(conns.some(conn => conn.remotePeer === p)).toBe(true)
  }
})

it('peers() lists a peer once while two connections to it are open (both dialed at the same moment)', async () => {
  const a = await startNode({})
  const b = await startNode({ peers: [addrOf(a)] })
  nodes.push(a, b)
  await waitFor('b has a', () => b.peers().length === 1)
  // a second connection, the other way, as when both sides redial a dropped link at once
  await a.libp2p.dial(b.libp2p.getMultiaddrs()[0], { force: true })
  await waitFor('b holds two connections to a', () => b.libp2p.getConnections(a.libp2p.peerId).filter(c => c.status === 'open').length === 2)
  const peers = b.peers()
  expect(peers.map(p => p.id)).toEqual([a.peerId])
  expect(peers[0].direction).toBe('both')
  expect(peers[0].addrs.length).toBe(2)
})
