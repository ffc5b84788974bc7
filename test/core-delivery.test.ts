import { describe, it, expect, afterEach } from 'vitest'
import type { GossipNode } from '../src/core/node.js'
import { startNode, waitFor, collect, text, addrOf, stopAll, tempDir } from './helpers.js'
import { openStore } from '../src/core/open-store.js'
import type { Store } from '../src/store/store.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

describe('publishing with nobody listening', () => {
  it('stores the messages and delivers them to a peer that connects later', async () => {
    const a = await startNode({ topics: ['news'] })
    nodes.push(a)
    for (let i = 1; i <= 20; i++) {
      const r = await a.publish('news', `n${i}`)
      expect(r.seq).toBe(i)
    }
    const b = await startNode({ topics: ['news'], peers: [addrOf(a)] })
    nodes.push(b)
    const got = collect(b, 'news')
    await waitFor('b catches up', () => got.length === 20)
    expect(got.map(text)).toEqual(Array.from({ length: 20 }, (_, i) => `n${i + 1}`))
    expect(got.every(m => m.origin === a.peerId)).toBe(true)
  })
})

describe('publish backpressure', () => {
  it('publishers waiting on a full write queue are released when the fsync acks, with no later commit to wake them', async () => {
    // synchronous FULL: acks come from the WAL fsync, after the commit
    const a = await startNode({ topics: ['bp'], synchronous: 'FULL', maxPendingWrites: 50 })
    nodes.push(a)
    // before the fix this never resolved (the test timeout reports it)
    const results = await Promise.all(Array.from({ length: 500 }, async (_, i) => await a.publish('bp', `m${i}`)))
    expect(results.map(r => r.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1))
    expect(a.status().pendingWrites).toBe(0)
  })
})

describe('churn', () => {
  it('a subscriber that was down gets all 500 messages in order, no duplicates; the publisher keeps its sequence across a restart', async () => {
    const aDir = tempDir()
    const bDir = tempDir()
    let a = await startNode({ dataDir: aDir, topics: ['jobs'] })
    let b = await startNode({ dataDir: bDir, topics: ['jobs'], peers: [addrOf(a)] })
    nodes = [a, b]
    // a durable consumer on b acks as it goes
    const first = b.consume('jobs', { name: 'worker', from: 'beginning' })
    const seenFirst: number[] = []
    first.on('message', m => { seenFirst.push(m.seq); first.ack(m) }).start()
    await a.publish('jobs', 'before')
    await waitFor('b has the first message', () => seenFirst.length === 1)

    await b.stop()
    nodes = [a]
    for (let i = 0; i < 500; i++) await a.publish('jobs', `job-${i}`)

    b = await startNode({ dataDir: bDir, peers: [addrOf(a)] })
    nodes.push(b)
    const seq: number[] = []
    const c = b.consume('jobs', { name: 'worker' })
    c.on('message', m => { seq.push(m.seq); c.ack(m) }).start()
    await waitFor('b catches up on 500', () => seq.length >= 500)
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(seq).toEqual(Array.from({ length: 500 }, (_, i) => i + 2))

    // the publisher restarts from its data dir: its sequence continues, ids are never reused
    await a.stop()
    nodes = [b]
    a = await startNode({ dataDir: aDir, peers: [addrOf(b)] })
    nodes.push(a)
    const r = await a.publish('jobs', 'after restart')
    expect(r.seq).toBe(502)
    await waitFor('b gets the post-restart message', () => seq.length === 501)
    expect(seq[500]).toBe(502)
  })
})

