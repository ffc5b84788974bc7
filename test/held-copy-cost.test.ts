// A copy of a held message is compared with the stored one (forks.ts): one indexed read each, ~40 µs here
// against ~0.2 µs for the id check alone. A peer may send copies of held messages at will (duplicates are
// not penalised; a padded layout makes each gossip copy new to gossipsub's seen cache, and a sync batch may
// repeat one envelope thousands of times), so those reads are bounded by a budget; past it a copy is a
// plain duplicate, as before fork detection.
import { describe, it, expect, vi, afterEach } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Store } from '../src/store/store.js'
import { envelopeCodec, sealEnvelope, encodeEnvelope } from '../src/core/envelope.js'
import { randomBytes } from 'node:crypto'
import type { ForkInfo } from '../src/core/forks.js'
import { Inbound, type InboundParts } from '../src/core/inbound.js'
import { InlineBudget } from '../src/core/inline-budget.js'
import { Forks } from '../src/core/forks.js'
import { tempDir, removeTempDirs } from './helpers.js'

afterEach(() => { vi.restoreAllMocks(); removeTempDirs() })

describe('copies of held messages', () => {
  it('cost a bounded number of store reads, however many a peer sends', async () => {
    const store = new Store(tempDir(), { codec: envelopeCodec })
    store.addTopic('t')
    const key = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    const sealed = Array.from({ length: 50 }, (_, i) => sealEnvelope(key, origin, 't', i + 1, Date.now(), new TextEncoder().encode(`m${i + 1}`)))
    for (const s of sealed) void store.insert({ topic: 't', origin, seq: s.envelope.seq, ts: s.envelope.ts, payload: s.envelope.payload, raw: s.bytes })
    await store.whenFlushed()
    const stats = { shed: 0, rejected: 0, signatureChecks: 0, unauthorized: 0, forks: 0, forkRefused: 0 }
    const emit = (() => true) as never
    const inbound = new Inbound({
      store, sources: new Map(), stats, maxPayloadBytes: 1 << 20, isRunning: () => true, isJoined: () => true, syncSoon: () => {},
      forks: new Forks({ stats, emit }), emit, log: () => {},
      // a window that never ends: the budget is spent once, whatever the machine's speed
      heldCopyChecks: new InlineBudget(20, 1e12),
    } as unknown as InboundParts)
    const reads = vi.spyOn(store, 'readRawRange')
    const from = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const results = new Set<string>()
    for (let i = 0; i < 5_000; i++) {
      const s = sealed[i % sealed.length]
      results.add(await inbound.acceptEnvelope(s.envelope, s.bytes, from, 'sync'))
    }
    expect([...results]).toEqual(['duplicate'])
    expect(reads.mock.calls.length).toBeLessThanOrEqual(20)
    store.close()
  })

  it('copies of messages stored lately with the same body but another signature spend none of the budget: a fork from another peer is still found', async () => {
    const store = new Store(tempDir(), { codec: envelopeCodec })
    store.addTopic('t')
    const key = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    const stats = { shed: 0, rejected: 0, signatureChecks: 0, unauthorized: 0, forks: 0, forkRefused: 0 }
    const found: ForkInfo[] = []
    const emit = ((event: string, f: ForkInfo) => { if (event === 'fork') found.push(f); return true }) as never
    const inbound = new Inbound({
      store, sources: new Map(), stats, maxPayloadBytes: 1 << 20, isRunning: () => true, isJoined: () => true, syncSoon: () => {},
      forks: new Forks({ stats, emit }), emit, log: () => {},
      heldCopyChecks: new InlineBudget(20, 1e12),
    } as unknown as InboundParts)
    const relay = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const honest = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const sealed = Array.from({ length: 50 }, (_, i) => sealEnvelope(key, origin, 't', i + 1, Date.now(), new TextEncoder().encode(`m${i + 1}`)))
    for (const s of sealed) expect(await inbound.acceptEnvelope(s.envelope, s.bytes, honest, 'gossip', true)).toBe('stored')
    // a relay sends copies with the genuine bodies and signatures of its own: not forgeries, not penalised
    for (let i = 0; i < 1_000; i++) {
      const s = sealed[i % sealed.length]
      const copy = { ...s.envelope, sig: randomBytes(64) }
      expect(await inbound.acceptEnvelope(copy, encodeEnvelope(copy), relay, 'gossip', true)).toBe('duplicate')
    }
    // the origin's second version of seq 7 comes from an honest peer
    const other = sealEnvelope(key, origin, 't', 7, Date.now(), new TextEncoder().encode('another seven'))
    await inbound.acceptEnvelope(other.envelope, other.bytes, honest, 'gossip', true)
    expect(found).toMatchObject([{ origin, seq: 7, how: 'same seq' }])
    store.close()
  })
})
