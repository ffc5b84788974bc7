import { describe, it, expect, afterEach } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { GossipNode } from '../src/core/node.js'
import { sealEnvelope, encodeEnvelope, decodeEnvelope, verifyEnvelope } from '../src/core/envelope.js'
import { startNode, waitFor, addrOf, stopAll, collect, text } from './helpers.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

/** publish raw bytes on a node's gossipsub, bypassing gossipd's own publish path (an attacker's view) */
async function gossipRaw (node: GossipNode, topic: string, bytes: Uint8Array): Promise<void> {
  await node.libp2p.services.pubsub.publish(topic, bytes)
}

describe('envelope signatures', () => {
  it('verifies a genuine envelope and rejects tampering and origin spoofing', async () => {
    const key = await generateKeyPair('Ed25519')
    const other = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    const { bytes } = sealEnvelope(key, origin, 't', 1, Date.now(), new TextEncoder().encode('hi'))
    const env = decodeEnvelope(bytes)
    expect(await verifyEnvelope(env)).toBe(true)
    // tampering means changing the bytes on the wire: re-encode with one field changed, keep the signature
    const tampered = (change: Partial<typeof env>): typeof env => decodeEnvelope(encodeEnvelope({ ...env, ...change }))
    expect(await verifyEnvelope(tampered({}))).toBe(true)
    expect(await verifyEnvelope(tampered({ payload: new TextEncoder().encode('ho') }))).toBe(false)
    expect(await verifyEnvelope(tampered({ seq: 2 }))).toBe(false)
    expect(await verifyEnvelope(tampered({ topic: 'other' }))).toBe(false)
    expect(await verifyEnvelope(tampered({ sig: new Uint8Array(64) }))).toBe(false)
    // the chain link is signed too: a message cannot be re-attached to another history
    expect(await verifyEnvelope(tampered({ prev: new Uint8Array(32) }))).toBe(false)
    // signed by another key but claiming `origin`
    const spoof = sealEnvelope(other, origin, 't', 1, Date.now(), new TextEncoder().encode('hi'))
    expect(await verifyEnvelope(decodeEnvelope(spoof.bytes))).toBe(false)
    expect(() => decodeEnvelope(new Uint8Array([1, 2, 3]))).toThrow(/envelope|CBOR/)
  })

  it('a node rejects forged envelopes arriving by gossip and stores none of them; the genuine message still arrives', async () => {
    const a = await startNode({ topics: ['secure'] })
    const b = await startNode({ topics: ['secure'], peers: [addrOf(a)] })
    nodes = [a, b]
    await waitFor('meshed', () => a.topics()[0].peers === 1 && b.topics()[0].peers === 1)
    const rejected: string[] = []
    b.on('rejected', r => rejected.push(r.reason))
    const got = collect(b, 'secure')

    const attacker = await generateKeyPair('Ed25519')
    // 1. claims to come from a (origin a), signed with the attacker's key, using a's next seq
    const forged = sealEnvelope(attacker, a.peerId, 'secure', 1, Date.now(), new TextEncoder().encode('forged'))
    await gossipRaw(a, 'secure', forged.bytes)
    // 2. a genuine envelope of the attacker with its payload altered after signing
    const attackerId = peerIdFromPrivateKey(attacker).toString()
    const real = sealEnvelope(attacker, attackerId, 'secure', 1, Date.now(), new TextEncoder().encode('original'))
    await gossipRaw(a, 'secure', encodeEnvelope({ ...real.envelope, payload: new TextEncoder().encode('altered') }))
    // 3. not an envelope at all
    await gossipRaw(a, 'secure', new TextEncoder().encode('garbage'))
    await waitFor('three rejections', () => rejected.length === 3)
    expect(b.history('secure')).toEqual([])
    // all three counted, the one that is not an envelope too (status and metric read the same count)
    expect(b.status().rejected).toBe(3)

    // a's real seq 1 (same id as the forgery) is still delivered, by gossip or by sync
    await a.publish('secure', 'genuine')
    await waitFor('genuine delivered', () => got.length === 1)
    expect(text(got[0])).toBe('genuine')
    expect(got[0].origin).toBe(a.peerId)
    expect(b.history('secure').map(text)).toEqual(['genuine'])
  })
})

