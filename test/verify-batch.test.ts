// The hash chain: a sync batch is authenticated with one signature per linked run, and nothing that is
// not vouched for by a valid signature gets through, whatever order or mix a (malicious) server sends.
import { describe, it, expect, afterEach } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { Encoder } from 'cbor-x'
import { multiaddr } from '@multiformats/multiaddr'
import { sealEnvelope, encodeEnvelope, decodeEnvelope, verifyEnvelope, bodyHash, type Envelope } from '../src/core/envelope.js'
import { verifyBatch } from '../src/core/sync/verify-batch.js'
import type { GossipNode } from '../src/core/node.js'
import { startNode, waitFor, addrOf, stopAll, text, serveSyncWith } from './helpers.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

const enc = new TextEncoder()

/** `count` envelopes of one origin on a topic, each linked to the one before, as a node publishes them */
function chain (key: PrivateKey, topic: string, count: number, firstSeq = 1, prev: Uint8Array | null = null): Envelope[] {
  const origin = peerIdFromPrivateKey(key).toString()
  const out: Envelope[] = []
  for (let seq = firstSeq; seq < firstSeq + count; seq++) {
    const sealed = sealEnvelope(key, origin, topic, seq, Date.now(), enc.encode(`m${seq}`), prev)
    out.push(decodeEnvelope(sealed.bytes))
    prev = sealed.hash
  }
  return out
}

/** the same envelope as it would arrive after a byte change on the way: the signature no longer matches */
const tamper = (e: Envelope): Envelope => decodeEnvelope(encodeEnvelope({ ...e, payload: enc.encode('altered') }))

function counting (): { verify: (e: Envelope) => Promise<boolean>, calls: () => number } {
  let n = 0
  return { verify: async e => { n++; return await verifyEnvelope(e) }, calls: () => n }
}

