// gossipsub opens its outbound stream to a peer once, when the peer connects (or opens a stream to us), and
// never again if that fails: a peer too loaded to answer the protocol negotiation in time then stays
// connected and subscribed while nothing of ours reaches it by gossip, only by sync pulls, until one side
// reconnects. The node notices a connected gossipsub peer without our outbound stream and asks again.
import { it, expect, afterEach } from 'vitest'
import type { Connection } from '@libp2p/interface'
import type { GossipNode } from '../src/core/node.js'
import { startNode, stopAll, addrOf, waitFor } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

const outbound = (n: GossipNode): Map<string, unknown> => (n.libp2p.services.pubsub as unknown as { streamsOutbound: Map<string, unknown> }).streamsOutbound

it('an outbound gossipsub stream that failed to open is opened again, and gossip flows to that peer', async () => {
  const a = await startNode({ topics: ['t'] })
  // every gossipsub stream a opens fails for the first 3 s of a connection, as with a peer too loaded to negotiate
  a.libp2p.addEventListener('connection:open', evt => {
    const conn = evt.detail as Connection
    const newStream = conn.newStream.bind(conn)
    const until = Date.now() + 3_000
    conn.newStream = async (protocols, opts) => {
      const list = Array.isArray(protocols) ? protocols : [protocols]
      if (Date.now() < until && list.some(p => p.startsWith('/meshsub/'))) throw new Error('negotiation timed out (test)')
      return await newStream(protocols, opts)
    }
  })
  const b = await startNode({ topics: ['t'], peers: [addrOf(a)] })
  nodes.push(a, b)
  await waitFor('connected', () => a.peers().length === 1 && b.peers().length === 1)
  await waitFor('b has its stream to a', () => outbound(b).has(a.peerId))
  await new Promise(resolve => setTimeout(resolve, 3_500))
  // the failure window is over: a must get its stream without a reconnect
  await waitFor('a has its stream to b again', () => outbound(a).has(b.peerId), 15_000)
  expect(b.peers().map(p => p.id)).toEqual([a.peerId])
  const got: string[] = []
  b.on('message', m => { if (m.topic === 't') got.push(m.source) })
  await waitFor('the mesh forms', () => (a.libp2p.services.pubsub as unknown as { getMeshPeers: (t: string) => string[] }).getMeshPeers('t').length === 1, 10_000)
  await a.publish('t', 'by gossip')
  await waitFor('b got it', () => got.length === 1)
  expect(got).toEqual(['gossip'])
}, 60_000)

it('a peer still without its stream is queued again ever less often, never on the first look, never without a connection', async () => {
  const { GossipStreamRepair, STREAM_CHECK_MS } = await import('../src/core/stack/gossip-streams.js')
  const pushed: string[] = []
  const peer = (id: string): { toString: () => string } => ({ toString: () => id })
  const pubsub = {
    peers: new Map([['p', peer('p')], ['gone', peer('gone')]]),
    streamsOutbound: new Map<string, unknown>(),
    outboundInflightQueue: { push: (item: { peerId: { toString: () => string } }) => { pushed.push(item.peerId.toString()) } },
  }
  const host = {
    services: { pubsub },
    getConnections: (p: { toString: () => string }) => p.toString() === 'p' ? [{ status: 'open' }] : [],
  }
  const repair = new GossipStreamRepair(host as never)
  const at = (k: number): number => 1_000_000 + k * STREAM_CHECK_MS
  const looks: number[] = []
  for (let k = 0; k < 12; k++) { repair.check(at(k)); looks.push(pushed.length) }
  // looks every 5 s: queued at the 2nd look, then after pauses of 5, 10, 20, 40 s (looks 2, 4, 8)
  expect(looks).toEqual([0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4])
  expect(new Set(pushed)).toEqual(new Set(['p']))
  // once the stream is there the pause starts over
  pubsub.streamsOutbound.set('p', {})
  repair.check(at(12))
  pubsub.streamsOutbound.delete('p')
  repair.check(at(13))
  repair.check(at(14))
  expect(pushed.length).toBe(5)
})
