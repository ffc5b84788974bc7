// Adaptive batching (issue #13 item 3): under load one gossip message carries a bundle of envelopes and one
// signature check authenticates it; at low rates every message goes alone, as a plain envelope.
import { describe, it, expect, afterEach } from 'vitest'
import { Encoder } from 'cbor-x'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { GossipNode } from '../src/core/node.js'
import { sealEnvelope, encodeEnvelope } from '../src/core/envelope.js'
import { BUNDLE_DOMAIN, MAX_BUNDLE_BYTES, MAX_BUNDLE_COUNT, decodeBundle, encodeBundle, isBundle } from '../src/core/bundle.js'
import { BUNDLE_PROTOCOL } from '../src/core/bundle-support.js'
import { decodeGossipData } from '../src/core/stack/gossip.js'
import type { ReceivedMessage } from '../src/core/events.js'
import { startNode, waitFor, addrOf, stopAll } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

/** every gossip message that reaches the node's validator for the topic, as its bytes */
function tapGossip (node: GossipNode, topic: string): Uint8Array[] {
  const seen: Uint8Array[] = []
  const validators = node.libp2p.services.pubsub.topicValidators
  const inner = validators.get(topic)!
  validators.set(topic, async (from, msg) => { seen.push(msg.data); return await inner(from, msg) })
  return seen
}

function gossiped (node: GossipNode): ReceivedMessage[] {
  const got: ReceivedMessage[] = []
  node.on('message', m => { if (m.source === 'gossip') got.push(m) })
  return got
}

/** a and b meshed on topic t, each knowing whether the other understands bundles (identify has run) */
async function pair (opts: { bOld?: boolean, maxBundle?: number } = {}): Promise<[GossipNode, GossipNode]> {
  // long sync periods: what arrives must arrive by gossip
  const b = await startNode({ topics: ['t'], syncIntervalMs: 60_000 })
  nodes.push(b)
  // a peer of the previous version: it does not advertise bundles
  if (opts.bOld === true) await b.libp2p.unhandle(BUNDLE_PROTOCOL)
  const a = await startNode({ topics: ['t'], syncIntervalMs: 60_000, peers: [addrOf(b)], gossipQueue: { maxBundle: opts.maxBundle } })
  nodes.push(a)
  await waitFor('meshed', () => a.meshPeers('t').length === 1 && b.meshPeers('t').length === 1)
  // identify has run both ways once each side lists the other's protocols (the sync protocol at least)
  const identified = async (x: GossipNode, y: GossipNode): Promise<boolean> => {
    const protocols = (await x.libp2p.peerStore.get(y.libp2p.peerId)).protocols
    return opts.bOld === true || x === b ? protocols.some(p => p.startsWith('/gossipd/sync/')) : protocols.includes(BUNDLE_PROTOCOL)
  }
  await waitFor('identified', async () => await identified(a, b) && await identified(b, a))
  return [a, b]
}

/** a sends to b raw gossip it builds itself, signed by a fresh origin's key; b's rejections are collected */
async function forgerPair (): Promise<{ a: GossipNode, b: GossipNode, rejected: string[], key: Awaited<ReturnType<typeof generateKeyPair>>, origin: string }> {
  const [a, b] = await pair()
  const rejected: string[] = []
  b.on('rejected', r => rejected.push(r.reason))
  const key = await generateKeyPair('Ed25519')
  return { a, b, rejected, key, origin: peerIdFromPrivateKey(key).toString() }
}

