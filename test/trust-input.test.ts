// Defect 1 of issue 10 (poison pill): every envelope field is checked when it is decoded, and nothing that
// renders a message can throw, so one validly signed message cannot break a topic.
import { describe, it, expect, afterEach } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { GossipNode } from '../src/core/node.js'
import { sealEnvelope, decodeEnvelope } from '../src/core/envelope.js'
import { toMessageJson } from '../src/wire/message.js'
import { formatMessage, messageLine } from '../src/wire/format.js'
import { startNode, waitFor, addrOf, stopAll, collect, text } from './helpers.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('poison pill: envelope fields are validated at decode', () => {
  it('refuses timestamps outside years 2000..2200 and topics no API could name', async () => {
    const key = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    for (const ts of [8.64e15 + 1, Number.MAX_SAFE_INTEGER, -1, 0, Date.UTC(2300, 0, 1)]) {
      const { bytes } = sealEnvelope(key, origin, 't', 1, ts, enc('x'))
      expect(() => decodeEnvelope(bytes), `ts ${ts}`).toThrow(/ts/)
    }
    expect(decodeEnvelope(sealEnvelope(key, origin, 't', 1, Date.now(), enc('x')).bytes).ts).toBeGreaterThan(0)
    expect(() => decodeEnvelope(sealEnvelope(key, origin, '../x', 1, Date.now(), enc('x')).bytes)).toThrow(/topic/)
    expect(() => decodeEnvelope(sealEnvelope(key, '\u001b[31m', 't', 1, Date.now(), enc('x')).bytes)).toThrow(/origin/)
  })

  it('rendering never throws, whatever a row holds', () => {
    const m = toMessageJson({ offset: 1, topic: 't', origin: 'o', seq: 1, ts: 8.64e15 + 1, payload: enc('x') }, 'o:t:1')
    expect(m.time).toBe('invalid-time')
    expect(() => formatMessage(m)).not.toThrow()
    expect(() => messageLine(m, true)).not.toThrow()
  })

  it('a signed envelope with an absurd ts is rejected at the boundary; the topic keeps working', async () => {
    const a = await startNode({ topics: ['p'] })
    const b = await startNode({ topics: ['p'], peers: [addrOf(a)] })
    nodes = [a, b]
    await waitFor('meshed', () => a.topics()[0].peers === 1 && b.topics()[0].peers === 1)
    const rejected: string[] = []
    b.on('rejected', r => rejected.push(r.reason))
    const got = collect(b, 'p')
    const attacker = await generateKeyPair('Ed25519')
    const poison = sealEnvelope(attacker, peerIdFromPrivateKey(attacker).toString(), 'p', 1, 8.64e15 + 1, enc('poison'))
    await a.libp2p.services.pubsub.publish('p', poison.bytes)
    await waitFor('poison rejected', () => rejected.length === 1)
    await a.publish('p', 'after')
    await waitFor('genuine delivered', () => got.length === 1)
    expect(b.history('p').map(text)).toEqual(['after'])
    expect(() => b.history('p').map(m => toMessageJson(m, 'x'))).not.toThrow()
  })
})
