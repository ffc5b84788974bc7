// A peer minting origins (fresh keys cost nothing) must not grow every node without end: past
// maxOriginsPerTopic, messages of new origins are refused, counted, not asked for again by sync, and nobody
// is penalised; origins already known and the node's own keep flowing (origin-limit.ts).
import { describe, it, expect, afterEach } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { GossipNode, NodeOptions } from '../src/core/node.js'
import type { PrivateKey } from '@libp2p/interface'
import { sealEnvelope, envelopeCodec } from '../src/core/envelope.js'
import { encodeBundle } from '../src/core/bundle.js'
import { requestPages } from '../src/core/sync/protocol.js'
import type { Store as StoreType } from '../src/store/store.js'
import { Encoder } from 'cbor-x'
import { Store } from '../src/store/store.js'
import { startNode, waitFor, addrOf, stopAll, collect, tempDir } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

const MINTED = 30
const LIMIT = 10

/** envelopes of `n` fresh origins, one message each */
async function minted (n: number, topic = 't'): Promise<Array<ReturnType<typeof sealEnvelope>>> {
  const out = []
  for (let i = 0; i < n; i++) {
    const k = await generateKeyPair('Ed25519')
    out.push(sealEnvelope(k, peerIdFromPrivateKey(k).toString(), topic, 1, Date.now(), new TextEncoder().encode(`minted ${i}`)))
  }
  return out
}

const origins = (got: ReturnType<typeof collect>): Set<string> => new Set(got.map(m => m.origin))

describe('origins per topic are bounded', () => {
  it('a sync server holding many minted origins: the puller keeps its limit, is not asked again, and penalises nobody', async () => {
    // the "attacker" is an honest-looking node whose store holds messages of MINTED origins
    const attackerDir = tempDir()
    const seeded = new Store(attackerDir, { codec: envelopeCodec, synchronous: 'NORMAL' })
    seeded.addTopic('t')
    for (const e of await minted(MINTED)) {
      void seeded.insert({ topic: 't', origin: e.envelope.origin, seq: 1, ts: e.envelope.ts, payload: e.envelope.payload, raw: e.bytes })
    }
    await seeded.whenFlushed()
    seeded.close()
    const attacker = await startNode({ dataDir: attackerDir, topics: ['t'] })
    nodes.push(attacker)
    const honest = await startNode({ topics: ['t'] })
    nodes.push(honest)
    const victim = await startNode({ topics: ['t'], peers: [addrOf(honest)], maxOriginsPerTopic: LIMIT })
    nodes.push(victim)
    const got = collect(victim, 't')
    await honest.publish('t', 'before')
    await waitFor('the honest origin known', () => origins(got).has(honest.peerId))

    await victim.libp2p.dial(multiaddr(addrOf(attacker)))
    await waitFor('the limit reached', () => origins(got).size >= LIMIT && victim.status().originsRefused > 0)
    // known origins and the node's own still get in
    await honest.publish('t', 'after')
    await victim.publish('t', 'own')
    await waitFor('known origin still delivered', () => got.some(m => new TextDecoder().decode(m.payload) === 'after'))
    expect(got.some(m => m.origin === victim.peerId)).toBe(true)
    // LIMIT foreign origins, plus this node's own
    expect(origins(got).size).toBe(LIMIT + 1)

    // later pulls from the attacker do not bring the refused origins again: it sends nothing (a pull begun
    // before the topic was full may still bring some: one pull first, so the one looked at is a full topic's)
    await victim.syncWith(attacker.peerId)
    const again = await victim.syncWith(attacker.peerId)
    expect(again?.received).toBe(0)
    expect(origins(got).size).toBe(LIMIT + 1)
    // the server only passed on what it holds: not penalised
    expect(victim.isDenied(attacker.peerId)).toBe(false)
    expect(victim.peers().some(p => p.id === attacker.peerId)).toBe(true)
  })

  it('gossip of minted origins: refused past the limit, not forwarded, the relay not penalised', async () => {
    const victim = await startNode({ topics: ['t'], maxOriginsPerTopic: LIMIT, banPoints: 5 })
    nodes.push(victim)
    const relay = await startNode({ topics: ['t'], peers: [addrOf(victim)] })
    nodes.push(relay)
    await waitFor('meshed', () => victim.topics()[0].peers === 1 && relay.topics()[0].peers === 1)
    const got = collect(victim, 't')
    await relay.publish('t', 'relay 1')
    await waitFor('the relay\'s own origin known', () => origins(got).has(relay.peerId))
    const pubsub = relay.libp2p.services.pubsub
    for (const e of await minted(MINTED)) await pubsub.publish('t', e.bytes)
    await waitFor('the limit reached', () => origins(got).size === LIMIT && victim.status().originsRefused >= MINTED - (LIMIT - 1))
    // a known origin still gets in over gossip; the relay was not penalised for passing the rest on
    await relay.publish('t', 'relay 2')
    await waitFor('a known origin delivered', () => got.some(m => new TextDecoder().decode(m.payload) === 'relay 2'))
    expect(origins(got).size).toBe(LIMIT)
    expect(victim.isDenied(relay.peerId)).toBe(false)
    // a purge empties the full topic: a new origin gets in again
    victim.leave('t', true)
    victim.join('t')
    const after = collect(victim, 't')
    await waitFor('meshed again', () => victim.topics()[0].peers === 1)
    const fresh = (await minted(1))[0]
    await pubsub.publish('t', fresh.bytes)
    await waitFor('a new origin stored after the purge', () => after.some(m => m.origin === fresh.envelope.origin))
  })
})

