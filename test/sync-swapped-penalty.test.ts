// A relay may swap the signatures of a run of messages for garbage, all but the newest: the run's newest
// signature vouches for every body below it (verify-batch.ts), so an honest node pulling from the relay
// stores the run with the bytes it got, and serves it onward. A fresh puller getting a batch of those whose
// newest is in the next batch can verify none of them: it used to penalise the honest server one point per
// envelope, 1,000 points for one batch (a ban is 50), so every fresh node banned the honest server at its
// first pull. Now, as malformed envelopes, at most MALFORMED_POINTS_PER_BATCH per batch.
import { describe, it, expect, afterEach } from 'vitest'
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Store } from '../src/store/store.js'
import { envelopeCodec, sealEnvelope, encodeEnvelope } from '../src/core/envelope.js'
import { Inbound, type InboundParts } from '../src/core/inbound.js'
import { Forks } from '../src/core/forks.js'
import { batchAcceptor, MALFORMED_POINTS_PER_BATCH } from '../src/core/sync/accept-batch.js'
import type { NodeStats } from '../src/core/events.js'
import { tempDir, removeTempDirs } from './helpers.js'

afterEach(() => removeTempDirs())

describe('a sync batch whose signatures a relay swapped', () => {
  it('costs its server at most MALFORMED_POINTS_PER_BATCH points, not one per envelope; nothing of it is stored', async () => {
    const key = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    const server = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    // seqs 1-1,000 of a run whose newest (1,001, genuine) comes in the next batch
    const raws: Uint8Array[] = []
    let prev: Uint8Array | undefined
    for (let seq = 1; seq <= 1000; seq++) {
      const s = sealEnvelope(key, origin, 't', seq, Date.now(), new TextEncoder().encode(`m${seq}`), prev)
      prev = s.hash
      raws.push(encodeEnvelope({ ...s.envelope, sig: randomBytes(64) }))
    }
    const { store, stats, accept, points } = acceptor()
    const got = await accept(raws, server)
    expect(got.stored).toBe(0)
    expect(stats.rejected).toBe(1000)
    expect(points()).toBeLessThanOrEqual(MALFORMED_POINTS_PER_BATCH)
    expect(points()).toBeGreaterThan(0)
    store.close()
  })

  it('a forged other version of a held message still costs a point each', async () => {
    const key = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    const server = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const { store, stats, accept, points } = acceptor()
    const genuine: Uint8Array[] = []
    const forged: Uint8Array[] = []
    let prev: Uint8Array | undefined
    for (let seq = 1; seq <= 50; seq++) {
      const s = sealEnvelope(key, origin, 't', seq, Date.now(), new TextEncoder().encode(`m${seq}`), prev)
      genuine.push(s.bytes)
      forged.push(encodeEnvelope({ ...s.envelope, payload: new TextEncoder().encode(`forged ${seq}`), sig: randomBytes(64) }))
      prev = s.hash
    }
    expect((await accept(genuine, server)).stored).toBe(50)
    expect(points()).toBe(0)
    await accept(forged, server)
    expect(stats.rejected).toBe(50)
    expect(points()).toBeGreaterThanOrEqual(50)
    store.close()
  })
})

function acceptor (): { store: Store, stats: NodeStats, accept: ReturnType<typeof batchAcceptor>, points: () => number } {
  const store = new Store(tempDir(), { codec: envelopeCodec })
  store.addTopic('t')
  const stats: NodeStats = { shed: 0, rejected: 0, signatureChecks: 0, unauthorized: 0, forks: 0, forkRefused: 0 }
  let points = 0
  const penalise = (_peer: unknown, ...rest: unknown[]): void => { points += typeof rest[rest.length - 1] === 'number' ? rest[rest.length - 1] as number : 1 }
  const inbound = new Inbound({
    store, sources: new Map(), stats, maxPayloadBytes: 1 << 20, isRunning: () => true, isJoined: () => true,
    syncSoon: () => {}, forks: new Forks({ stats, emit: (() => true) as never }), emit: (() => true) as never, log: () => {}, penalise,
  } as unknown as InboundParts)
  return { store, stats, accept: batchAcceptor({ store, inbound, isJoined: () => true, emit: (() => true) as never, stats, penalise }), points: () => points }
}
