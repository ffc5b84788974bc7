// Build 3 of issue 10: per-topic publisher allowlists, enforced by every node on gossip and on sync. A
// publisher not on the list gets nothing in (dropped, counted, its relay penalised) and nothing out (no
// node with the list stores or relays it, so nodes behind them never see it).
import { describe, it, expect, afterEach } from 'vitest'
import type { GossipNode } from '../src/core/node.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { startNode, waitFor, addrOf, stopAll, collect, text } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

describe('publisher allowlists', () => {
  it('only allowed origins get through, by gossip and by sync; the relaying peer is penalised', async () => {
    const aKey = await generateKeyPair('Ed25519')
    const a = peerIdFromPrivateKey(aKey).toString()
    const policy = { secret: [a] }
    // c enforces the list; rogue does not (it is the unauthorised publisher), d sits behind c without a list
    const c = await startNode({ topics: ['secret', 'open'], publishers: policy })
    nodes.push(c)
    const rogue = await startNode({ topics: ['secret', 'open'], peers: [addrOf(c)] })
    nodes.push(rogue)
    // published before anyone can gossip it to c: reaches c only by sync
    await rogue.publish('secret', 'rogue by sync')
    const allowed = await startNode({ privateKey: aKey, topics: ['secret'], publishers: policy, peers: [addrOf(c)] })
    nodes.push(allowed)
    const d = await startNode({ topics: ['secret', 'open'], peers: [addrOf(c)] })
    nodes.push(d)
    const atC = collect(c, 'secret')
    const atD = collect(d, 'secret')
    await waitFor('meshed', () => c.topics().find(t => t.topic === 'secret')!.peers === 3)
    await rogue.publish('secret', 'rogue by gossip')
    await allowed.publish('secret', 'allowed')
    await rogue.publish('open', 'open topic is open')
    await waitFor('allowed delivered to c and d', () => atC.length === 1 && atD.length === 1)
    await waitFor('open topic reaches d', () => d.history('open').length === 1)
    // a few sync rounds: nothing of the rogue's on secret ever lands on c or d
    await new Promise(resolve => setTimeout(resolve, 2_500))
    expect(atC.map(text)).toEqual(['allowed'])
    expect(atD.map(text)).toEqual(['allowed'])
    expect(c.history('secret').map(text)).toEqual(['allowed'])
    expect(c.status().unauthorized).toBeGreaterThanOrEqual(2)
    expect(c.penalties.get(rogue.peerId)).toBeGreaterThan(0)
    expect(c.penalties.get(allowed.peerId)).toBe(0)
    // a node on the list refuses its own publish to a topic it may not publish on
    await expect(c.publish('secret', 'not me')).rejects.toMatchObject({ code: 'PUBLISHER_NOT_ALLOWED' })
    // reloadable: allow the rogue, and its next message gets through
    c.setPublishers({ secret: [a, rogue.peerId] })
    await rogue.publish('secret', 'now allowed')
    await waitFor('rogue allowed now', () => atC.some(m => text(m) === 'now allowed'))
  })
})