describe('banning a flooder', () => {
  it('one gossip RPC of thousands of forgeries bans the sender once: one log line, one event', async () => {
    const lines: string[] = []
    const victim = await startNode({ topics: ['t'], log: (level, msg) => { lines.push(`${level} ${msg}`) } })
    const flooder = await startNode({ topics: ['t'], peers: [addrOf(victim)] })
    nodes = [victim, flooder]
    await waitFor('meshed', () => victim.topics()[0].peers >= 1)
    const bans: unknown[] = []
    victim.on('rejected', (e: { banned?: boolean }) => { if (e.banned === true) bans.push(e) })
    // envelopes claiming the victim's own origin, signed by another key: every one is invalid
    const liar = await generateKeyPair('Ed25519')
    const messages = Array.from({ length: 2_000 }, (_, i) => ({ topic: 't', data: sealEnvelope(liar, victim.peerId, 't', 100_000 + i, Date.now(), new TextEncoder().encode('lie')).bytes }))
    ;(flooder.libp2p.services.pubsub as unknown as { sendRpc: (to: string, rpc: unknown) => boolean }).sendRpc(victim.peerId, { subscriptions: [], messages })
    await waitFor('banned', () => victim.isDenied(flooder.peerId), 10_000)
    await waitFor('the RPC handled', () => victim.status().rejected >= 60, 10_000)
    // let the rest of the RPC's messages finish validating
    await new Promise(resolve => setTimeout(resolve, 1_000))
    expect(lines.filter(l => l === 'warn peer banned')).toHaveLength(1)
    expect(bans).toHaveLength(1)
  })
})

describe('gossip on topics a node does not keep', () => {
  it('is dropped unread and counted, not held in gossipsub\'s message cache; joined topics still flow', async () => {
    const victim = await startNode({ topics: ['t'] })
    const sender = await startNode({ topics: ['t'], peers: [addrOf(victim)] })
    nodes = [victim, sender]
    await waitFor('meshed', () => victim.topics()[0].peers >= 1)
    const pubsub = sender.libp2p.services.pubsub as unknown as { sendRpc: (to: string, rpc: unknown) => boolean }
    for (let i = 0; i < 5; i++) {
      const messages = Array.from({ length: 4 }, (_, k) => { const d = new Uint8Array(200_000); d[0] = i; d[1] = k; return { topic: 'not-joined', data: d } })
      pubsub.sendRpc(victim.peerId, { subscriptions: [], messages })
    }
    // 4 MB on loopback: handled well within a second
    await new Promise(resolve => setTimeout(resolve, 1_000))
    const cache = (victim.libp2p.services.pubsub as unknown as { mcache: { msgs: Map<string, { message: { topic: string } }> } }).mcache.msgs
    expect([...cache.values()].filter(m => m.message.topic === 'not-joined')).toHaveLength(0)
    await waitFor('counted', () => victim.status().gossipDroppedUnjoined === 20, 10_000)
    const got = collect(victim, 't')
    await sender.publish('t', 'still flows')
    await waitFor('a joined topic still delivers', () => got.length === 1, 10_000)
  })
})

describe('nodes with different payload limits', () => {
  it('a node with a smaller maxPayloadBytes refuses larger messages, counts them, and does not ban the honest peer that has them', async () => {
    const a = await startNode({ topics: ['t'] })
    nodes = [a]
    for (let i = 0; i < 60; i++) await a.publish('t', new Uint8Array(2048).fill(i))
    const b = await startNode({ topics: ['t'], peers: [addrOf(a)], maxPayloadBytes: 1024 })
    nodes.push(b)
    await waitFor('refused and counted', () => b.status().rejected >= 60, 10_000)
    await a.publish('t', 'small enough')
    await waitFor('a small message still arrives', () => b.history('t').some(m => m.payload.byteLength < 100), 10_000)
    expect(b.isDenied(a.peerId)).toBe(false)
    expect(b.penalties.get(a.peerId)).toBe(0)
  })
})
