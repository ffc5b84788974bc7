// Build 4 of issue 10: a flooding, lying peer is contained. gossipd's penalties feed gossipsub's peer score
// (graylisting) and past a limit the peer is disconnected and banned; per-peer token buckets leave excess
// valid gossip to sync; honest peers keep exchanging meanwhile.
import { describe, it, expect, afterEach } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { GossipNode } from '../src/core/node.js'
import { sealEnvelope } from '../src/core/envelope.js'
import { gossipScore, SCORE_THRESHOLDS } from '../src/core/stack/scoring.js'
import { startNode, waitFor, addrOf, stopAll, collect } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

describe('peer scoring and rate limits', () => {
  it('one peer floods invalid and valid-but-excess messages while two honest peers exchange', async () => {
    const limits = { peerRate: { perSecond: 200, burst: 400 }, banPoints: 40 }
    const h1 = await startNode({ topics: ['t'], ...limits })
    nodes.push(h1)
    const h2 = await startNode({ topics: ['t'], peers: [addrOf(h1)], ...limits })
    nodes.push(h2)
    const fKey = await generateKeyPair('Ed25519')
    const fId = peerIdFromPrivateKey(fKey).toString()
    const flooder = await startNode({ privateKey: fKey, topics: ['t'], peers: [addrOf(h1), addrOf(h2)] })
    nodes.push(flooder)
    await waitFor('all meshed', () => h1.topics()[0].peers === 2 && h2.topics()[0].peers === 2)
    const at2 = collect(h2, 't')
    const at1 = collect(h1, 't')

    const pubsub = flooder.libp2p.services.pubsub
    const liar = await generateKeyPair('Ed25519')
    const flood = (async () => {
      for (let i = 1; i <= 3_000; i++) {
        // valid, own, far over the rate
        const own = sealEnvelope(fKey, fId, 't', i, Date.now(), new TextEncoder().encode(`flood ${i}`))
        await pubsub.publish('t', own.bytes).catch(() => {})
        // invalid: claims to be h1, signed by another key
        if (i % 10 === 0) {
          const lie = sealEnvelope(liar, h1.peerId, 't', 100_000 + i, Date.now(), new TextEncoder().encode('lie'))
          await pubsub.publish('t', lie.bytes).catch(() => {})
        }
        if (i % 50 === 0) await new Promise(resolve => setImmediate(resolve))
      }
    })()
    const honest = (async () => {
      for (let i = 1; i <= 200; i++) {
        await h1.publish('t', `h1 ${i}`)
        await h2.publish('t', `h2 ${i}`)
        if (i % 20 === 0) await new Promise(resolve => setTimeout(resolve, 20))
      }
    })()
    await Promise.all([flood, honest])
    const honestAt = (got: typeof at1, who: string): number => got.filter(m => new TextDecoder().decode(m.payload).startsWith(who)).length
    await waitFor('honest flow complete both ways', () => honestAt(at2, 'h1 ') === 200 && honestAt(at1, 'h2 ') === 200, 30_000)
    // the flooder: banned and disconnected by both, or at least graylisted by gossipsub
    const contained = (h: GossipNode): boolean => h.isDenied(fId) || gossipScore(h.libp2p.services.pubsub, fId) < SCORE_THRESHOLDS.graylistThreshold
    await waitFor('flooder contained', () => contained(h1) && contained(h2), 10_000)
    expect(h1.isDenied(fId) && h2.isDenied(fId)).toBe(true)
    await waitFor('flooder disconnected', () => !h1.peers().some(p => p.id === fId) && !h2.peers().some(p => p.id === fId))
    expect(h1.status().rejected).toBeGreaterThan(0)
    // no lie was stored anywhere
    expect(h2.history('t', { limit: 10_000 }).some(m => new TextDecoder().decode(m.payload) === 'lie')).toBe(false)
  }, 60_000)
})
