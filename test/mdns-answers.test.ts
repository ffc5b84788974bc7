// The scaling mDNS service's answer handling, without sockets (no namespace needed): an answer that repeats
// what a peer already told us is not passed on to libp2p (each one cost a multiaddr parse and a peer-store
// merge, ~2.5 a second per node at N = 50 when idle), while a changed one, a new peer, or the same answer
// after the refresh period still is; a flood of made-up names stays bounded. And the periodic query: only a
// node short of peers sends it (every query draws an answer from every node on the LAN).
import { describe, it, expect, vi, afterEach } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { defaultLogger } from '@libp2p/logger'
import { TypedEventEmitter } from '@libp2p/interface'
import type { PeerId } from '@libp2p/interface'
import type { ResponsePacket } from 'multicast-dns'
import { ScalingMdns } from '../src/core/stack/mdns.js'

const TAG = 'gossipd.local'

async function newPeerId (): Promise<PeerId> { return peerIdFromPrivateKey(await generateKeyPair('Ed25519')) }

function answer (name: string, id: PeerId, ports: number[]): ResponsePacket {
  return {
    type: 'response',
    answers: [
      { name: TAG, type: 'PTR', class: 'IN', ttl: 120, data: `${name}.${TAG}` },
      ...ports.map(p => ({ name: `${name}.${TAG}`, type: 'TXT' as const, class: 'IN' as const, ttl: 120, data: `dnsaddr=/ip4/10.0.0.2/tcp/${p}/p2p/${id.toString()}` })),
    ],
  } as unknown as ResponsePacket
}

async function service (connections: () => number = () => 0): Promise<{ mdns: ScalingMdns, heard: PeerId[], hear: (r: ResponsePacket) => void }> {
  const self = await newPeerId()
  const mdns = new ScalingMdns({
    peerId: self,
    addressManager: { getAddresses: () => [] },
    connectionManager: { getConnections: () => Array.from({ length: connections() }, () => ({ remotePeer: self })) },
    events: new TypedEventEmitter(),
    logger: defaultLogger(),
  }, { wantPeers: 8 })
  const heard: PeerId[] = []
  mdns.addEventListener('peer', evt => heard.push(evt.detail.id))
  // the multicast socket's 'response' handler, called as the socket would
  const hear = (mdns as unknown as { onResponse: (r: ResponsePacket) => void }).onResponse
  return { mdns, heard, hear }
}

afterEach(() => { vi.useRealTimers() })

describe('mDNS answers', () => {
  it('passes a peer on once, not at every repeat of the same answer', async () => {
    const { heard, hear } = await service()
    const a = await newPeerId()
    for (let i = 0; i < 100; i++) hear(answer('aaaa', a, [7421]))
    expect(heard.map(String)).toEqual([a.toString()])
  })

  it('passes on a changed answer, a second peer, and an unchanged answer after the refresh period', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { heard, hear } = await service()
    const a = await newPeerId()
    const b = await newPeerId()
    hear(answer('aaaa', a, [7421]))
    hear(answer('bbbb', b, [7421]))
    hear(answer('aaaa', a, [7421, 7422]))
    hear(answer('aaaa', a, [7422, 7421]))
    expect(heard.map(String)).toEqual([a, b, a].map(String))
    vi.advanceTimersByTime(4 * 60_000)
    hear(answer('aaaa', a, [7421, 7422]))
    expect(heard).toHaveLength(3)
    vi.advanceTimersByTime(2 * 60_000)
    hear(answer('aaaa', a, [7421, 7422]))
    expect(heard).toHaveLength(4)
  })

  it('keeps its memory of answers bounded under a flood of made-up names, and still hears a real peer', async () => {
    const { mdns, heard, hear } = await service()
    const a = await newPeerId()
    for (let i = 0; i < 10_000; i++) hear(answer(`fake${i}`, a, [i % 60_000 + 1]))
    expect((mdns as unknown as { heard: Map<string, unknown> }).heard.size).toBeLessThanOrEqual(4_096)
    const b = await newPeerId()
    hear(answer('bbbb', b, [7421]))
    expect(heard.at(-1)?.toString()).toBe(b.toString())
  })
})

/** characters the service keeps of what it heard: its per-name answer memory and its set of known peers */
function retainedChars (mdns: ScalingMdns): number {
  const m = mdns as unknown as { heard: Map<string, unknown>, known: Set<string> }
  let n = 0
  for (const [k, v] of m.heard) n += k.length + JSON.stringify(v).length
  for (const k of m.known) n += k.length
  return n
}

