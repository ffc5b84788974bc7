// gossipd as a service inside libp2p nodes the test builds itself (as an application would): a durable
// message goes from one to the other by gossip, and one published while the other was down reaches it by
// sync once it restarts with the same key and data dir.
import { describe, it, expect, afterEach } from 'vitest'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { gossipd, type GossipdService, type GossipdServiceInit } from '../src/core/service.js'
import { gossipOptions } from '../src/core/stack/gossip.js'
import { tempDir, removeTempDirs, waitFor, text } from './helpers.js'
import type { ReceivedMessage } from '../src/core/events.js'
import { GossipNode } from '../src/core/node.js'
import { createSwarm } from '../src/core/stack/libp2p.js'
import { SYNC_PROTOCOL } from '../src/core/sync/protocol.js'
import { TOPIC_TAG_PREFIX } from '../src/core/stack/peer-tags.js'

type Host = Libp2p<{ identify: unknown, pubsub: GossipSub, gossipd: GossipdService }>

const hosts: Host[] = []
afterEach(async () => {
  await Promise.allSettled(hosts.splice(0).map(async h => await h.stop()))
  removeTempDirs()
})

async function host (privateKey: PrivateKey, init: GossipdServiceInit): Promise<Host> {
  const h = await createLibp2p({
    privateKey,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      pubsub: gossipsub(gossipOptions()),
      gossipd: gossipd({ synchronous: 'NORMAL', syncIntervalMs: 60_000, ...init }),
    },
  })
  hosts.push(h)
  return h
}

describe('gossipd as a libp2p service', () => {
  it('carries a durable message by gossip, and one missed while down by sync after a restart', async () => {
    const [aKey, bKey] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
    const bDir = tempDir()
    const a = await host(aKey, { dataDir: tempDir(), topics: ['t'] })
    let b = await host(bKey, { dataDir: bDir, topics: ['t'] })
    expect(a.services.gossipd.node.peerId).toBe(a.peerId.toString())
    await b.dial(a.getMultiaddrs()[0])
    await waitFor('meshed', () => a.services.gossipd.node.topics()[0].peers === 1 && b.services.gossipd.node.topics()[0].peers === 1)

    const first: ReceivedMessage[] = []
    b.services.gossipd.node.on('message', m => first.push(m))
    await a.services.gossipd.node.publish('t', 'live')
    await waitFor('live message stored by b', () => first.length === 1)
    expect(first[0]).toMatchObject({ origin: a.peerId.toString(), seq: 1, source: 'gossip' })

    await b.stop()
    await a.services.gossipd.node.publish('t', 'while b was down')

    // the same key and data dir: b's queue survives, and gossip is dropped so only sync can bring it
    b = await host(bKey, { dataDir: bDir, dropInbound: (_e, _f, source) => source === 'gossip' })
    const later: ReceivedMessage[] = []
    b.services.gossipd.node.on('message', m => later.push(m))
    await b.dial(a.getMultiaddrs()[0])
    await waitFor('missed message pulled by b', () => later.length === 1)
    expect(later[0]).toMatchObject({ origin: a.peerId.toString(), seq: 2, source: 'sync' })
    expect(b.services.gossipd.node.history('t').map(text)).toEqual(['live', 'while b was down'])
  })

  it('stops and starts again with its libp2p node, rejoining its topics', async () => {
    const a = await host(await generateKeyPair('Ed25519'), { dataDir: tempDir(), topics: ['t'] })
    const b = await host(await generateKeyPair('Ed25519'), { dataDir: tempDir(), topics: ['t'] })
    await b.dial(a.getMultiaddrs()[0])
    await waitFor('meshed', () => a.services.gossipd.node.topics()[0].peers === 1)
    await b.stop()
    expect(b.services.gossipd.node.isRunning).toBe(false)
    await a.services.gossipd.node.publish('t', 'while b was down')
    await b.start()
    await b.dial(a.getMultiaddrs()[0])
    await waitFor('b caught up', () => b.services.gossipd.node.history('t').length === 1)
    await waitFor('b subscribed again', () => a.services.gossipd.node.topics()[0].peers === 1)
    await a.services.gossipd.node.publish('t', 'after the restart')
    // by gossip at once, normally; under CI load it once took over 20 s (not reproduced in 10 runs): gossipsub
    // may hold a restarted peer out of its mesh while its score recovers, and then the next anti-entropy
    // pull (5-30 s, idle backoff) brings it. Either shows b rejoined the topic
    await waitFor('the message reaches b again', () => b.services.gossipd.node.history('t').length === 2, 45_000)
    expect(b.services.gossipd.node.history('t').map(text)).toEqual(['while b was down', 'after the restart'])
  })
})