describe('gap repair', () => {
  it('a gossip message lost in the middle is filled by sync and delivered in order', async () => {
    const a = await startNode({ topics: ['t'] })
    let dropped = 0
    const b = await startNode({
      topics: ['t'],
      peers: [addrOf(a)],
      syncIntervalMs: 60_000, // only the gap detector may trigger the repair
      dropInbound: (e, _from, source) => {
        if (e.seq === 5 && source === 'gossip') { dropped++; return true }
        return false
      },
    })
    nodes = [a, b]
    const got = collect(b, 't')
    await waitFor('connected and meshed', () => a.topics()[0].peers === 1 && b.topics()[0].peers === 1)
    const sources: string[] = []
    b.on('message', m => sources.push(`${m.seq}:${m.source}`))
    for (let i = 1; i <= 10; i++) await a.publish('t', `m${i}`)
    await waitFor('all 10 delivered', () => got.length === 10)
    expect(dropped).toBe(1)
    expect(got.map(m => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(sources).toContain('5:sync')
  })

  it('reports a gap that cannot be filled after the timeout and goes on', async () => {
    const a = await startNode({ topics: ['t'] })
    // b never receives seq 2, neither by gossip nor by sync
    const b = await startNode({ topics: ['t'], peers: [addrOf(a)], gapTimeoutMs: 500, dropInbound: e => e.seq === 2 })
    nodes = [a, b]
    await waitFor('meshed', () => a.topics()[0].peers === 1)
    const got = collect(b, 't')
    const gaps: unknown[] = []
    b.on('gap', g => gaps.push(g))
    for (const m of ['one', 'two', 'three']) await a.publish('t', m)
    await waitFor('gap reported and 3 delivered', () => got.length === 2, 10_000)
    expect(got.map(m => m.seq)).toEqual([1, 3])
    expect(gaps).toEqual([expect.objectContaining({ topic: 't', origin: a.peerId, from: 2, to: 2 })])
  })
})

describe('large payloads', () => {
  it('carries payloads bigger than a sync batch, by sync and by gossip, and refuses ones over the limit', async () => {
    const max = 3 * 1024 * 1024
    const big = (fill: number): Uint8Array => new Uint8Array(Math.floor(2.5 * 1024 * 1024)).fill(fill)
    const a = await startNode({ topics: ['blobs'], maxPayloadBytes: max })
    nodes.push(a)
    await a.publish('blobs', big(1)) // nobody listening: travels by sync later
    await expect(a.publish('blobs', new Uint8Array(max + 1))).rejects.toThrow(/limit/)
    const b = await startNode({ topics: ['blobs'], peers: [addrOf(a)], maxPayloadBytes: max })
    nodes.push(b)
    const got = collect(b, 'blobs')
    await waitFor('first blob by sync', () => got.length === 1)
    await waitFor('meshed', () => a.topics()[0].peers === 1)
    await a.publish('blobs', big(2))
    await waitFor('second blob', () => got.length === 2)
    expect(got.map(m => [m.payload.byteLength, m.payload[0], m.payload[m.payload.byteLength - 1]])).toEqual([
      [big(1).byteLength, 1, 1], [big(2).byteLength, 2, 2],
    ])
  })
})

describe('sync with a stream full of holes', () => {
  it('fills 10,500 scattered holes (more ranges than one request may list)', async () => {
    const n = 21_000
    // every other message is never gossiped: b ends up with 10,500 holes, more ranges than a server accepts in a request, and must fetch them by sync
    const a = await startNode({ topics: ['holes'], gossipFilter: e => e.seq % 2 === 0, syncIntervalMs: 60_000 })
    // b refuses sync until publishing is over, so the holes pile up
    let syncAllowed = false
    // b opens its store through a factory, so the test can look at what it holds
    let bStore: Store | undefined
    const b = await startNode({ topics: ['holes'], peers: [addrOf(a)], syncIntervalMs: 60_000, gapTimeoutMs: 60_000, dropInbound: (_e, _f, source) => source === 'sync' && !syncAllowed },
      { store: (dir, o) => (bStore = openStore(dir, o)) })
    nodes = [a, b]
    await waitFor('meshed', () => a.topics()[0].peers === 1 && b.topics()[0].peers === 1)
    let next = 0
    await Promise.all(Array.from({ length: 200 }, async () => { while (next < n) { next++; await a.publish('holes', 'x') } }))
    await waitFor('b has the gossiped half', () => b.topics()[0].messages === n / 2)
    const summary = bStore!.summary('holes')
    expect(summary[0].ranges.length).toBeGreaterThan(10_000)
    syncAllowed = true
    await b.syncWith(a.peerId)
    await waitFor('b holds all', () => b.topics()[0].messages === n, 30_000)
    const got = collect(b, 'holes')
    await waitFor('all delivered', () => got.length === n)
    expect(got.map(m => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1))
  })
})