describe('gossip bundles', () => {
  it('a burst travels in far fewer gossip messages than envelopes, with far fewer signature checks', async () => {
    const [a, b] = await pair()
    const data = tapGossip(b, 't')
    const got = gossiped(b)
    const checksBefore = b.status().signatureChecks
    await Promise.all(Array.from({ length: 500 }, async (_, i) => await a.publish('t', `burst ${i}`)))
    await waitFor('all 500 by gossip', () => got.length === 500)
    expect(new Set(got.map(m => m.seq)).size).toBe(500)
    expect(data.length).toBeLessThan(100)
    expect(data.some(isBundle)).toBe(true)
    expect(b.status().signatureChecks - checksBefore).toBeLessThan(100)
    expect(b.status().rejected).toBe(0)
    // the sender counts what it bundled
    expect(a.status().gossipBundles).toBeGreaterThan(0)
    expect(a.status().gossipBundled).toBeGreaterThan(400)
    // a consumer still sees a's stream in order
    const delivered: number[] = []
    b.consume('t', { from: 'beginning' }).on('message', m => delivered.push(m.seq)).start()
    await waitFor('consumer caught up', () => delivered.length === 500)
    expect(delivered).toEqual(Array.from({ length: 500 }, (_, i) => i + 1))
  }, 60_000)

  it('at a low rate every gossip message is one plain envelope', async () => {
    const [a, b] = await pair()
    const data = tapGossip(b, 't')
    const got = gossiped(b)
    for (let i = 0; i < 20; i++) {
      await a.publish('t', `slow ${i}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    await waitFor('all 20 by gossip', () => got.length === 20)
    expect(data.length).toBe(20)
    // 0x83 0x01: [version 1, body, sig], a single envelope as before bundles existed
    expect(data.every(d => d[0] === 0x83 && d[1] === 0x01)).toBe(true)
  }, 30_000)

  it('never sends a bundle to a peer that does not advertise bundles', async () => {
    const [a, b] = await pair({ bOld: true })
    const data = tapGossip(b, 't')
    const got = gossiped(b)
    await Promise.all(Array.from({ length: 300 }, async (_, i) => await a.publish('t', `old ${i}`)))
    await waitFor('all 300 by gossip', () => got.length === 300)
    expect(data.some(isBundle)).toBe(false)
    expect(data.length).toBe(300)
  }, 60_000)

  it('maxBundle 1 turns sending bundles off', async () => {
    const [a, b] = await pair({ maxBundle: 1 })
    const data = tapGossip(b, 't')
    const got = gossiped(b)
    await Promise.all(Array.from({ length: 200 }, async (_, i) => await a.publish('t', `one ${i}`)))
    await waitFor('all 200 by gossip', () => got.length === 200)
    expect(data.length).toBe(200)
    expect(data.some(isBundle)).toBe(false)
  }, 60_000)

  it('a relay forwards a bundle as it is, unless a peer of its own does not advertise bundles', async () => {
    const [a, b] = await pair()
    const relayTo = async (old: boolean): Promise<GossipNode> => {
      const c = await startNode({ topics: ['t'], syncIntervalMs: 1_000 })
      nodes.push(c)
      if (old) await c.libp2p.unhandle(BUNDLE_PROTOCOL)
      await c.libp2p.dial(b.libp2p.getMultiaddrs().find(m => m.toString().includes('/127.0.0.1/'))!)
      await waitFor('c meshed with b', () => c.meshPeers('t').length === 1 && b.meshPeers('t').includes(c.peerId))
      await waitFor('b identified c', async () => (await b.libp2p.peerStore.get(c.libp2p.peerId)).protocols.some(p => p.startsWith('/gossipd/sync/')))
      return c
    }
    // c hears a only through b
    const c = await relayTo(false)
    const atC = tapGossip(c, 't')
    const gotC = gossiped(c)
    await Promise.all(Array.from({ length: 300 }, async (_, i) => await a.publish('t', `relayed ${i}`)))
    await waitFor('all 300 at c by gossip', () => gotC.length === 300)
    expect(atC.some(isBundle)).toBe(true)
    expect(atC.length).toBeLessThan(100)

    // a peer that does not advertise bundles joins b: b stops forwarding bundles, the old peer gets them by sync
    const old = await relayTo(true)
    const atOld = tapGossip(old, 't')
    await Promise.all(Array.from({ length: 300 }, async (_, i) => await a.publish('t', `second ${i}`)))
    await waitFor('all 600 at the old peer', () => old.history('t', { limit: 1_000 }).length === 600, 30_000)
    expect(atOld.some(isBundle)).toBe(false)
    expect(old.status().rejected).toBe(0)
  }, 60_000)

  it('a bundle with a tampered envelope: what verified is stored, the tampered one is not, the sender is penalised', async () => {
    const { a, b, rejected, key, origin } = await forgerPair()
    const raws: Uint8Array[] = []
    let prev: Uint8Array | null = null
    for (let seq = 1; seq <= 5; seq++) {
      const s = sealEnvelope(key, origin, 't', seq, Date.now(), new TextEncoder().encode(`m${seq}`), prev)
      raws.push(s.bytes)
      prev = s.hash
    }
    // seq 3's payload changed after signing: it still links to 2, but 4 no longer links to it
    const three = decodeGossipData(raws[2])!.envelopes[0]
    raws[2] = encodeEnvelope({ ...three, payload: new TextEncoder().encode('altered') })
    await a.libp2p.services.pubsub.publish('t', encodeBundle(raws))
    await waitFor('rejected', () => rejected.length > 0)
    await waitFor('the authentic four stored', () => b.history('t').length === 4)
    const stored = b.history('t').map(m => new TextDecoder().decode(m.payload))
    expect(stored.sort()).toEqual(['m1', 'm2', 'm4', 'm5'])
    expect(b.penalties.get(a.peerId)).toBeGreaterThan(0)
  }, 30_000)

  it('a bundle over the limits or malformed is rejected and never throws', async () => {
    const { a, b, rejected, key, origin } = await forgerPair()
    const one = sealEnvelope(key, origin, 't', 1, Date.now(), new Uint8Array(10)).bytes
    const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
    const tooMany = cbor.encode([BUNDLE_DOMAIN, Array.from({ length: MAX_BUNDLE_COUNT + 1 }, () => Buffer.from(one))])
    const tooBig = cbor.encode([BUNDLE_DOMAIN, Array.from({ length: 3 }, () => Buffer.alloc(MAX_BUNDLE_BYTES / 2))])
    const notEnvelopes = cbor.encode([BUNDLE_DOMAIN, [Buffer.from(one), 'x']])
    const truncated = encodeBundle([one, one]).subarray(0, 40)
    const indefinite = Buffer.concat([Buffer.from(cbor.encode([BUNDLE_DOMAIN, []])).subarray(0, 18), Buffer.from([0x9f, 0xff])])
    const otherTopic = encodeBundle([sealEnvelope(key, origin, 'elsewhere', 1, Date.now(), new Uint8Array(1)).bytes])
    const empty = cbor.encode([BUNDLE_DOMAIN, []])
    const bad = [tooMany, tooBig, notEnvelopes, truncated, indefinite, otherTopic, empty]
    for (const d of bad) {
      expect(isBundle(d)).toBe(true)
      expect(decodeGossipData(d) == null || d === otherTopic).toBe(true)
      if (d !== otherTopic) expect(() => decodeBundle(d)).toThrow(/bundle/)
    }
    for (const d of bad) await a.libp2p.services.pubsub.publish('t', d)
    await waitFor('all rejected', () => rejected.length === bad.length)
    expect(b.history('t')).toEqual([])
    // one point per bad message, decaying slowly
    expect(b.penalties.get(a.peerId)).toBeGreaterThan(bad.length - 0.5)
    // the sender's own genuine messages still arrive afterwards (it is penalised, not yet banned)
    await a.publish('t', 'fine')
    await waitFor('genuine delivered', () => b.history('t').length === 1)
  }, 30_000)
})