describe('a bundle mixing a known origin with new ones', () => {
  it('a full node stores the known origin\'s envelope but does not forward the refused ones in the bundle', async () => {
    const { victim, pubsub, key, known, k1, atObserver } = await fullVictimBetween({})
    // the known origin's next envelope carries minted ones past the full victim
    const k2 = sealEnvelope(key, known, 't', 2, Date.now(), new TextEncoder().encode('k2'), k1.hash)
    const extra = await minted(5)
    await pubsub.publish('t', encodeBundle([k2.bytes, ...extra.map(e => e.bytes)]))
    await waitFor('the victim refused the minted ones', () => victim.status().originsRefused >= 5)
    await waitFor('k2 at the observer (by gossip or sync)', () => atObserver.some(m => new TextDecoder().decode(m.payload) === 'k2'), 15_000)
    await new Promise(resolve => setTimeout(resolve, 1_500))
    expect(origins(atObserver).size).toBe(2)
  }, 30_000)
})

describe('a bundle mixing a known origin with new ones, sent ahead of the known origin\'s own copy', () => {
  it('the known origin\'s envelope is still forwarded when its own copy comes by gossip', async () => {
    // the observer pulls only when it connects: what it gets later comes by gossip
    const { victim, observer, pubsub, key, known, k1 } = await fullVictimBetween({ syncIntervalMs: 600_000 })
    const gossiped: string[] = []
    observer.on('message', m => { if (m.source === 'gossip') gossiped.push(new TextDecoder().decode(m.payload)) })
    // the known origin's next message, first in a bundle with a minted origin (stored, the bundle not forwarded) ...
    const k2 = sealEnvelope(key, known, 't', 2, Date.now(), new TextEncoder().encode('k2'), k1.hash)
    await pubsub.publish('t', encodeBundle([k2.bytes, (await minted(1))[0].bytes]))
    await waitFor('k2 stored at the victim', () => victim.history('t').some(m => new TextDecoder().decode(m.payload) === 'k2'))
    // ... then as its origin sent it: the victim forwards it (it did not forward it yet)
    await pubsub.publish('t', k2.bytes)
    await waitFor('k2 gossiped to the observer', () => gossiped.includes('k2'), 5_000)
  }, 30_000)
})

/**
 * attacker -- victim (limit 2) -- observer: the attacker gossips a first message from a key of its own, then
 * one from a minted origin; both reach the observer, and the victim is full with those two
 */
async function fullVictimBetween (observerOpts: Partial<NodeOptions>): Promise<{ victim: GossipNode, observer: GossipNode, pubsub: GossipNode['libp2p']['services']['pubsub'], key: PrivateKey, known: string, k1: ReturnType<typeof sealEnvelope>, atObserver: ReturnType<typeof collect> }> {
  const victim = await startNode({ topics: ['t'], maxOriginsPerTopic: 2 })
  nodes.push(victim)
  const attacker = await startNode({ topics: ['t'], peers: [addrOf(victim)] })
  nodes.push(attacker)
  const observer = await startNode({ topics: ['t'], peers: [addrOf(victim)], ...observerOpts })
  nodes.push(observer)
  await waitFor('meshed', () => victim.topics()[0].peers === 2 && attacker.topics()[0].peers === 1 && observer.topics()[0].peers === 1)
  const atObserver = collect(observer, 't')
  const pubsub = attacker.libp2p.services.pubsub
  const key = await generateKeyPair('Ed25519')
  const known = peerIdFromPrivateKey(key).toString()
  const k1 = sealEnvelope(key, known, 't', 1, Date.now(), new TextEncoder().encode('k1'))
  await pubsub.publish('t', k1.bytes)
  await pubsub.publish('t', (await minted(1))[0].bytes)
  await waitFor('two origins at the observer', () => origins(atObserver).size === 2)
  return { victim, observer, pubsub, key, known, k1, atObserver }
}