describe('mDNS answers from a hostile device', () => {
  it('keeps a bounded number of bytes of answers stuffed with TXT strings, each under a fresh name', async () => {
    const { mdns, heard, hear } = await service()
    const a = await newPeerId()
    // the reviewer's flood: ~57 KB of TXT strings per answer, a fresh name each time
    const junk = Array(230).fill('x'.repeat(250)) as string[]
    for (let i = 0; i < 724; i++) {
      const r = answer(`fake${i}`, a, [i + 1])
      r.answers.push({ name: `fake${i}.${TAG}`, type: 'TXT', class: 'IN', ttl: 120, data: junk } as unknown as ResponsePacket['answers'][number])
      hear(r)
    }
    expect(heard.length).toBeGreaterThan(0)
    // a digest and a time per name (and the one peer id), not the 57 KB each answer carried
    expect(retainedChars(mdns)).toBeLessThan(724 * 200)
  })

  it('passes on at most 16 addresses of one answer, and only looks at its first TXT strings', async () => {
    const { mdns, hear } = await service()
    const got: number[] = []
    mdns.addEventListener('peer', evt => got.push(evt.detail.multiaddrs.length))
    const a = await newPeerId()
    hear(answer('many', a, Array.from({ length: 1_000 }, (_, i) => i + 1)))
    expect(got).toEqual([16])
    // an answer whose only address comes after 64 other TXT strings announces nothing
    const b = await newPeerId()
    const r = answer('late', b, [7421])
    r.answers.splice(1, 0, ...Array.from({ length: 64 }, () => ({ name: `late.${TAG}`, type: 'TXT', class: 'IN', ttl: 120, data: 'x=y' }) as unknown as ResponsePacket['answers'][number]))
    hear(r)
    expect(got).toEqual([16])
  })

  it('forgets the oldest peers it heard of past 1,024, so made-up peer ids cannot grow it', async () => {
    const { mdns, hear } = await service()
    const ids = await Promise.all(Array.from({ length: 1_500 }, async () => await newPeerId()))
    ids.forEach((id, i) => hear(answer(`p${i}`, id, [7421])))
    const known = (mdns as unknown as { known: Set<string> }).known
    expect(known.size).toBe(1_024)
    expect(known.has(ids[0].toString())).toBe(false)
    expect(known.has(ids.at(-1)!.toString())).toBe(true)
  })
})

describe('mDNS answers from one LAN address', () => {
  it('one sender introduces at most 16 new peer ids, then one per 15 s; other senders and its own machine are not held back', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] })
    const { mdns, heard } = await service()
    const hear = (mdns as unknown as { onResponse: (r: ResponsePacket, from: { address: string }) => void }).onResponse
    const ids = await Promise.all(Array.from({ length: 40 }, async () => await newPeerId()))
    // a device answering with 40 made-up peers: each would cost a dial slot (peers.ts)
    ids.forEach((id, i) => hear(answer(`fake${i}`, id, [7421]), { address: '10.0.0.9' }))
    expect(heard.length).toBe(16)
    expect(mdns.stats.refusedNewPeers).toBe(24)
    // a peer it already introduced is still heard (a changed answer), and an honest host is not held back
    hear(answer('fake0', ids[0], [7422]), { address: '10.0.0.9' })
    const honest = await newPeerId()
    hear(answer('honest', honest, [7421]), { address: '10.0.0.2' })
    expect(heard.map(String).slice(16)).toEqual([ids[0].toString(), honest.toString()])
    // 15 s later the device may introduce one more; the answer refused before is looked at again
    vi.advanceTimersByTime(15_000)
    hear(answer('fake16', ids[16], [7421]), { address: '10.0.0.9' })
    hear(answer('fake17', ids[17], [7421]), { address: '10.0.0.9' })
    expect(heard.map(String).slice(18)).toEqual([ids[16].toString()])
    // many daemons of one machine (tests, the bench) announce from loopback
    const local = await Promise.all(Array.from({ length: 30 }, async () => await newPeerId()))
    local.forEach((id, i) => hear(answer(`local${i}`, id, [7421]), { address: '127.0.0.1' }))
    expect(heard.length).toBe(19 + 30)
  })
})

describe('mDNS queries', () => {
  it('the periodic query goes out only while the node has fewer connections than its low mark', async () => {
    let connections = 3
    const { mdns } = await service(() => connections)
    // the multicast socket, as the service uses it (a real one would send on the LAN)
    const queries: unknown[] = []
    const internals = mdns as unknown as { mdns?: unknown, onTimer: () => void }
    internals.mdns = { query: (q: unknown) => queries.push(q), destroy: (cb: () => void) => { cb() } }
    try {
      internals.onTimer()
      expect(queries).toHaveLength(1)
      connections = 8
      for (let i = 0; i < 5; i++) internals.onTimer()
      expect(queries).toHaveLength(1)
      connections = 7
      internals.onTimer()
      expect(queries).toHaveLength(2)
    } finally {
      await mdns.stop()
    }
  })
})
