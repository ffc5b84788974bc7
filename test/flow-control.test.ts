// Flow control, functionally (not timed): one node publishes far faster than the swarm can carry it, with
// many publishes in flight. Nothing may be lost or duplicated, no connection may be dropped (gossipsub's
// unbounded send buffers plus a starved keep-alive ping would do that), and memory must stay bounded.
import { describe, it, expect, afterEach } from 'vitest'
import type { GossipNode } from '../src/core/node.js'
import { startNode, waitFor, addrOf, stopAll } from './helpers.js'

const N = 20_000
const SIZE = 1024
const IN_FLIGHT = 1_000
const HEAP_GROWTH_LIMIT = 512 * 1024 * 1024

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

describe('flow control under a publish flood', () => {
  it(`3 nodes, ${N} x ${SIZE} B with ${IN_FLIGHT} publishes in flight: no drops, every message exactly once in order, bounded memory`, async () => {
    // the shipped gap timeout: under load a hole may take a while to fill, but it must be filled
    const opts = { topics: ['flood'], gapTimeoutMs: 10_000 }
    const a = await startNode(opts)
    const b = await startNode({ ...opts, peers: [addrOf(a)] })
    const c = await startNode({ ...opts, peers: [addrOf(a), addrOf(b)] })
    nodes = [a, b, c]
    await waitFor('full mesh', () => nodes.every(n => n.peers().length === 2 && n.topics()[0].peers === 2))

    const leaves: string[] = []
    const gaps: unknown[] = []
    for (const n of nodes) {
      n.on('peer:leave', ({ peer }) => leaves.push(`${n.peerId} lost ${peer}`))
      n.on('gap', g => gaps.push(g))
    }
    const seen = new Map<GossipNode, number[]>()
    for (const n of [b, c]) {
      const seqs: number[] = []
      seen.set(n, seqs)
      n.consume('flood', { from: 'beginning' }).on('message', m => { if (m.origin === a.peerId) seqs.push(m.seq) }).start()
    }

    globalThis.gc?.()
    const heapBefore = process.memoryUsage().heapUsed
    let heapPeak = heapBefore
    const sampler = setInterval(() => { heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed) }, 50)
    try {
      const payload = new Uint8Array(SIZE).fill(0x78)
      let next = 0
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (next < N) { next++; await a.publish('flood', payload) }
      }))
      await waitFor(`both subscribers have all ${N}`, () => [...seen.values()].every(s => s.length >= N), 240_000)
      // anything extra (a duplicate) would show up shortly after
      await new Promise(resolve => setTimeout(resolve, 500))
    } finally {
      clearInterval(sampler)
    }

    expect(leaves, 'no peer may be disconnected during the flood').toEqual([])
    expect(gaps, 'no gap may be given up on').toEqual([])
    const expected = Array.from({ length: N }, (_, i) => i + 1)
    for (const [n, seqs] of seen) {
      expect(seqs.length, `${n.peerId}: delivered count`).toBe(N)
      expect(seqs, `${n.peerId}: seqs 1..N in order, each once`).toEqual(expected)
    }
    const growth = heapPeak - heapBefore
    expect(growth, `heap grew ${(growth / 2 ** 20).toFixed(0)} MB`).toBeLessThan(HEAP_GROWTH_LIMIT)
  }, 300_000)

  it('when peers cannot take gossip fast enough, the overflow travels by sync: still every message once, in order, no gap given up', async () => {
    // a tiny gossip queue forces the skip-to-sync path that a real overload takes
    const n = 5_000
    const a = await startNode({ topics: ['spill'], gapTimeoutMs: 10_000, gossipQueue: { maxQueued: 20 } })
    const b = await startNode({ topics: ['spill'], gapTimeoutMs: 10_000, peers: [addrOf(a)] })
    const c = await startNode({ topics: ['spill'], gapTimeoutMs: 10_000, peers: [addrOf(a), addrOf(b)] })
    nodes = [a, b, c]
    await waitFor('full mesh', () => nodes.every(x => x.peers().length === 2 && x.topics()[0].peers === 2))
    const gaps: unknown[] = []
    const leaves: string[] = []
    const seen = new Map<GossipNode, number[]>()
    for (const x of [b, c]) {
      const seqs: number[] = []
      seen.set(x, seqs)
      x.on('gap', g => gaps.push(g))
      x.on('peer:leave', ({ peer }) => leaves.push(peer))
      x.consume('spill', { from: 'beginning' }).on('message', m => seqs.push(m.seq)).start()
    }
    let next = 0
    await Promise.all(Array.from({ length: 500 }, async () => {
      while (next < n) { next++; await a.publish('spill', new Uint8Array(1024)) }
    }))
    await waitFor(`both subscribers have all ${n}`, () => [...seen.values()].every(s => s.length >= n), 120_000)
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(a.status().gossipSkipped, 'the skip-to-sync path must have run').toBeGreaterThan(0)
    expect(leaves).toEqual([])
    expect(gaps).toEqual([])
    const expected = Array.from({ length: n }, (_, i) => i + 1)
    for (const seqs of seen.values()) expect(seqs).toEqual(expected)
  }, 180_000)

  it('5 nodes flooded with 15,000 messages and a short gap timeout: holes filled by sync are waited for, none given up', async () => {
    // the publisher runs 5x ahead of what gossip can carry here; thousands of messages go by sync, and a
    // pull under load takes longer than the 3 s gap timeout: delivery must wait for the repair
    const n = 15_000
    const opts = { topics: ['burst'], gapTimeoutMs: 3_000 }
    const first = await startNode(opts)
    nodes = [first]
    for (let i = 1; i < 5; i++) nodes.push(await startNode({ ...opts, peers: nodes.map(addrOf) }))
    await waitFor('full mesh', () => nodes.every(x => x.peers().length === 4))
    const gaps: unknown[] = []
    const seen = nodes.slice(1).map(x => {
      const seqs: number[] = []
      x.on('gap', g => gaps.push(g))
      x.consume('burst', { from: 'beginning' }).on('message', m => seqs.push(m.seq)).start()
      return seqs
    })
    let next = 0
    await Promise.all(Array.from({ length: 2_000 }, async () => { while (next < n) { next++; await first.publish('burst', new Uint8Array(1024)) } }))
    await waitFor(`every subscriber has all ${n}`, () => seen.every(s => s.length >= n) || gaps.length > 0, 120_000)
    expect(gaps).toEqual([])
    const expected = Array.from({ length: n }, (_, i) => i + 1)
    for (const seqs of seen) expect(seqs).toEqual(expected)
  }, 180_000)
})