describe('OriginLimit counts each origin once', () => {
  it('an admitted origin committed but not yet acked (fsync pending) is not counted twice: a new origin below the limit gets in', async () => {
    const { OriginLimit } = await import('../src/core/origin-limit.js')
    const store = new Store(tempDir(), { codec: envelopeCodec, synchronous: 'NORMAL' })
    try {
      store.addTopic('t')
      const limit = new OriginLimit(store, 2)
      const [a] = await minted(1)
      // as Inbound does: admit, insert, and settle once the insert's promise ends (after the commit's fsync)
      expect(limit.admit('t', a.envelope.origin)).toBe(true)
      const stored = store.insert({ topic: 't', origin: a.envelope.origin, seq: 1, ts: a.envelope.ts, payload: a.envelope.payload, raw: a.bytes })
        .finally(() => limit.settled('t', a.envelope.origin))
      store.flush() // committed: the store counts the origin; its ack (fsync) is still to come
      expect(store.originCount('t')).toBe(1)
      // one origin known, the limit is 2: a second one still gets in
      expect(limit.full('t')).toBe(false)
      expect(limit.mayAdmit('t', 'another')).toBe(true)
      expect(limit.admit('t', 'another')).toBe(true)
      await stored
    } finally {
      await store.whenFlushed()
      store.close()
    }
  })
})

describe('a full topic\'s listed pulls', () => {
  // the smallest frame any server reads: BATCH_MAX_BYTES (1 MiB) + its maxPayloadBytes + 64 KiB (protocol.ts lp)
  const SERVER_FRAME = 1024 * 1024 + 64 * 1024
  const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
  const pages = (origins: number, ranges: number): ReturnType<typeof requestPages> => {
    // what a node knows of a topic an attacker filled with origins whose streams are riddled with holes, at high seqs
    const base = 2 ** 52
    const summary = Array.from({ length: origins }, (_, i) => ({
      origin: `12D3KooW${String(i).padStart(44, 'x')}`,
      low: base,
      ranges: Array.from({ length: ranges }, (_, j) => [base + 2 * j + 1, base + 2 * j + 1] as [number, number]),
    }))
    return requestPages({ summary: () => summary } as unknown as StoreType, ['t'], undefined, () => true)
  }

  it('9,000 known origins with holes: every request fits a server\'s frame, and every origin is listed once', () => {
    const got = pages(9_000, 17)
    for (const page of got) expect(cbor.encode({ want: page }).byteLength).toBeLessThanOrEqual(SERVER_FRAME)
    const listed = got.flat().filter(w => w.topic === 't')
    expect(listed.every(w => w.listed === true)).toBe(true)
    const names = listed.flatMap(w => w.origins.map(o => o.origin))
    expect(names.length).toBe(9_000)
    expect(new Set(names).size).toBe(9_000)
    // ranges cut as for any want over a page, no further (cut ranges make servers resend what is held)
    expect(listed.every(w => w.origins.every(o => o.ranges.length === 16))).toBe(true)
    // a few requests: a server serves a peer 10 at once (syncServeRate burst), then resets and penalises
    expect(got.length).toBeLessThanOrEqual(8)
    expect(pages(9_000, 100).length).toBeLessThanOrEqual(8)
    // without holes, one request as it was (a server from before 'listed' sends all of what a part does not list)
    expect(pages(9_000, 1).length).toBe(1)
    // each request names a topic once (a server closes the stream otherwise)
    for (const page of got) expect(new Set(page.map(w => w.topic)).size).toBe(page.length)
  })
})

describe('an origin stays known', () => {
  it('after its only message was quarantined and the node restarted: it is fetched again, a minted origin does not take its place', async () => {
    const { OriginLimit } = await import('../src/core/origin-limit.js')
    const dir = tempDir()
    const [o, p, m] = await minted(3)
    let store = new Store(dir, { codec: envelopeCodec, synchronous: 'NORMAL' })
    store.addTopic('t')
    for (const e of [o, p]) void store.insert({ topic: 't', origin: e.envelope.origin, seq: 1, ts: e.envelope.ts, payload: e.envelope.payload, raw: e.bytes })
    await store.whenFlushed()
    // its row found damaged (a signature that no longer verifies): a hole again, for sync to fill
    expect(store.quarantineHeld('t', o.envelope.origin, 1, 'test')).toBe(true)
    store.close()
    store = new Store(dir, { codec: envelopeCodec, synchronous: 'NORMAL' })
    try {
      expect(store.originCount('t')).toBe(2)
      const limit = new OriginLimit(store, 2)
      expect(limit.mayAdmit('t', m.envelope.origin)).toBe(false)
      expect(limit.admit('t', o.envelope.origin)).toBe(true)
    } finally {
      store.close()
    }
  })
})
