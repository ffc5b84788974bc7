// gossipsub tries to open its outbound stream to a peer only around the moment the peer connects, and never
// again after a failure: a peer too loaded to answer the protocol negotiation in time then stays connected and
// subscribed while nothing of ours reaches it by gossip, only by sync pulls, until one side reconnects. The
// node notices a connected gossipsub peer without our outbound stream and asks again, ever less often.
import { it, expect, afterEach } from 'vitest'
import type { Connection } from '@libp2p/interface'
import type { GossipNode } from '../src/core/node.js'
import { GossipStreamRepair, RETRY_FIRST_MS, STREAM_CHECK_MS, STREAM_TRUSTED_MS } from '../src/core/stack/gossip-streams.js'
import { startNode, stopAll, addrOf, waitFor } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

const outbound = (n: GossipNode): Map<string, unknown> => (n.libp2p.services.pubsub as unknown as { streamsOutbound: Map<string, unknown> }).streamsOutbound

it('an outbound gossipsub stream that failed to open is opened again, and gossip flows to that peer', async () => {
  // no sync pulls during the test: what b gets, it gets by gossip
  const a = await startNode({ topics: ['t'], syncIntervalMs: 60_000 })
  // every gossipsub stream a opens fails while `failing`, as with a peer too loaded to negotiate in time
  let failing = true
  let failed = 0
  a.libp2p.addEventListener('connection:open', evt => {
    const conn = evt.detail as Connection
    const newStream = conn.newStream.bind(conn)
    conn.newStream = async (protocols, opts) => {
      const list = Array.isArray(protocols) ? protocols : [protocols]
      if (failing && list.some(p => p.startsWith('/meshsub/'))) { failed++; throw new Error('negotiation timed out (test)') }
      return await newStream(protocols, opts)
    }
  })
  const b = await startNode({ topics: ['t'], peers: [addrOf(a)], syncIntervalMs: 60_000 })
  nodes.push(a, b)
  await waitFor('connected', () => a.peers().length === 1 && b.peers().length === 1)
  await waitFor('b has its stream to a', () => outbound(b).has(a.peerId))
  await waitFor('a failed to open its stream', () => failed > 0)
  await new Promise(resolve => setTimeout(resolve, 1_000))
  failing = false
  expect(outbound(a).has(b.peerId)).toBe(false)
  expect(a.status().gossipStreamsReopened).toBe(0)
  // gossipsub alone never tries again; the repair does, RETRY_FIRST_MS after the failure, on a 5 s look
  await waitFor('a has its stream to b again', () => outbound(a).has(b.peerId), RETRY_FIRST_MS + 3 * STREAM_CHECK_MS)
  expect(a.status().gossipStreamsReopened).toBe(1)
  expect(b.peers().map(p => p.id)).toEqual([a.peerId])
  const got: string[] = []
  b.on('message', m => { if (m.topic === 't') got.push(m.source) })
  await waitFor('the mesh forms', () => (a.libp2p.services.pubsub as unknown as { getMeshPeers: (t: string) => string[] }).getMeshPeers('t').length === 1, 10_000)
  await a.publish('t', 'by gossip')
  await waitFor('b got it', () => got.length === 1)
  expect(got).toEqual(['gossip'])
}, 60_000)

