// An origin that signs two versions of one seq (a fork): nodes that got different versions used to stay
// diverged for good, silently (their sync digests agree). Now the second version, or a message linking to
// it, is a proof: counted, reported once per stream as a 'fork' event, the relay not penalised (the fork is
// the origin's fault), and nothing more of that stream stored from the fork's seq up.
import { describe, it, expect, afterEach } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Encoder } from 'cbor-x'
import type { GossipNode } from '../src/core/node.js'
import { Forks, MAX_FORKS, type ForkInfo } from '../src/core/forks.js'
import { sealEnvelope } from '../src/core/envelope.js'
import { GossipdMetrics } from '../src/daemon/observe/metrics.js'
import { startNode, waitFor, addrOf, stopAll, serveSyncWith, text } from './helpers.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** an origin's two branches from seq 1: A (1A, 2A linked) and B (1B, 2B linked), one key */
async function forkingOrigin (topic: string): Promise<{ origin: string, a1: ReturnType<typeof sealEnvelope>, a2: ReturnType<typeof sealEnvelope>, b1: ReturnType<typeof sealEnvelope>, b2: ReturnType<typeof sealEnvelope> }> {
  const key = await generateKeyPair('Ed25519')
  const origin = peerIdFromPrivateKey(key).toString()
  const ts = Date.now()
  const a1 = sealEnvelope(key, origin, topic, 1, ts, enc('branch A'))
  const b1 = sealEnvelope(key, origin, topic, 1, ts, enc('branch B'))
  const a2 = sealEnvelope(key, origin, topic, 2, ts, enc('A two'), a1.hash)
  const b2 = sealEnvelope(key, origin, topic, 2, ts, enc('B two'), b1.hash)
  return { origin, a1, a2, b1, b2 }
}

/** relay -- b meshed on 'f'; b's fork events and rejections recorded */
async function relayAndWatcher (): Promise<{ relay: GossipNode, b: GossipNode, forks: ForkInfo[], rejected: string[], gossip: (bytes: Uint8Array) => Promise<void> }> {
  const relay = await startNode({ topics: ['f'], syncIntervalMs: 600_000 })
  const b = await startNode({ topics: ['f'], peers: [addrOf(relay)], syncIntervalMs: 600_000 })
  nodes = [relay, b]
  await waitFor('meshed', () => relay.topics()[0].peers === 1 && b.topics()[0].peers === 1)
  const forks: ForkInfo[] = []
  const rejected: string[] = []
  b.on('fork', f => forks.push(f))
  b.on('rejected', r => rejected.push(r.reason))
  // raw bytes on the relay's gossipsub: what a relay passes on, bypassing gossipd's publish path
  const gossip = async (bytes: Uint8Array): Promise<void> => { await relay.libp2p.services.pubsub.publish('f', bytes) }
  return { relay, b, forks, rejected, gossip }
}

