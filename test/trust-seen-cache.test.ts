// Defect 2 of issue 10 (seen-cache poisoning): gossip message ids are a hash of the envelope bytes, so a
// forged copy sent first cannot make gossipsub drop the genuine copy as already seen.
import { describe, it, expect, afterEach } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { GossipNode, ReceivedMessage } from '../src/core/node.js'
import { sealEnvelope } from '../src/core/envelope.js'
import { startNode, waitFor, addrOf, stopAll } from './helpers.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

describe('seen-cache poisoning', () => {
  it('a forged copy of (origin, topic, seq) sent first does not suppress the genuine gossip copy', async () => {
    // background sync effectively off: the genuine message must come by gossip
    const a = await startNode({ topics: ['s'], syncIntervalMs: 600_000 })
    const b = await startNode({ topics: ['s'], peers: [addrOf(a)], syncIntervalMs: 600_000 })
    nodes = [a, b]
    await waitFor('meshed', () => a.topics()[0].peers === 1 && b.topics()[0].peers === 1)
    // let the catch-up sync that runs on connect finish before anything is published
    await new Promise(resolve => setTimeout(resolve, 500))
    const rejected: string[] = []
    b.on('rejected', r => rejected.push(r.reason))
    const got: ReceivedMessage[] = []
    b.on('message', m => got.push(m))

    const attacker = await generateKeyPair('Ed25519')
    // same (origin a, topic, seq 1) as a's next message, signed with the wrong key
    const forged = sealEnvelope(attacker, a.peerId, 's', 1, Date.now(), new TextEncoder().encode('forged'))
    await a.libp2p.services.pubsub.publish('s', forged.bytes)
    await waitFor('forgery rejected', () => rejected.length === 1)

    await a.publish('s', 'genuine')
    await waitFor('genuine delivered', () => got.length === 1, 5_000)
    expect(got[0].source).toBe('gossip')
    expect(new TextDecoder().decode(got[0].payload)).toBe('genuine')
    expect(got[0].origin).toBe(a.peerId)
  })
})
