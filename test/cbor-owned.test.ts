// cbor-x's shared encoding buffer: a large encoding (a bundle, a sync frame, a big payload) must not leave
// every later envelope as a view pinning a multi-MB buffer (src/core/cbor-owned.ts).
import { describe, it, expect } from 'vitest'
import { Encoder } from 'cbor-x'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { sealEnvelope, decodeEnvelope } from '../src/core/envelope.js'
import { decodeBundle, encodeBundle } from '../src/core/bundle.js'
import { encodeCbor, MAX_SHARED_BYTES } from '../src/core/cbor-owned.js'

describe('cbor encoding buffers', () => {
  it('an envelope sealed after a 200-envelope bundle does not share the bundle\'s grown buffer', async () => {
    const key = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    const raws = Array.from({ length: 200 }, (_, i) => sealEnvelope(key, origin, 't', i + 1, Date.now(), new Uint8Array(1000).fill(i)).bytes)
    const bundle = encodeBundle(raws)
    expect(decodeBundle(bundle).map(r => Buffer.from(r).toString('hex'))).toEqual(raws.map(r => Buffer.from(r).toString('hex')))
    // the bundle (~230 KB) has a buffer of its own, not one four times its size
    expect(bundle.buffer.byteLength).toBe(bundle.byteLength)
    const after = sealEnvelope(key, origin, 't', 201, Date.now(), new Uint8Array(1000).fill(7))
    // before: a view of the ~1 MiB buffer cbor-x had grown for the bundle
    expect(after.bytes.buffer.byteLength).toBeLessThanOrEqual(MAX_SHARED_BYTES)
    expect(decodeEnvelope(after.bytes).seq).toBe(201)
  })

  it('a 1 MiB payload is sealed into a buffer of its own, and the next small envelope is not a view of a large one', async () => {
    const key = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    const big = sealEnvelope(key, origin, 't', 1, Date.now(), new Uint8Array(1024 * 1024).fill(1))
    expect(big.bytes.buffer.byteLength).toBe(big.bytes.byteLength)
    expect(decodeEnvelope(big.bytes).payload.byteLength).toBe(1024 * 1024)
    const small = sealEnvelope(key, origin, 't', 2, Date.now(), new Uint8Array(100), big.hash)
    expect(small.bytes.buffer.byteLength).toBeLessThanOrEqual(MAX_SHARED_BYTES)
  })

  it('copies out exactly what cbor-x wrote, small or large', () => {
    const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
    for (const value of [{ msgs: [Buffer.alloc(10, 1)], more: true }, { msgs: Array.from({ length: 300 }, (_, i) => Buffer.alloc(1000, i)), more: false }]) {
      const plain = Buffer.from(cbor.encode(value)) // a copy, taken before the next encode can move the shared buffer
      const owned = encodeCbor(cbor, value)
      expect(owned.equals(plain)).toBe(true)
      expect(cbor.decode(owned)).toEqual(value)
    }
  })
})