describe('forks: an origin signing two versions of one seq', () => {
  it('a second version of a held seq, by gossip, is reported once; the relay is not penalised; the stream is blocked from there up', async () => {
    const { relay, b, forks, rejected, gossip } = await relayAndWatcher()
    const f = await forkingOrigin('f')
    await gossip(f.a1.bytes)
    await waitFor('1A stored', () => b.topics()[0].messages === 1)
    await gossip(f.b1.bytes)
    await waitFor('fork reported', () => forks.length === 1)
    expect(forks[0]).toMatchObject({ topic: 'f', origin: f.origin, seq: 1, held: hex(f.a1.hash), other: hex(f.b1.hash), peer: relay.peerId, how: 'same seq' })
    // seq 2 of either branch is above the fork: not stored, counted
    await gossip(f.a2.bytes)
    await waitFor('2A refused', () => b.status().forkRefused === 1)
    expect(b.history('f').map(text)).toEqual(['branch A'])
    expect(b.status()).toMatchObject({ forks: 1, forked: [{ topic: 'f', origin: f.origin, seq: 1 }] })
    expect(b.penalties.get(relay.peerId)).toBe(0)
    expect(rejected).toEqual([])
    // and the daemon's metrics carry both counts
    const metrics = new GossipdMetrics({ version: 'test' })
    metrics.attach(b)
    const body = (await metrics.text()).body
    expect(body).toMatch(/^gossipd_forks_total 1$/m)
    expect(body).toMatch(/^gossipd_fork_refused_total 1$/m)
  })

  it('two versions of one seq arriving back to back (the second while the first is being verified) are a fork too', async () => {
    const { b, forks, gossip } = await relayAndWatcher()
    const f = await forkingOrigin('f')
    await Promise.all([gossip(f.a1.bytes), gossip(f.b1.bytes)])
    await waitFor('fork reported', () => forks.length === 1)
    expect(forks[0]).toMatchObject({ topic: 'f', origin: f.origin, seq: 1, how: 'same seq' })
    expect(b.topics()[0].messages).toBe(1)
  })

  it('a message below a held one that does not link to it, by gossip, is a fork proof and not stored', async () => {
    const { relay, b, forks, gossip } = await relayAndWatcher()
    const f = await forkingOrigin('f')
    await gossip(f.a2.bytes)
    await waitFor('2A stored', () => b.topics()[0].messages === 1)
    // 2A's prev pins 1A: 1B, validly signed, is the origin's other version of seq 1
    await gossip(f.b1.bytes)
    await waitFor('fork reported', () => forks.length === 1)
    expect(forks[0]).toMatchObject({ seq: 1, held: hex(f.a1.hash), other: hex(f.b1.hash), how: 'prev' })
    expect(b.history('f').map(text)).toEqual(['A two'])
    expect(b.penalties.get(relay.peerId)).toBe(0)
  })

  it('a sync server carrying the other branch is not penalised; the message whose prev names the other version is not stored', async () => {
    const f = await forkingOrigin('t')
    const server = await startNode({ topics: ['t'] })
    nodes = [server]
    const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
    // one batch: 1A, then 2B, whose prev is the hash of 1B
    await serveSyncWith(server, async (s, stream) => {
      await s.read()
      await s.write(cbor.encode({ msgs: [f.a1.bytes, f.b2.bytes], more: false }))
      await stream.close()
    })
    const b = await startNode({ topics: ['t'], peers: [addrOf(server)] })
    nodes.push(b)
    const forks: ForkInfo[] = []
    const rejected: string[] = []
    b.on('fork', x => forks.push(x))
    b.on('rejected', r => rejected.push(r.reason))
    await waitFor('fork reported', () => forks.length === 1)
    expect(forks[0]).toMatchObject({ topic: 't', origin: f.origin, seq: 1, held: hex(f.a1.hash), other: hex(f.b1.hash), peer: server.peerId, how: 'prev' })
    await waitFor('1A stored', () => b.topics()[0].messages === 1)
    expect(b.history('t').map(text)).toEqual(['branch A'])
    // the fake server sends the same batch to every pull (on connect, on the server's subscribe, periodic):
    // each copy of 2B is refused and counted, the fork once
    expect(b.status().forks).toBe(1)
    expect(b.status().forkRefused).toBeGreaterThanOrEqual(1)
    expect(b.penalties.get(server.peerId)).toBe(0)
    expect(rejected).toEqual([])
    // the block outlives a restart: the stream is still listed, and still refused from the fork up
    const dataDir = b.dataDir
    await b.stop()
    const again = await startNode({ topics: ['t'], dataDir, syncIntervalMs: 600_000 })
    nodes.push(again)
    expect(again.status().forked).toEqual([{ topic: 't', origin: f.origin, seq: 1 }])
  })

  it('sync no longer asks for a forked stream from its fork up', async () => {
    const f = await forkingOrigin('t')
    const server = await startNode({ topics: ['t'] })
    nodes = [server]
    const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
    const requests: Array<{ want: Array<{ topic: string, origins: Array<{ origin: string, ranges: number[][] }> }> }> = []
    await serveSyncWith(server, async (s, stream) => {
      requests.push(cbor.decode((await s.read()).subarray()))
      await s.write(cbor.encode({ msgs: requests.length === 1 ? [f.a1.bytes, f.b2.bytes] : [], more: false }))
      await stream.close()
    })
    const b = await startNode({ topics: ['t'], peers: [addrOf(server)], syncIntervalMs: 600_000 })
    nodes.push(b)
    await waitFor('fork found', () => b.status().forks === 1)
    await b.syncWith(server.peerId)
    const listed = requests[requests.length - 1].want[0].origins.find(o => o.origin === f.origin)
    // held: 1A; from the fork (seq 1) up, listed as held, so a server sends nothing of it that would be refused
    expect(listed?.ranges).toEqual([[1, Number.MAX_SAFE_INTEGER]])
  })

  it('a different body under a forged signature for a held seq is the relay\'s forgery: rejected, not a fork', async () => {
    const { relay, b, forks, rejected, gossip } = await relayAndWatcher()
    const f = await forkingOrigin('f')
    const attacker = await generateKeyPair('Ed25519')
    await gossip(f.a1.bytes)
    await waitFor('1A stored', () => b.topics()[0].messages === 1)
    await gossip(sealEnvelope(attacker, f.origin, 'f', 1, Date.now(), enc('forged')).bytes)
    await waitFor('forgery rejected', () => rejected.length === 1)
    expect(rejected).toEqual(['bad signature'])
    expect(b.penalties.get(relay.peerId)).toBeGreaterThan(0)
    expect(forks).toEqual([])
    expect(b.status().forks).toBe(0)
  })

  it('a sync server sending 30 forged bodies for one held seq costs a bounded number of signature checks', async () => {
    const f = await forkingOrigin('t')
    const attacker = await generateKeyPair('Ed25519')
    const forged = Array.from({ length: 30 }, (_, i) => sealEnvelope(attacker, f.origin, 't', 1, Date.now(), enc(`forged ${i}`)).bytes)
    const server = await startNode({ topics: ['t'] })
    nodes = [server]
    const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
    let pulls = 0
    await serveSyncWith(server, async (s, stream) => {
      await s.read()
      await s.write(cbor.encode({ msgs: ++pulls === 1 ? [f.a1.bytes] : forged, more: false }))
      await stream.close()
    })
    const b = await startNode({ topics: ['t'], peers: [addrOf(server)], syncIntervalMs: 600_000, banPoints: 1_000 })
    nodes.push(b)
    await waitFor('1A stored', () => b.topics()[0].messages === 1)
    const before = b.status().signatureChecks
    await b.syncWith(server.peerId)
    // as within one sync batch (verify-batch.ts): a few checks for that id, the rest dropped unchecked
    expect(b.status().signatureChecks - before).toBeLessThanOrEqual(3)
    expect(b.status().forks).toBe(0)
    expect(b.history('t').map(text)).toEqual(['branch A'])
  })
})

