// The puller decodes sync batch frames from the stream's chunks without joining them (batch-frame.ts).
// Same results as cbor-x on what gossipd servers write, however the frame is split into chunks; anything
// else (hostile or merely unusual) is left to the generic decoder, so a pull refuses it as before.
import { describe, it, expect } from 'vitest'
import { streamPair, lpStream } from '@libp2p/utils'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Encoder } from 'cbor-x'
import { decodePlainBatch } from '../src/core/sync/batch-frame.js'
import { pullFrom } from '../src/core/sync/protocol.js'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })

/** `bytes` cut into chunks at the given offsets */
function cut (bytes: Uint8Array, at: number[]): Uint8Array[] {
  const out: Uint8Array[] = []
  let from = 0
  for (const a of [...at, bytes.byteLength]) { out.push(bytes.subarray(from, a)); from = a }
  return out
}

function envelopesLike (n: number, size: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.alloc(size + (i % 7), i % 251))
}

describe('decodePlainBatch', () => {
  it('gives what cbor-x gives, however the frame is chunked, envelopes straddling chunks included', () => {
    for (const [n, size] of [[0, 0], [1, 0], [3, 10], [1000, 1100], [30, 70_000]]) {
      for (const more of [true, false]) {
        const msgs = envelopesLike(n, size)
        const frame = cbor.encode({ msgs, more })
        const whole = cbor.decode(frame) as { msgs: Uint8Array[], more: boolean }
        for (const step of [1, 7, 1000, 65_536, frame.byteLength]) {
          if (step < 1000 && frame.byteLength > 100_000) continue // a chunk per byte of 2 MiB: slow, and proves nothing more
          const at: number[] = []
          for (let a = step; a < frame.byteLength; a += step) at.push(a)
          const got = decodePlainBatch(cut(frame, at))
          expect(got).toBeDefined()
          expect(got!.more).toBe(more)
          expect(got!.msgs.length).toBe(n)
          got!.msgs.forEach((m, i) => {
            expect(Buffer.isBuffer(m)).toBe(true)
            expect(Buffer.compare(m, whole.msgs[i])).toBe(0)
          })
        }
      }
    }
  })

  it('leaves every other frame to the generic decoder: floors, acks, tags, wrong types, extra or missing keys', () => {
    const other = [
      { msgs: [Buffer.from('a')], more: true, floors: [['t', 'o', 3]] },
      { next: true },
      { msgs: [new Uint8Array([1, 2])], more: true }, // tagged typed array (d8 40)
      { msgs: 'x', more: true },
      { msgs: [Buffer.from('a'), 'b'], more: true },
      { msgs: [Buffer.from('a')], more: 1 },
      { msgs: [Buffer.from('a')] },
      { more: true },
      { msgs: [Buffer.from('a')], more: true, x: 1 },
      [Buffer.from('a')],
      'msgs',
      null,
    ]
    for (const f of other) expect(decodePlainBatch([cbor.encode(f)])).toBeUndefined()
  })

  it('refuses truncated frames and trailing bytes at every length', () => {
    const frame = cbor.encode({ msgs: envelopesLike(5, 40), more: true })
    for (let len = 0; len < frame.byteLength; len++) expect(decodePlainBatch([frame.subarray(0, len)])).toBeUndefined()
    expect(decodePlainBatch([frame, new Uint8Array([0])])).toBeUndefined()
  })

  it('refuses lengths beyond the frame without allocating for them', () => {
    const hdr = Buffer.from('a2646d736773', 'hex') // map(2), "msgs"
    const moreTrue = Buffer.from('646d6f7265f5', 'hex')
    const frames = [
      Buffer.concat([hdr, Buffer.from('9affffffff', 'hex'), moreTrue]), // 4 billion elements
      Buffer.concat([hdr, Buffer.from('815affffffff00', 'hex'), moreTrue]), // a 4 GiB byte string
      Buffer.concat([hdr, Buffer.from('815b0000000000000001', 'hex'), moreTrue]), // 8-byte length
      Buffer.concat([hdr, Buffer.from('9f41ffff', 'hex'), moreTrue]), // indefinite array
      Buffer.concat([hdr, Buffer.from('815f41ffff', 'hex'), moreTrue]), // indefinite byte string
      Buffer.from('bf646d73677380646d6f7265f5ff', 'hex'), // indefinite map
      Buffer.from('a2786d', 'hex'), // a key whose length runs past the end
    ]
    for (const f of frames) expect(decodePlainBatch([f])).toBeUndefined()
  })

  it('never throws on random bytes', () => {
    let seed = 7
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed }
    const base = cbor.encode({ msgs: envelopesLike(4, 30), more: false })
    for (let i = 0; i < 2000; i++) {
      const f = Buffer.from(base)
      for (let k = 0; k < 1 + (rnd() % 4); k++) f[rnd() % f.byteLength] = rnd() & 0xff
      expect(() => decodePlainBatch(cut(f, [rnd() % f.byteLength]))).not.toThrow()
    }
  })
})

describe('a puller given hostile batch frames', () => {
  /** pull from a fake server that writes `frame` (raw bytes) after the request; the pull's outcome */
  async function pullRaw (frame: Uint8Array): Promise<string> {
    const [out, inb] = await streamPair()
    const s = lpStream(inb)
    void (async () => { await s.read(); await s.write(frame) })().catch(() => {})
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    let accepted = 0
    return await pullFrom(out, peer, [{ topic: 't', origins: [] }], async raws => { accepted += raws.length; return { stored: raws.length, asked: raws.length, askedBytes: 0 } })
      .then(stats => `ok ${stats.received} ${accepted}`, (err: Error) => `error: ${err.message}`)
  }

  it('takes a good batch, and ends the pull with an error on a truncated, oversized or mistyped one', async () => {
    expect(await pullRaw(cbor.encode({ msgs: envelopesLike(3, 20), more: false }))).toBe('ok 3 3')
    const good = cbor.encode({ msgs: envelopesLike(3, 20), more: false })
    expect(await pullRaw(good.subarray(0, good.byteLength - 5))).toMatch(/^error: /)
    expect(await pullRaw(Buffer.from('a2646d7367739affffffff646d6f7265f4', 'hex'))).toMatch(/^error: /)
    expect(await pullRaw(cbor.encode({ msgs: 'x', more: false }))).toBe('error: sync: malformed batch from server')
    expect(await pullRaw(cbor.encode(null))).toBe('error: sync: malformed batch from server')
  })
})
