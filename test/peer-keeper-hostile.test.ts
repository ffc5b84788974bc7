// Discovery on a hostile LAN: a device answers every mDNS query at once (ahead of honest nodes' 20-120 ms
// delay) with made-up peers whose addresses accept TCP and never speak (a tarpit). Two honest nodes must
// still connect within seconds. On the old keeper each such dial held one of the 8 dial slots for libp2p's
// 10 s, an honest peer announced meanwhile was dropped, and the top-up picked at random from a peer store
// full of fakes: the reviewer's honest pair never connected within 40 s.
// No multicast: discovery is injected, in-process (a fake host first, then real nodes and a real tarpit).
import { it, expect, afterEach } from 'vitest'
import { createServer, type Server, type Socket } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import { PeerKeeper } from '../src/core/stack/peers.js'
import type { SwarmHost } from '../src/core/stack/libp2p.js'
import { startNode, stopAll, waitFor, addrOf } from './helpers.js'
import type { GossipNode } from '../src/core/node.js'

async function newPeerId (): Promise<PeerId> { return peerIdFromPrivateKey(await generateKeyPair('Ed25519')) }

/** n peer ids sorting after `self`, so `self` dials them at once (no tie-break wait) */
async function idsAfter (self: PeerId, n: number): Promise<PeerId[]> {
  const out: PeerId[] = []
  while (out.length < n) {
    const id = await newPeerId()
    if (id.toString() > self.toString()) out.push(id)
  }
  return out
}

async function smallestId (n: number): Promise<PeerId> {
  const ids = await Promise.all(Array.from({ length: n }, async () => await newPeerId()))
  return ids.sort((a, b) => a.toString() < b.toString() ? -1 : 1)[0]
}

const stops: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const s of stops.splice(0).reverse()) await s() })

/**
 * A host whose dials to `honest` connect after 20 ms and whose dials to anyone else hang until aborted (a
 * tarpit), with the peer store libp2p would keep (every announced peer).
 */
function fakeHost (self: PeerId, honestPeers: PeerId | PeerId[], handshakeMs = 20): { host: SwarmHost, announce: (id: PeerId, addr: string | string[]) => void, dialed: string[], store: Map<string, unknown>, open: Set<string>, inFlight: { now: number, max: number } } {
  const honest = Array.isArray(honestPeers) ? honestPeers : [honestPeers]
  const inFlight = { now: 0, max: 0 }
  const listeners = new Map<string, Set<(e: CustomEvent) => void>>()
  const open = new Set<string>()
  const store = new Map<string, { id: PeerId, addresses: Array<{ multiaddr: ReturnType<typeof multiaddr> }>, tags: Map<string, unknown> }>()
  const dialed: string[] = []
  const emit = (type: string, detail: unknown): void => { for (const l of listeners.get(type) ?? []) l(new CustomEvent(type, { detail })) }
  const host = {
    peerId: self,
    addEventListener: (t: string, l: (e: CustomEvent) => void) => { if (!listeners.has(t)) listeners.set(t, new Set()); listeners.get(t)!.add(l) },
    removeEventListener: (t: string, l: (e: CustomEvent) => void) => { listeners.get(t)?.delete(l) },
    getConnections: (peer?: PeerId) => [...open].filter(id => peer == null || peer.toString() === id).map(id => ({ status: 'open', remotePeer: store.get(id)!.id })),
    dial: async (peer: PeerId, opts: { signal?: AbortSignal } = {}) => {
      dialed.push(peer.toString())
      if (honest.some(h => h.equals(peer))) {
        inFlight.now++
        inFlight.max = Math.max(inFlight.max, inFlight.now)
        try {
          // an honest peer's handshake takes handshakeMs; a dial aborted before that fails
          await new Promise((resolve, reject) => {
            const t = setTimeout(resolve, handshakeMs)
            opts.signal?.addEventListener('abort', () => { clearTimeout(t); reject(new Error('dial aborted')) })
          })
        } finally { inFlight.now-- }
        open.add(peer.toString())
        emit('peer:connect', peer)
        return {}
      }
      return await new Promise((_resolve, reject) => {
        opts.signal?.addEventListener('abort', () => reject(new Error('dial aborted')))
      })
    },
    peerStore: {
      all: async () => [...store.values()],
      delete: async (peer: PeerId) => { store.delete(peer.toString()) },
    },
  } as unknown as SwarmHost
  const announce = (id: PeerId, addr: string | string[]): void => {
    const mas = (Array.isArray(addr) ? addr : [addr]).map(a => multiaddr(a))
    if (store.has(id.toString())) return
    store.set(id.toString(), { id, addresses: mas.map(ma => ({ multiaddr: ma })), tags: new Map() })
    // libp2p announces a peer new to its peer store
    emit('peer:discovery', { id, multiaddrs: mas })
  }
  return { host, announce, dialed, store, open, inFlight }
}

