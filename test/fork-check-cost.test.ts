// The fork check (inbound.ts heldCopy) compares a copy of a held message with the stored row. Under load
// two or three pulls bring the same missing range (20-35 thousand copies in one 10,000-message bench run),
// so each copy read its row from SQLite. A copy stored lately with the same signature is now known to be
// the same signed body without a read (recent-sigs.ts); one with another signature is still read, so a
// fork is still found.
import { describe, it, expect, afterEach, vi } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Store } from '../src/store/store.js'
import { envelopeCodec, sealEnvelope } from '../src/core/envelope.js'
import { Inbound, type InboundParts } from '../src/core/inbound.js'
import { Forks, type ForkInfo } from '../src/core/forks.js'
import { RecentSigs } from '../src/core/recent-sigs.js'
import type { NodeStats } from '../src/core/events.js'
import { tempDir, removeTempDirs } from './helpers.js'

afterEach(() => removeTempDirs())

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('the fork check on copies of held messages', () => {
  it('reads no row for a copy stored lately with the same signature, and still finds a second version', async () => {
    const store = new Store(tempDir(), { codec: envelopeCodec })
    store.addTopic('t')
    const stats: NodeStats = { shed: 0, rejected: 0, signatureChecks: 0, unauthorized: 0, forks: 0, forkRefused: 0 }
    const found: ForkInfo[] = []
    const forks = new Forks({ stats, emit: ((event: string, f: ForkInfo) => { if (event === 'fork') found.push(f); return true }) as never })
    const inbound = new Inbound({
      store, sources: new Map(), stats, maxPayloadBytes: 1 << 20, isRunning: () => true, isJoined: () => true,
      syncSoon: () => {}, forks, emit: (() => true) as never, log: () => {},
    } as InboundParts)
    const key = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    const from = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    let prev: Uint8Array | undefined
    const sealed: Array<ReturnType<typeof sealEnvelope>> = []
    for (let seq = 1; seq <= 200; seq++) {
      const s = sealEnvelope(key, origin, 't', seq, Date.now(), enc(`m${seq}`), prev)
      prev = s.hash
      sealed.push(s)
    }
    for (const s of sealed) expect(await inbound.acceptEnvelope(s.envelope, s.bytes, from, 'sync', true, async () => true)).toBe('stored')
    const reads = vi.spyOn(store, 'readRawRange')
    // a second pull brings the same range again
    for (const s of sealed) expect(await inbound.acceptEnvelope(s.envelope, s.bytes, from, 'sync', true, async () => true)).toBe('duplicate')
    expect(reads).toHaveBeenCalledTimes(0)
    // another version of seq 5, validly signed: read, compared, a fork
    const other = sealEnvelope(key, origin, 't', 5, Date.now(), enc('the other five'), sealed[3].hash)
    expect(await inbound.acceptEnvelope(other.envelope, other.bytes, from, 'sync', true, async () => true)).toBe('duplicate')
    expect(reads).toHaveBeenCalled()
    expect(found).toMatchObject([{ topic: 't', origin, seq: 5, how: 'same seq' }])
    store.close()
  })

  it('remembers a signature per seq of a stream; another seq in the same slot, or another signature, is not the same', () => {
    const r = new RecentSigs()
    const sig = (n: number): Uint8Array => new Uint8Array(64).fill(n)
    r.remember('t', 'o', 3, sig(1))
    expect(r.sameAsStored('t', 'o', 3, sig(1))).toBe(true)
    expect(r.sameAsStored('t', 'o', 3, sig(2))).toBe(false)
    expect(r.sameAsStored('t', 'other', 3, sig(1))).toBe(false)
    expect(r.sameAsStored('t', 'o', 4, sig(1))).toBe(false)
    // the seq a window above lands in the same slot: it replaces seq 3 there
    r.remember('t', 'o', 3 + 8192, sig(1))
    expect(r.sameAsStored('t', 'o', 3, sig(1))).toBe(false)
    expect(r.sameAsStored('t', 'o', 3 + 8192, sig(1))).toBe(true)
    // an empty slot matches nothing, not even a signature of zeros
    expect(r.sameAsStored('t', 'o', 8, new Uint8Array(64))).toBe(false)
  })
})
