// A peer that joins the mesh and then stops reading its gossipsub stream (its process runs and its yamux
// still answers pings, so keep-alive never closes the connection) must not stall gossip to everyone else:
// the outbox holds gossip while a peer's buffer is over its limit, and used to hold it for as long as the
// stalled peer liked (outbox.ts).
import { it, expect, afterEach } from 'vitest'
import type { GossipNode } from '../src/core/node.js'
import { startNode, addrOf, waitFor, stopAll, collect } from './helpers.js'
import { GossipOutbox } from '../src/core/stack/outbox.js'
import type { SwarmHost } from '../src/core/stack/libp2p.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

/** bytes a's gossipsub stream to `peer` holds unsent (-1: no stream) */
function queuedFor (a: GossipNode, peer: string): number {
  const streams = (a.libp2p.services.pubsub as unknown as { streamsOutbound: Map<string, { rawStream: { writeBufferLength: number } }> }).streamsOutbound
  return streams.get(peer)?.rawStream.writeBufferLength ?? -1
}

it('a mesh peer that pauses its gossipsub stream has its stream aborted; the others keep getting gossip and the bytes queued for it stay bounded', async () => {
  const maxBufferedBytes = 2 * 1024 * 1024
  const a = await startNode({ topics: ['t'], gossipQueue: { maxBufferedBytes, stallMs: 2_000 } })
  // no periodic pulls: b gets what a gossips (and fills holes a later gossip message shows it)
  const b = await startNode({ topics: ['t'], peers: [addrOf(a)], syncIntervalMs: 600_000 })
  const h = await startNode({ topics: ['t'], peers: [addrOf(a)], syncIntervalMs: 600_000 })
  nodes = [a, b, h]
  const hid = h.libp2p.peerId.toString()
  await waitFor('a meshed with b and h', () => a.topics()[0].peers === 2 && queuedFor(a, hid) >= 0)
  // h stops reading a's gossipsub stream: yamux sends no more window updates on it; pings still answered
  let paused = 0
  for (const c of h.libp2p.getConnections(a.libp2p.peerId)) {
    for (const s of c.streams) if (s.direction === 'inbound' && s.protocol?.startsWith('/meshsub/') === true) { s.pause(); paused++ }
  }
  expect(paused).toBe(1)

  const got = collect(b, 't')
  const n = 4_000
  const payload = new Uint8Array(1024).fill(0x61)
  let most = 0
  const sample = setInterval(() => { most = Math.max(most, queuedFor(a, hid)) }, 20)
  try {
    for (let i = 0; i < n; i++) await a.publish('t', payload)
    await waitFor(`b has all ${n} by gossip while h stalls`, () => got.length === n && a.status().gossipQueued === 0, 30_000)
  } finally {
    clearInterval(sample)
  }
  // over the limit by at most one gossip message (a bundle is at most 1 MiB and change)
  expect(most).toBeLessThan(maxBufferedBytes + 2 * 1024 * 1024)
  expect(a.status().gossipStreamsStalled).toBeGreaterThanOrEqual(1)
  expect(a.libp2p.getConnections(h.libp2p.peerId).length).toBeGreaterThan(0)
}, 90_000)

it('a peer whose stream was aborted for stalling holds no one up on its reopened stream', async () => {
  // gossipsub's internals as the outbox reads them: one peer's stream, over the limit, that never drains
  const streamsOutbound = new Map<string, { rawStream: { writeBufferLength: number, aborted: boolean, addEventListener: () => void, abort: () => void } }>()
  const stalledStream = (): { writeBufferLength: number, aborted: boolean, addEventListener: () => void, abort: () => void } => {
    const raw = { writeBufferLength: 3 * 1024 * 1024, aborted: false, addEventListener: () => {}, abort: () => { raw.aborted = true; streamsOutbound.delete('h') } }
    streamsOutbound.set('h', { rawStream: raw })
    return raw
  }
  let published = 0
  const host = { services: { pubsub: { streamsOutbound, publish: async () => { published++ } } } } as unknown as SwarmHost
  const outbox = new GossipOutbox(host, { stallMs: 1_000 })
  try {
    const first = stalledStream()
    outbox.push('t', new Uint8Array(10))
    await waitFor('first stalled stream aborted', () => first.aborted, 5_000)
    expect(published).toBe(1)
    // gossip-streams.ts opens it again, and the peer stalls again: the others get gossip at once
    const second = stalledStream()
    outbox.push('t', new Uint8Array(10))
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(published).toBe(2)
    expect(outbox.queued).toBe(0)
    // and the reopened stream is still aborted once it has taken nothing for stallMs
    await waitFor('second stalled stream aborted', () => { outbox.push('t', new Uint8Array(10)); return second.aborted }, 5_000)
    expect(outbox.stalledStreams).toBe(2)
  } finally {
    outbox.stop()
  }
})