describe('a GossipNode given its libp2p node', () => {
  it('runs on it and leaves it running, without its protocol, when the node stops', async () => {
    const key = await generateKeyPair('Ed25519')
    const swarm = await createSwarm({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, gossip: gossipOptions() })
    try {
      await expect(new GossipNode({ dataDir: tempDir(), synchronous: 'NORMAL' }, { libp2p: swarm }).start()).rejects.toThrow(/another peer id/)
      const node = await new GossipNode({ dataDir: tempDir(), privateKey: key, synchronous: 'NORMAL', topics: ['t'] }, { libp2p: swarm }).start()
      expect(node.libp2p).toBe(swarm)
      expect(swarm.getProtocols()).toContain(SYNC_PROTOCOL)
      expect((await node.publish('t', 'x')).origin).toBe(swarm.peerId.toString())
      await node.stop()
      expect(swarm.status).toBe('started')
      expect(swarm.getProtocols()).not.toContain(SYNC_PROTOCOL)
      expect(swarm.services.pubsub.getTopics()).not.toContain('t')
    } finally {
      await swarm.stop()
    }
  })

  it('takes its peer-store tags off the libp2p node when it stops', async () => {
    const key = await generateKeyPair('Ed25519')
    const swarm = await createSwarm({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, gossip: gossipOptions() })
    const topics = ['t', 'u', 'v']
    const other = await new GossipNode({ dataDir: tempDir(), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, synchronous: 'NORMAL', topics }).start()
    try {
      const node = await new GossipNode({ dataDir: tempDir(), privateKey: key, synchronous: 'NORMAL', topics }, { libp2p: swarm }).start()
      await swarm.dial(other.libp2p.getMultiaddrs()[0])
      const tags = async (): Promise<string[]> => [...(await swarm.peerStore.get(other.libp2p.peerId)).tags.keys()].filter(t => t.startsWith(TOPIC_TAG_PREFIX))
      await waitFor('the shared topics tagged', async () => (await tags()).length === 3)
      // one peer-store write per peer at stop, not one per tag (1,100 topics: 9 s to stop)
      let merges = 0
      const merge = swarm.peerStore.merge.bind(swarm.peerStore)
      swarm.peerStore.merge = async (...args: Parameters<typeof merge>) => {
        if (Object.keys(args[1].tags ?? {}).some(t => t.startsWith('gossipd-'))) merges++
        return await merge(...args)
      }
      await node.stop()
      // the connection manager of the caller's node would go on valuing the peer for a topic nobody keeps
      await waitFor('gossipd\'s tags gone', async () => (await tags()).length === 0, 3_000)
      expect(merges).toBe(1)
    } finally {
      await other.stop()
      await swarm.stop()
    }
  })

  it('a node restarted on the same libp2p node tags its still-connected static peer again', async () => {
    const key = await generateKeyPair('Ed25519')
    const swarm = await createSwarm({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, gossip: gossipOptions() })
    const other = await new GossipNode({ dataDir: tempDir(), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, synchronous: 'NORMAL', topics: ['t'] }).start()
    const opts = { privateKey: key, synchronous: 'NORMAL' as const, topics: ['t'], peers: [other.libp2p.getMultiaddrs()[0].toString()] }
    const tags = async (): Promise<string[]> => {
      try { return [...(await swarm.peerStore.get(other.libp2p.peerId)).tags.keys()].filter(t => t.startsWith('gossipd-')) } catch { return [] }
    }
    try {
      const first = await new GossipNode({ ...opts, dataDir: tempDir() }, { libp2p: swarm }).start()
      await waitFor('static peer tagged', async () => (await tags()).includes('gossipd-static'))
      await first.stop()
      await waitFor('tags gone', async () => (await tags()).length === 0, 3_000)
      // the connection outlived the node: no new peer:connect, yet it is still a static peer to protect
      const second = await new GossipNode({ ...opts, dataDir: tempDir() }, { libp2p: swarm }).start()
      try {
        expect(swarm.getConnections(other.libp2p.peerId).length).toBeGreaterThan(0)
        await waitFor('static peer tagged again', async () => (await tags()).includes('gossipd-static'), 8_000)
      } finally {
        await second.stop()
      }
    } finally {
      await other.stop()
      await swarm.stop()
    }
  }, 20_000)

  it('hands its gossipsub\'s peer-score upkeep back when the node stops (scores keep decaying)', async () => {
    const key = await generateKeyPair('Ed25519')
    const swarm = await createSwarm({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, gossip: gossipOptions() })
    try {
      const score = (swarm.services.pubsub as unknown as { score: { background: () => void } }).score
      let refreshes = 0
      const background = score.background.bind(score)
      score.background = () => { refreshes++; background() }
      for (let i = 0; i < 2; i++) {
        const node = await new GossipNode({ dataDir: tempDir(), privateKey: key, synchronous: 'NORMAL' }, { libp2p: swarm }).start()
        await node.stop()
      }
      // the node ran the refresh from heartbeats in place of gossipsub's timer; without the node, the
      // caller's gossipsub must refresh on its own again (decay of penalties, score cache)
      refreshes = 0
      await waitFor('peer-score refreshed after the node stopped', () => refreshes >= 2, 5_000)
    } finally {
      await swarm.stop()
    }
  })
})
