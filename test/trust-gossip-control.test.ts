// gossipsub's control plane sent by a hostile peer that completed Noise/yamux (a compromised LAN device).
import { describe, it, expect, afterEach } from 'vitest'
import { createServer, type Server } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import type { GossipNode } from '../src/core/node.js'
import { startNode, waitFor, addrOf, stopAll } from './helpers.js'
import { TOPIC_TAG_PREFIX } from '../src/core/stack/peer-tags.js'

let nodes: GossipNode[] = []
const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) s.close()
  await stopAll(nodes.splice(0))
})

/** gossipsub-internal: send a raw RPC to a peer on the node's own gossipsub stream */
interface RawRpc { sendRpc: (id: string, rpc: object) => boolean, getScore: (id: string) => number }
const raw = (n: GossipNode): RawRpc => n.libp2p.services.pubsub as unknown as RawRpc

describe('gossipsub control from a hostile peer', () => {
  it('a PRUNE with peer-exchange records does not make the node dial the addresses in them', async () => {
    // the attacker-chosen address: a plain TCP listener counting the connections made to it
    let dials = 0
    const trap = createServer(s => { dials++; s.destroy() })
    servers.push(trap)
    await new Promise<void>(resolve => trap.listen(0, '127.0.0.1', resolve))
    const port = (trap.address() as { port: number }).port

    const victim = await startNode({ topics: ['t', 'u'], syncIntervalMs: 600_000 })
    const hostile = await startNode({ topics: ['t', 'u'], peers: [addrOf(victim)], syncIntervalMs: 600_000 })
    nodes = [victim, hostile]
    await waitFor('meshed', () => victim.meshPeers('t').includes(hostile.peerId) && victim.meshPeers('u').includes(hostile.peerId))
    // first deliveries of valid messages earn a peer score: enough of them reach gossipsub's acceptPXThreshold
    let i = 0
    await waitFor('hostile scored 10 or more at the victim', async () => {
      for (let k = 0; k < 5; k++) { await hostile.publish('t', `m${i}`); await hostile.publish('u', `m${i++}`) }
      return raw(victim).getScore(hostile.peerId) >= 10
    }, 20_000)

    // 16 peer-exchange records, each for a fresh peer id, validly signed, all pointing at the trap
    const peers = []
    for (let k = 0; k < 16; k++) {
      const key = await generateKeyPair('Ed25519')
      const id = peerIdFromPrivateKey(key)
      const env = await RecordEnvelope.seal(new PeerRecord({ peerId: id, multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${port}`)] }), key)
      peers.push({ peerID: id.toMultihash().bytes, signedPeerRecord: env.marshal() })
    }
    expect(raw(hostile).sendRpc(victim.peerId, { subscriptions: [], messages: [], control: { ihave: [], iwant: [], graft: [], idontwant: [], prune: [{ topicID: 't', peers, backoff: 1 }] } })).toBe(true)
    await new Promise(resolve => setTimeout(resolve, 3_000))
    expect({ dials, scoreAtPrune: raw(victim).getScore(hostile.peerId) >= 10 }).toEqual({ dials: 0, scoreAtPrune: true })
  })

  it('a peer churning subscribe/unsubscribe of a shared topic costs a bounded number of peer-store writes', async () => {
    const victim = await startNode({ topics: ['t'], syncIntervalMs: 600_000 })
    const hostile = await startNode({ topics: ['t'], peers: [addrOf(victim)], syncIntervalMs: 600_000 })
    nodes = [victim, hostile]
    await waitFor('meshed', () => victim.meshPeers('t').includes(hostile.peerId))
    const store = victim.libp2p.peerStore
    let merges = 0
    const merge = store.merge.bind(store)
    store.merge = async (...a: Parameters<typeof merge>) => { merges++; return await merge(...a) }
    // 5 RPCs of 5,000 alternating subscribe/unsubscribe of the topic both keep (35 KB each), ending subscribed
    for (let r = 0; r < 5; r++) {
      const subscriptions = Array.from({ length: 5_000 }, (_, i) => ({ topic: 't', subscribe: i % 2 === 1 }))
      expect(raw(hostile).sendRpc(victim.peerId, { subscriptions, messages: [] })).toBe(true)
    }
    await new Promise(resolve => setTimeout(resolve, 3_000))
    expect(merges).toBeLessThanOrEqual(10)
    // the last word counts: the peer ended subscribed, so it is still valued for the shared topic
    expect((await store.get(hostile.libp2p.peerId)).tags.has(TOPIC_TAG_PREFIX + 't')).toBe(true)
  })
})