describe('batch verification along the hash chain', () => {
  it('authenticates 1,000 linked messages with one signature check, in any order', async () => {
    const key = await generateKeyPair('Ed25519')
    const envs = chain(key, 't', 1000).reverse()
    const c = counting()
    expect(await verifyBatch(envs, undefined, c.verify)).toEqual(envs.map(() => true))
    expect(c.calls()).toBe(1)
  })

  it('a tampered message in the middle is rejected; the runs on either side still pass', async () => {
    const key = await generateKeyPair('Ed25519')
    const envs = chain(key, 't', 10)
    envs[4] = tamper(envs[4]) // seq 5
    const c = counting()
    const ok = await verifyBatch(envs, undefined, c.verify)
    expect(ok.map((v, i) => v ? i + 1 : -(i + 1))).toEqual([1, 2, 3, 4, -5, 6, 7, 8, 9, 10])
    expect(c.calls()).toBe(3) // top of 1-4, seq 5 alone, top of 6-10
  })

  it('a forged newest message vouches for nothing, and the genuine ones below it are checked one by one', async () => {
    const key = await generateKeyPair('Ed25519')
    const attacker = await generateKeyPair('Ed25519')
    const genuine = chain(key, 't', 5)
    const last = genuine[genuine.length - 1]
    // claims to be the origin's seq 6 and links correctly to seq 5, but is signed by another key
    const forged = decodeEnvelope(sealEnvelope(attacker, last.origin, 't', 6, Date.now(), enc.encode('forged'), bodyHash(last.body)).bytes)
    const ok = await verifyBatch([...genuine, forged])
    expect(ok).toEqual([true, true, true, true, true, false])
  })

  it('keeps streams apart: other origins and topics are separate runs, and unneeded runs are not checked', async () => {
    const a = await generateKeyPair('Ed25519')
    const b = await generateKeyPair('Ed25519')
    const envs = [...chain(a, 't', 3), ...chain(b, 't', 3), ...chain(a, 'u', 3)]
    const c = counting()
    const needed = envs.map((_, i) => i < 6) // the 'u' run is already held
    const ok = await verifyBatch(envs, needed, c.verify)
    expect(ok).toEqual([true, true, true, true, true, true, false, false, false])
    expect(c.calls()).toBe(2)
    // a message of b placed between a's cannot borrow a's signature
    const mixed = [...chain(a, 't', 2), tamper(chain(b, 't', 1, 3)[0]), ...chain(a, 't', 2, 3)]
    expect(await verifyBatch(mixed)).toEqual([true, true, false, true, true])
  })

  it('copies of one message in a batch are checked once: 500 identical 64 KiB copies, one check', async () => {
    const key = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    const { bytes } = sealEnvelope(key, origin, 't', 1, Date.now(), new Uint8Array(64 * 1024).fill(7))
    // each copy decoded on its own, as a batch frame's copies arrive: equal bytes, distinct objects
    const envs = Array.from({ length: 500 }, () => decodeEnvelope(Uint8Array.from(bytes)))
    const c = counting()
    expect(await verifyBatch(envs, undefined, c.verify)).toEqual(envs.map(() => true))
    expect(c.calls()).toBe(1)
  })

  it('copies of every message of a linked run, shuffled, still cost one check for the run', async () => {
    const key = await generateKeyPair('Ed25519')
    const envs = chain(key, 't', 5)
    const copies = [...envs, ...envs, ...envs, ...envs].map(e => decodeEnvelope(encodeEnvelope(e))).reverse()
    const c = counting()
    expect(await verifyBatch(copies, undefined, c.verify)).toEqual(copies.map(() => true))
    expect(c.calls()).toBe(1)
  })

  it('different copies of one id cost a bounded number of checks, and never pass a forgery', async () => {
    const key = await generateKeyPair('Ed25519')
    const attacker = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    const genuine = decodeEnvelope(sealEnvelope(key, origin, 't', 1, Date.now(), enc.encode('genuine')).bytes)
    const forged = Array.from({ length: 30 }, (_, i) => decodeEnvelope(sealEnvelope(attacker, origin, 't', 1, Date.now(), enc.encode(`forged ${i}`)).bytes))
    // the genuine copy first: it is checked, the forgeries of its id need no check
    let c = counting()
    let ok = await verifyBatch([genuine, ...forged], undefined, c.verify)
    expect(ok).toEqual([true, ...forged.map(() => false)])
    expect(c.calls()).toBe(1)
    // one forgery before the genuine copy: both checked, the genuine one passes
    c = counting()
    ok = await verifyBatch([forged[0], genuine, ...forged.slice(1)], undefined, c.verify)
    expect(ok).toEqual([false, true, ...forged.slice(1).map(() => false)])
    expect(c.calls()).toBe(2)
    // 30 forgeries before it: a few checks for that id, then the rest are refused unchecked (the genuine
    // message comes by the next pull or another peer: an honest server never sends two versions of one id)
    c = counting()
    ok = await verifyBatch([...forged, genuine], undefined, c.verify)
    expect(ok.every(v => !v)).toBe(true)
    expect(c.calls()).toBeLessThanOrEqual(3)
  })

  it('a sync server sending 2,000 copies of one valid envelope costs the puller one signature check', async () => {
    const key = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    const { bytes } = sealEnvelope(key, origin, 't', 1, Date.now(), new Uint8Array(256).fill(1))
    const liar = await startNode({ topics: ['t'] })
    nodes = [liar]
    await serveInstead(liar, Array.from({ length: 2_000 }, () => bytes))
    const b = await startNode({ topics: ['t'], peers: [addrOf(liar)] })
    nodes.push(b)
    await waitFor('stored', () => b.topics()[0].messages === 1)
    await waitFor('a second pull done', () => (b.status().sync.peers.find(p => p.peer === liar.peerId)?.pulls ?? 0) >= 2)
    expect(b.status().signatureChecks).toBe(1)
    expect(b.status().rejected).toBe(0)
  })

  it('a node catching up checks about one signature per batch, across a restart of the publisher', async () => {
    const a = await startNode({ topics: ['t'] })
    nodes = [a]
    for (let i = 0; i < 300; i++) await a.publish('t', `before ${i}`)
    const dir = a.dataDir
    await a.stop()
    const a2 = await startNode({ dataDir: dir })
    nodes = [a2]
    for (let i = 0; i < 300; i++) await a2.publish('t', `after ${i}`)
    const b = await startNode({ topics: ['t'], peers: [addrOf(a2)] })
    nodes.push(b)
    await waitFor('caught up', () => b.topics()[0].messages === 600)
    // one linked run of 600: a broken link at the restart would make it 2 or more
    expect(b.status().signatureChecks).toBe(1)
    expect(b.history('t', { limit: 600 }).map(text).filter(t => t.startsWith('after')).length).toBe(300)
  })

  it('a node pulling from a lying peer stores the genuine messages and rejects the tampered one', async () => {
    const key = await generateKeyPair('Ed25519')
    const envs = chain(key, 't', 10)
    envs[4] = tamper(envs[4])
    const liar = await startNode({ topics: ['t'] })
    nodes = [liar]
    await serveInstead(liar, envs.map(e => encodeEnvelope(e)))
    const b = await startNode({ topics: ['t'], peers: [addrOf(liar)] })
    nodes.push(b)
    const rejected: Array<string | undefined> = []
    b.on('rejected', r => rejected.push(r.id))
    await waitFor('nine stored, one rejected', () => b.topics()[0].messages === 9 && rejected.length >= 1)
    expect(rejected[0]).toBe(`${envs[4].origin}:t:5`)
    expect(b.history('t').map(text)).not.toContain('altered')
  })
})