it('dials an honest peer within seconds while a device announces 10 tarpit peers per query and 2 a second', async () => {
  const self = await smallestId(20)
  const [honest] = await idsAfter(self, 1)
  const fakes = await idsAfter(self, 200)
  const { host, announce, dialed } = fakeHost(self, honest)
  const keeper = new PeerKeeper(host, [])
  keeper.start()
  stops.push(() => keeper.stop())
  // the device answers the first query at once: 10 made-up peers, all at one tarpit
  for (let i = 0; i < 10; i++) announce(fakes.pop()!, '/ip4/10.0.0.66/tcp/4001')
  // the honest node's answer, 20-120 ms later
  await new Promise(resolve => setTimeout(resolve, 50))
  announce(honest, '/ip4/10.0.0.2/tcp/7000')
  // and the device goes on: 2 made-up peers a second, on more tarpit ports and hosts
  const flood = setInterval(() => {
    for (let i = 0; i < 2 && fakes.length > 0; i++) announce(fakes.pop()!, `/ip4/10.0.0.${66 + fakes.length % 3}/tcp/${4001 + fakes.length}`)
  }, 500)
  stops.push(() => clearInterval(flood))
  const t0 = Date.now()
  await waitFor('the honest peer dialed', () => dialed.includes(honest.toString()), 8_000)
  expect(Date.now() - t0).toBeLessThan(5_000)
})

it('an honest peer announced while every slot is taken by tarpits spread over many hosts is dialed once they time out', async () => {
  const self = await smallestId(20)
  const [honest] = await idsAfter(self, 1)
  const fakes = await idsAfter(self, 40)
  const { host, announce, dialed, store } = fakeHost(self, honest)
  const keeper = new PeerKeeper(host, [])
  keeper.start()
  stops.push(() => keeper.stop())
  // 30 made-up peers, each on a host of its own: the per-host cap does not help, the dial deadline must
  fakes.slice(0, 30).forEach((id, i) => announce(id, `/ip4/10.0.1.${i + 1}/tcp/4001`))
  announce(honest, '/ip4/10.0.0.2/tcp/7000')
  const t0 = Date.now()
  await waitFor('the honest peer dialed', () => dialed.includes(honest.toString()), 12_000)
  // one round of 3 s dial deadlines (the slots were full), not libp2p's 10 s
  expect(Date.now() - t0).toBeLessThan(5_000)
  expect(store.size).toBe(31)
}, 20_000)

it('honest peers that also announce 127.0.0.1 (a daemon listening on 0.0.0.0 does) are dialed all at once, not two at a time', async () => {
  const self = await smallestId(20)
  const peers = await idsAfter(self, 8)
  const { host, announce, open, inFlight } = fakeHost(self, peers, 1_500)
  const keeper = new PeerKeeper(host, [])
  keeper.start()
  stops.push(() => keeper.stop())
  peers.forEach((id, i) => announce(id, ['/ip4/127.0.0.1/tcp/7421', `/ip4/192.168.1.${i + 10}/tcp/7421`]))
  await waitFor('all eight connected', () => open.size === 8, 10_000)
  expect(inFlight.max).toBe(8)
})