it('queues a peer again only after two looks, never while its attempt runs or the queue holds one, with doubling pauses that start over after a lasting stream', async () => {
  const queued: string[] = []
  const open = new Set<string>(['p'])
  const peerId = { toString: () => 'p' }
  // attempts hang until the test fails them
  const ends: Array<() => void> = []
  const pubsub = {
    peers: new Map([['p', peerId]]),
    streamsOutbound: new Map<string, unknown>(),
    outboundInflightQueue: { readableLength: 0, push: (item: { peerId: { toString: () => string } }) => { queued.push(item.peerId.toString()) } },
    createOutboundStream: async (): Promise<void> => { await new Promise<void>((resolve, reject) => { ends.push(() => reject(new Error('failed'))) }) },
  }
  const host = { services: { pubsub }, getConnections: () => open.has('p') ? [{ status: 'open' }] : [] }
  let t = 1_000_000
  const repair = new GossipStreamRepair(host as never, () => {}, () => t)
  repair.start()
  // what gossipsub's queue does with an item: run the (wrapped) attempt
  const attempt = (): void => { void (pubsub.createOutboundStream as (peer: unknown) => Promise<void>)(peerId).catch(() => {}) }
  const fail = async (): Promise<void> => { for (const e of ends.splice(0)) e(); await new Promise(resolve => setImmediate(resolve)) }
  const look = (ms = STREAM_CHECK_MS): number => { t += ms; repair.check(); return queued.length }
  try {
    // gossipsub's own attempt at connect fails
    attempt(); await fail()
    expect(look(0)).toBe(0) // first look: missing once
    expect(look()).toBe(0) // missing twice, but only 5 s since the failure
    expect(look()).toBe(1) // 10 s: queued again
    // its attempt runs and hangs: not queued again meanwhile
    attempt()
    expect([look(), look(), look(), look(), look()]).toEqual([1, 1, 1, 1, 1])
    await fail()
    // the next pause is 20 s from the end of that attempt
    expect([look(), look(), look(), look()]).toEqual([1, 1, 1, 2])
    attempt(); await fail()
    // something waits in the queue: nothing more is queued
    pubsub.outboundInflightQueue.readableLength = 1
    for (let i = 0; i < 10; i++) look()
    expect(queued.length).toBe(2)
    pubsub.outboundInflightQueue.readableLength = 0
    expect(look()).toBe(3) // 55 s since, past the 40 s pause
    attempt(); await fail()
    // a stream that lasts only a moment does not reset the pause (80 s now)
    pubsub.streamsOutbound.set('p', {})
    look()
    pubsub.streamsOutbound.delete('p')
    for (let i = 0; i < 14; i++) look() // 75 s after the failure
    expect(queued.length).toBe(3)
    expect(look()).toBe(4) // 80 s
    attempt(); await fail()
    // a stream that lasted STREAM_TRUSTED_MS, then closed: queued again at the second look (its last attempt
    // ended long ago), and after that attempt fails the pause has started over (20 s, not 320 s)
    pubsub.streamsOutbound.set('p', {})
    look(); look(STREAM_TRUSTED_MS)
    pubsub.streamsOutbound.delete('p')
    expect([look(), look()]).toEqual([4, 5])
    attempt(); await fail()
    expect([look(), look(), look(), look()]).toEqual([5, 5, 5, 6])
    // no open connection: never queued
    attempt(); await fail()
    open.delete('p')
    for (let i = 0; i < 20; i++) look()
    expect(queued.length).toBe(6)
    expect(new Set(queued)).toEqual(new Set(['p']))
    expect(repair.reopened).toBe(6)
  } finally {
    repair.stop()
  }
  // stop takes its wrapper off: the method is gossipsub's own again
  expect(Object.hasOwn(pubsub, 'createOutboundStream')).toBe(false)
})

it('queues one peer a look even when the queue takes each push at once', () => {
  const queued: string[] = []
  const started: string[] = []
  const ids = ['p', 'q', 'r']
  const pubsub = {
    peers: new Map(ids.map(id => [id, { toString: () => id }])),
    streamsOutbound: new Map<string, unknown>(),
    // an idle queue hands a push straight to its consumer, which starts the attempt: readableLength stays 0
    outboundInflightQueue: { readableLength: 0, push: (item: { peerId: { toString: () => string } }) => { queued.push(item.peerId.toString()); void pubsub.createOutboundStream(item.peerId) } },
    // attempts that never end within the test
    createOutboundStream: async (peer: { toString: () => string }): Promise<void> => { started.push(peer.toString()); await new Promise(() => {}) },
  }
  const host = { services: { pubsub }, getConnections: () => [{ status: 'open' }] }
  let t = 1_000_000
  const repair = new GossipStreamRepair(host as never, () => {}, () => t)
  repair.start()
  const look = (): number => { t += STREAM_CHECK_MS; repair.check(); return queued.length }
  try {
    expect([look(), look(), look(), look()]).toEqual([0, 1, 2, 3])
    expect(queued.sort()).toEqual(ids)
    // every push reached the (wrapped) attempt
    expect(started.sort()).toEqual(ids)
  } finally {
    repair.stop()
  }
})