describe('a signature swapped by a relay under a message the chain vouches for', () => {
  it('an honest node that stored it still serves that message to a peer holding the one above it', async () => {
    const key = await generateKeyPair('Ed25519')
    const envs = chain(key, 't', 10)
    // seq 5 with its genuine body and a signature of garbage: seq 6's prev still pins that body
    const swapped = { ...envs[4], sig: new Uint8Array(64).fill(7) }
    const liar = await startNode({ topics: ['t'] })
    nodes = [liar]
    await serveInstead(liar, envs.map((e, i) => encodeEnvelope(i === 4 ? swapped : e)))
    const b = await startNode({ topics: ['t'], peers: [addrOf(liar)] })
    nodes.push(b)
    await waitFor('b holds all ten', () => b.topics()[0].messages === 10)
    // c got every message but seq 5 elsewhere; b (honest, misled) is the only one that holds it
    const other = await startNode({ topics: ['t'] })
    nodes.push(other)
    await serveInstead(other, envs.filter(e => e.seq !== 5).map(e => encodeEnvelope(e)))
    const c = await startNode({ topics: ['t'], peers: [addrOf(other)] })
    nodes.push(c)
    await waitFor('c holds nine', () => c.topics()[0].messages === 9)
    const rejected: string[] = []
    c.on('rejected', r => rejected.push(`${r.reason}`))
    await c.libp2p.dial(multiaddr(addrOf(b)))
    await waitFor('c holds seq 5 from b', () => c.topics()[0].messages === 10 || rejected.length >= 2, 15_000)
    expect({ rejected, seqs: c.history('t').map(m => m.seq).sort((x, y) => x - y) }).toEqual({ rejected: [], seqs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] })
  })
})

/** make `node` answer every sync pull with exactly these envelopes (a peer that lies) */
async function serveInstead (node: GossipNode, raws: Uint8Array[]): Promise<void> {
  const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
  await serveSyncWith(node, async (s, stream) => {
    await s.read()
    await s.write(cbor.encode({ msgs: raws, more: false }))
    await stream.close()
  })
}