it('honest peers whose handshake takes longer than the first dial deadline still connect', async () => {
  const self = await smallestId(20)
  const peers = await idsAfter(self, 4)
  const { host, announce, open } = fakeHost(self, peers, 3_200)
  const keeper = new PeerKeeper(host, [])
  keeper.start()
  stops.push(() => keeper.stop())
  peers.forEach((id, i) => announce(id, `/ip4/192.168.1.${i + 10}/tcp/7421`))
  // 3 s: fails; 5 s later a 6 s deadline: connects
  await waitFor('all four connected', () => open.size === 4, 16_000)
}, 25_000)

it('forgets made-up peers past its bound of candidates, in its own memory and in the peer store', async () => {
  const self = await smallestId(20)
  const [honest] = await idsAfter(self, 1)
  const fakes = await idsAfter(self, 400)
  const { host, announce, store } = fakeHost(self, honest)
  const keeper = new PeerKeeper(host, [])
  keeper.start()
  stops.push(() => keeper.stop())
  fakes.forEach((id, i) => announce(id, `/ip4/10.0.${i >> 8}.${i & 255}/tcp/4001`))
  // libp2p's peer store keeps every peer announced until let go (here the fake host's)
  await waitFor('the peer store trimmed', () => store.size <= 256, 2_000)
  const candidates = (keeper as unknown as { candidates: Map<string, unknown> }).candidates
  expect(candidates.size).toBeLessThanOrEqual(256)
})

// The same with real nodes: a real tarpit (accepts, never speaks) on 127.0.0.2, so the deadline must cover
// the Noise handshake, not just the TCP connect.
it('two real nodes connect within seconds while a tarpit is announced under many peer ids', async () => {
  const sockets = new Set<Socket>()
  const tarpit: Server = createServer(s => { sockets.add(s); s.on('error', () => {}) })
  await new Promise<void>(resolve => tarpit.listen(0, '127.0.0.2', resolve))
  stops.push(async () => {
    for (const s of sockets) s.destroy()
    await new Promise(resolve => tarpit.close(resolve))
  })
  const port = (tarpit.address() as { port: number }).port
  const nodes: GossipNode[] = []
  stops.push(async () => await stopAll(nodes))
  nodes.push(await startNode(), await startNode())
  // the node with the smaller id is the one that dials at once; it hears of everyone
  nodes.sort((a, b) => a.peerId < b.peerId ? -1 : 1)
  const [a, b] = nodes
  const swarm = a.libp2p
  const fakes = await idsAfter(swarm.peerId, 60)
  // libp2p announces ('peer:discovery') each peer new to its peer store, as mDNS makes it do
  const hear = async (id: PeerId, addr: string): Promise<void> => { await swarm.peerStore.merge(id, { multiaddrs: [multiaddr(addr)] }) }
  for (let i = 0; i < 10; i++) await hear(fakes.pop()!, `/ip4/127.0.0.2/tcp/${port}`)
  await new Promise(resolve => setTimeout(resolve, 50))
  const bAddr = multiaddr(addrOf(b))
  await hear(peerIdFromString(b.peerId), bAddr.decapsulateCode(421).toString())
  const flood = setInterval(() => { if (fakes.length > 0) void hear(fakes.pop()!, `/ip4/127.0.0.2/tcp/${port}`) }, 500)
  stops.push(() => clearInterval(flood))
  const t0 = Date.now()
  await waitFor('the two honest nodes connected', () => swarm.getConnections().some(c => c.remotePeer.toString() === b.peerId), 10_000)
  expect(Date.now() - t0).toBeLessThan(6_000)
  // and a dial into the tarpit is given up within the keeper's deadline (TCP connects; Noise never answers)
  const keeper = (a as unknown as { run: { keeper: { candidates: Map<string, { failures: number }> } } }).run.keeper
  await waitFor('a tarpit dial given up', () => [...keeper.candidates.values()].some(c => c.failures > 0), 5_000)
  expect(Date.now() - t0).toBeLessThan(5_000)
}, 30_000)
