// What one peer can make a node keep in its peer store (attacker review, q3 probe): each fresh peer id
// answered identify with 10 length-prefixed messages (listen addresses and protocols by the thousand) and
// left. The node kept every one of them, 2,500 addresses and 350 protocols each (~82 KB a peer), until
// libp2p's peer-store expiry (1 h for addresses, 6 h for peers, and only when the store is read); the
// keeper's top-up read the whole store every second while short of peers (1 s of CPU a read with 100).
// 127.0.0.1 only, mDNS off.
import { it, expect, afterEach } from 'vitest'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { pbStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { Identify } from '../node_modules/@libp2p/identify/dist/src/pb/message.js'
import { startNode, stopAll, waitFor } from './helpers.js'
import type { GossipNode } from '../src/core/node.js'

const nodes: GossipNode[] = []
const attackers: Libp2p[] = []
afterEach(async () => {
  await Promise.allSettled(attackers.splice(0).map(async a => await a.stop()))
  await stopAll(nodes.splice(0))
})

/** per message: 150 TCP addresses (~1.7 KB) and 20 protocols (~1.5 KB), under any sane size limit, 10 times over */
async function bloatedIdentifier (k: { n: number }): Promise<Libp2p> {
  const a = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    services: { identify: identify() },
  })
  attackers.push(a)
  await a.unhandle('/ipfs/id/1.0.0')
  await a.handle('/ipfs/id/1.0.0', async (stream: Stream) => {
    const pb = pbStream(stream).pb(Identify)
    for (let m = 0; m < 10; m++) {
      const listenAddrs: Uint8Array[] = []
      for (let j = 0; j < 150; j++) { k.n++; listenAddrs.push(multiaddr(`/ip4/10.${(k.n >> 16) & 255}.${(k.n >> 8) & 255}.${k.n & 255}/tcp/${1000 + j}`).bytes) }
      const protocols = Array.from({ length: 20 }, (_, j) => `/x/${m}/${j}/${'p'.repeat(60)}`)
      await pb.write({ protocolVersion: 'v'.repeat(100), agentVersion: 'a'.repeat(200), publicKey: publicKeyToProtobuf(a.peerId.publicKey!), listenAddrs, protocols })
    }
    await stream.close()
  }, { runOnLimitedConnection: true })
  return a
}

it('keeps a few addresses and protocols of a peer, and nothing of a stranger once it has left', async () => {
  const node = await startNode()
  nodes.push(node)
  const h = node.libp2p
  const target = h.getMultiaddrs()[0]
  const k = { n: 0 }
  const N = 12
  for (let i = 0; i < N; i++) {
    const a = await bloatedIdentifier(k)
    const identified = new Promise(resolve => {
      const f = (e: CustomEvent<{ peerId: { equals: (p: unknown) => boolean } }>): void => {
        if (e.detail.peerId.equals(a.peerId)) { h.removeEventListener('peer:identify', f); resolve(true) }
      }
      h.addEventListener('peer:identify', f)
    })
    await a.dial(target)
    await Promise.race([identified, new Promise(resolve => setTimeout(resolve, 3_000))])
    // what the node keeps of it while it is connected
    const kept = await h.peerStore.get(a.peerId).catch(() => undefined)
    expect(kept?.addresses.length ?? 0, 'addresses kept of one peer').toBeLessThanOrEqual(16)
    expect(kept?.protocols.length ?? 0, 'protocols kept of one peer').toBeLessThanOrEqual(32)
    await a.stop()
  }
  await waitFor('attackers gone', () => h.getConnections().length === 0, 10_000)
  // strangers (no shared topic, not static, not discovered) are let go of as they leave
  const ids = new Set(attackers.map(a => a.peerId.toString()))
  await waitFor('strangers deleted from the peer store', async () => (await h.peerStore.all()).filter(p => ids.has(p.id.toString())).length === 0, 5_000)
    .catch(async err => {
      const left = (await h.peerStore.all()).filter(p => ids.has(p.id.toString()))
      throw new Error(`${err.message}: ${left.length} of ${N} strangers still in the peer store`)
    })
}, 90_000)
