// Two nodes that dialed each other at the same moment hold two connections; the idle one is closed (by the
// side with the smaller id), and the one carrying gossipsub's streams stays.
import { it, expect, afterEach } from 'vitest'
import type { Connection } from '@libp2p/interface'
import type { GossipNode } from '../src/core/node.js'
import { idleDuplicates, DUPLICATE_IDLE_MS } from '../src/core/stack/duplicate-connections.js'
import { startNode, stopAll, addrOf, waitFor } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

const open = (b: GossipNode, a: GossipNode): Connection[] => b.libp2p.getConnections(a.libp2p.peerId).filter(c => c.status === 'open')

it('an idle second connection between two nodes is closed, and messages still flow over the one kept', async () => {
  const a = await startNode({ topics: ['t'] })
  const b = await startNode({ peers: [addrOf(a)], topics: ['t'] })
  nodes.push(a, b)
  await waitFor('b has a', () => b.peers().length === 1)
  await a.libp2p.dial(b.libp2p.getMultiaddrs()[0], { force: true })
  await waitFor('two connections', () => open(b, a).length === 2 && open(a, b).length === 2)
  const t0 = Date.now()
  // closed after it has been idle DUPLICATE_IDLE_MS, at the peer keeper's next idle tick (every 4-5 s)
  await waitFor('one connection left on each side', () => open(b, a).length === 1 && open(a, b).length === 1, 20_000)
  expect(Date.now() - t0).toBeGreaterThanOrEqual(DUPLICATE_IDLE_MS - 1_000)
  expect(b.peers().map(p => p.id)).toEqual([a.peerId])
  const got: string[] = []
  b.consume('t', { from: 'beginning' }).on('message', m => { got.push(new TextDecoder().decode(m.payload)) }).start()
  await a.publish('t', 'after the close')
  await waitFor('b got it', () => got.length === 1)
  expect(got).toEqual(['after the close'])
}, 40_000)

const conn = (peer: string, streams: number, openedAt: number): Connection =>
  ({ status: 'open', remotePeer: { toString: () => peer }, streams: new Array(streams).fill({}), timeline: { open: openedAt } }) as unknown as Connection

it('only the smaller id closes, never a connection with streams, never a young one, and one always stays', () => {
  const now = 100_000
  const old = now - DUPLICATE_IDLE_MS
  const busy = conn('p', 2, old)
  const idle = conn('p', 0, old)
  // the side with the larger id leaves it to the other
  expect(idleDuplicates('q', [busy, idle], now)).toEqual([])
  expect(idleDuplicates('a', [busy, idle], now)).toEqual([idle])
  // a connection that has just opened may be about to carry a stream
  expect(idleDuplicates('a', [busy, conn('p', 0, now - 100)], now)).toEqual([])
  // both carry streams: both stay
  expect(idleDuplicates('a', [busy, conn('p', 1, old)], now)).toEqual([])
  // both idle: the oldest stays
  const older = conn('p', 0, old - 1_000)
  expect(idleDuplicates('a', [idle, older], now)).toEqual([idle])
  // one connection per peer: nothing to close
  expect(idleDuplicates('a', [idle, conn('r', 0, old)], now)).toEqual([])
})