describe('forks: past the streams remembered (MAX_FORKS)', () => {
  it('a stream forked past the limit is still counted, reported and recorded once, however often its proof comes back', () => {
    const stats = { shed: 0, rejected: 0, signatureChecks: 0, unauthorized: 0, forks: 0 }
    const events: unknown[] = []
    const persisted: unknown[] = []
    const forks = new Forks({ stats, emit: ((name: string, f: unknown) => { if (name === 'fork') events.push(f) }) as never })
    forks.persist = f => persisted.push(f)
    const proof = (origin: string): ForkInfo => ({ topic: 't', origin, seq: 5, held: 'aa', other: 'bb', peer: 'p', how: 'prev' })
    // an origin with many keys fills the streams remembered (each of its forks costs it two signatures)
    for (let i = 0; i < MAX_FORKS; i++) forks.found(proof(`filler${i}`))
    expect(stats.forks).toBe(MAX_FORKS)
    // then one more forked stream, whose (unstored, so replayable) proof a peer sends again and again
    for (let i = 0; i < 5; i++) forks.found(proof('late'))
    expect(stats.forks).toBe(MAX_FORKS + 1)
    expect(events).toHaveLength(MAX_FORKS + 1)
    expect(persisted).toHaveLength(MAX_FORKS + 1)
  })

  it('the proof is passed on by gossip: a node two hops away that holds one version learns of the fork, and one that held neither too', async () => {
    const f = await forkingOrigin('f')
    const { c, atD } = await proofAlongALine(f.origin, f.a1.bytes, f.b1.bytes)
    expect(atD[0]).toMatchObject({ topic: 'f', origin: f.origin, seq: 1 })
    // the stream is blocked at each: a message above the fork is not stored
    expect(c.history('f').map(text)).toEqual(['branch A'])
  })

  it('a prev proof is passed on too: a message and the held neighbour it contradicts, to a node that held one of them or neither', async () => {
    const f = await forkingOrigin('f')
    const { c, atD } = await proofAlongALine(f.origin, f.a2.bytes, f.b1.bytes)
    expect(atD[0]).toMatchObject({ topic: 'f', origin: f.origin, seq: 1, how: 'prev' })
    expect(c.history('f').map(text)).toEqual(['A two'])
  })
})

/**
 * relay -- b -- c -- d in a line: the relay gossips `held` (it reaches b and c), then d joins taking nothing
 * by sync (it holds neither version), then the relay gossips `other`, which only b gets from it. b, c and d
 * must each find the fork (c and d from the proof passed on), and no relay is penalised for it.
 */
async function proofAlongALine (origin: string, held: Uint8Array, other: Uint8Array): Promise<{ c: GossipNode, atD: ForkInfo[] }> {
  const relay = await startNode({ topics: ['f'], syncIntervalMs: 600_000 })
  const b = await startNode({ topics: ['f'], peers: [addrOf(relay)], syncIntervalMs: 600_000 })
  const c = await startNode({ topics: ['f'], peers: [addrOf(b)], syncIntervalMs: 600_000 })
  nodes = [relay, b, c]
  await waitFor('meshed', () => b.topics()[0].peers === 2 && c.topics()[0].peers === 1)
  const gossip = async (bytes: Uint8Array): Promise<void> => { await relay.libp2p.services.pubsub.publish('f', bytes) }
  await gossip(held)
  await waitFor('the first version at c', () => c.topics()[0].messages === 1)
  const d = await startNode({ topics: ['f'], peers: [addrOf(c)], syncIntervalMs: 600_000, dropInbound: (_e, _from, source) => source === 'sync' })
  nodes.push(d)
  await waitFor('d meshed', () => c.topics()[0].peers === 2 && d.topics()[0].peers === 1)
  const forksAt = (n: GossipNode): ForkInfo[] => { const got: ForkInfo[] = []; n.on('fork', x => got.push(x)); return got }
  const atC = forksAt(c)
  const atD = forksAt(d)
  expect(d.topics()[0].messages).toBe(0)
  await gossip(other)
  await waitFor('b found the fork', () => b.status().forks === 1)
  await waitFor('c learned the fork from b', () => c.status().forks === 1)
  expect(atC[0]).toMatchObject({ topic: 'f', origin, seq: 1, peer: b.peerId })
  await waitFor('d learned the fork from c', () => d.status().forks === 1)
  expect(b.penalties.get(c.peerId) ?? 0).toBe(0)
  expect(c.penalties.get(b.peerId) ?? 0).toBe(0)
  return { c, atD }
}
