// Signature checks run inline on the main thread up to a budget per window, then on libuv's pool
// (src/core/inline-budget.ts): both paths must give the same answer for genuine and forged envelopes.
import { describe, it, expect } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { sealEnvelope, verifyEnvelope, verifyEnvelopeNow, type Envelope } from '../src/core/envelope.js'
import { InlineBudget } from '../src/core/inline-budget.js'
import { Inbound, type InboundParts } from '../src/core/inbound.js'

async function samples (): Promise<Array<{ what: string, env: Envelope, ok: boolean }>> {
  const key = await generateKeyPair('Ed25519')
  const other = await generateKeyPair('Ed25519')
  const origin = peerIdFromPrivateKey(key).toString()
  const { envelope } = sealEnvelope(key, origin, 't', 1, Date.now(), Buffer.from('hello'))
  const flip = (b: Uint8Array, i: number): Uint8Array => { const c = Uint8Array.from(b); c[i] ^= 1; return c }
  return [
    { what: 'genuine', env: envelope, ok: true },
    { what: 'body changed', env: { ...envelope, body: flip(envelope.body, envelope.body.byteLength - 1) }, ok: false },
    { what: 'signature changed', env: { ...envelope, sig: flip(envelope.sig, 10) }, ok: false },
    { what: 'signed by another key', env: { ...envelope, origin: peerIdFromPrivateKey(other).toString() }, ok: false },
    { what: 'origin not a peer id', env: { ...envelope, origin: 'not-a-peer-id' }, ok: false },
    { what: 'short signature', env: { ...envelope, sig: envelope.sig.subarray(0, 63) }, ok: false },
    { what: 'empty signature', env: { ...envelope, sig: new Uint8Array(0) }, ok: false },
  ]
}

describe('inline signature checks', () => {
  it('verifyEnvelopeNow agrees with the pool verifier on genuine and forged envelopes, and never throws', async () => {
    for (const s of await samples()) {
      expect(verifyEnvelopeNow(s.env), s.what).toBe(s.ok)
      expect(await verifyEnvelope(s.env), s.what).toBe(s.ok)
    }
  })

  it('the budget allows perWindow inline checks per window, then none until the next window', () => {
    const b = new InlineBudget(3, 100)
    expect([b.take(1000), b.take(1001), b.take(1002), b.take(1003), b.take(1099)]).toEqual([true, true, true, false, false])
    expect(b.take(1100)).toBe(true)
    expect(b.take(1100)).toBe(true)
  })

  it('inbound gives the same answers inline, on the pool, and switching between them', async () => {
    const list = await samples()
    const expected = Array.from({ length: 140 }, (_, i) => list[i % list.length].ok)
    // budgets: never inline (pool only), always inline, and the default (inline first, then the pool)
    for (const budget of [new InlineBudget(0), new InlineBudget(1_000_000), undefined]) {
      const stats = { shed: 0, rejected: 0, signatureChecks: 0 }
      const inbound = new Inbound({ stats, inlineChecks: budget } as unknown as InboundParts)
      const answers: boolean[] = []
      for (let i = 0; i < 140; i++) answers.push(await inbound.checkSignature(list[i % list.length].env))
      expect(answers).toEqual(expected)
      expect(stats.signatureChecks).toBe(140)
    }
  })
})
