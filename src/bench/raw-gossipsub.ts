// The baseline: plain gossipsub on the same libp2p stack as gossipd (createBaselineSwarm in core/stack/libp2p.ts),
// stock options (StrictSign: gossipsub signs every message and every receiver verifies it), no store.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { createBaselineSwarm, type SwarmHost } from '../core/stack/libp2p.js'
import { TOPIC, until, meshPeers, meshTarget, type Cluster } from './cluster.js'

export async function startRawHost (): Promise<SwarmHost> {
  return await createBaselineSwarm({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
}

/** A raw host's loopback address with /p2p/, for the others to dial. */
export function rawLoopbackAddr (host: SwarmHost): string {
  const a = host.getMultiaddrs().find(x => x.toString().includes('/127.0.0.1/'))
  if (a == null) throw new Error('host has no loopback address')
  return a.toString()
}

export async function createRawCluster (size: number): Promise<Cluster> {
  const hosts: SwarmHost[] = []
  for (let i = 0; i < size; i++) hosts.push(await startRawHost())
  const delivered = new Array<number>(size - 1).fill(0)
  const drops = { peerDisconnect: 0, connectionClose: 0 }
  let ready = false
  const cluster: Cluster = {
    impl: 'raw',
    size,
    delivered,
    drops,
    publish: async payload => await hosts[0].services.pubsub.publish(TOPIC, payload),
    extra: () => ({}),
    stop: async () => { ready = false; await Promise.all(hosts.map(async h => await h.stop())) },
  }
  hosts.forEach((h, i) => {
    h.services.pubsub.subscribe(TOPIC)
    h.addEventListener('peer:disconnect', () => { if (ready) drops.peerDisconnect++ })
    h.addEventListener('connection:close', () => { if (ready) drops.connectionClose++ })
    if (i === 0) return
    h.services.pubsub.addEventListener('message', evt => {
      if (evt.detail.topic !== TOPIC) return
      delivered[i - 1]++
      cluster.onDeliver?.(i - 1, evt.detail.data)
    })
  })
  // full mesh: every node dials every earlier one
  for (let i = 1; i < size; i++) {
    for (let j = 0; j < i; j++) {
      await hosts[i].dial(multiaddr(rawLoopbackAddr(hosts[j])))
    }
  }
  const meshed = await until(() => hosts.every(h => meshPeers(h.services.pubsub, TOPIC) >= meshTarget(size)), 15_000)
  if (!meshed) throw new Error('raw cluster: gossipsub mesh did not form within 15 s')
  ready = true
  return cluster
}
