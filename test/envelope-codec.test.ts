// The envelope's outer layer [version, body, sig] is written and read without cbor-x on the hot path:
// the bytes must stay exactly what cbor-x wrote, and every envelope cbor-x accepted must still decode.
import { describe, it, expect } from 'vitest'
import { Encoder } from 'cbor-x'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { sealEnvelope, decodeEnvelope, encodeEnvelope, verifyEnvelope, bodyHash, MalformedEnvelopeError } from '../src/core/envelope.js'
import { createHash } from 'node:crypto'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

describe('envelope outer encoding', () => {
  it('seals byte for byte what cbor-x encodes, for bodies of every length class, and they decode and verify', async () => {
    const key = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    // body lengths below 256, below 65,536 and above: each byte-string header size
    for (const size of [0, 5, 150, 300, 70_000]) {
      const payload = Buffer.alloc(size, 7)
      const { envelope, bytes, hash } = sealEnvelope(key, origin, 't', 3, Date.now(), payload, Buffer.alloc(32, 1))
      expect(Buffer.from(bytes).equals(cbor.encode([1, envelope.body, envelope.sig]))).toBe(true)
      expect(Buffer.from(hash).equals(createHash('sha256').update(envelope.body).digest())).toBe(true)
      const back = decodeEnvelope(bytes)
      expect(Buffer.from(back.payload).equals(payload)).toBe(true)
      expect(Buffer.from(back.body).equals(envelope.body)).toBe(true)
      expect(await verifyEnvelope(back)).toBe(true)
      // a copy that is a plain Uint8Array (not a Buffer) decodes the same
      expect(decodeEnvelope(new Uint8Array(bytes)).seq).toBe(3)
    }
  })

  it('still decodes what only the general decoder understands, and refuses what it refused', async () => {
    const key = await generateKeyPair('Ed25519')
    const origin = peerIdFromPrivateKey(key).toString()
    const { envelope, bytes } = sealEnvelope(key, origin, 't', 1, Date.now(), Buffer.from('hi'))
    // a longer-than-needed length header for the body (valid CBOR, not what gossipd writes)
    const long = Buffer.concat([Buffer.from([0x83, 0x01, 0x59, envelope.body.byteLength >> 8, envelope.body.byteLength & 0xff]), envelope.body, Buffer.from([0x58, 0x40]), envelope.sig])
    expect(decodeEnvelope(long).seq).toBe(1)
    expect(await verifyEnvelope(decodeEnvelope(long))).toBe(true)
    // a tagged Uint8Array signature, as cbor-x writes for a bare Uint8Array
    expect(decodeEnvelope(encodeEnvelope({ origin, topic: 't', seq: 2, ts: Date.now(), payload: new Uint8Array(1), sig: new Uint8Array(64) })).seq).toBe(2)
    // a trailing byte, a truncated signature, a wrong version, a wrong item count
    expect(() => decodeEnvelope(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(MalformedEnvelopeError)
    expect(() => decodeEnvelope(bytes.subarray(0, bytes.byteLength - 1))).toThrow(MalformedEnvelopeError)
    expect(() => decodeEnvelope(Buffer.concat([Buffer.from([0x83, 0x02]), bytes.subarray(2)]))).toThrow(MalformedEnvelopeError)
    expect(() => decodeEnvelope(Buffer.concat([Buffer.from([0x84]), bytes.subarray(1), Buffer.from([0x40])]))).toThrow(MalformedEnvelopeError)
    expect(bodyHash(envelope.body).byteLength).toBe(32)
  })
})
