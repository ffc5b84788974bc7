// Sync frames shaped by a hostile peer: CBOR value sharing (one small frame standing for gigabytes),
// requests that list a topic or an origin many times, floors repeated without end, batches that carry
// nothing new. Each must cost the other side no more than the bytes sent, and end a pull that makes no
// progress. (Found by a hostile-peer review: a floors flood grew a daemon to 3.5 GB, one 350 KB request
// to 5.5 GB.)
import { describe, it, expect, afterEach } from 'vitest'
import { setTimeout as sleep } from 'node:timers/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { Encoder } from 'cbor-x'
import type { GossipNode } from '../src/core/node.js'
import { assertPlainCbor, NotPlainCborError } from '../src/core/sync/plain-cbor.js'
import { Progress, SyncStallError } from '../src/core/sync/protocol.js'
import { RequestIndex } from '../src/core/sync/asked.js'
import { bucketOf, DIGEST_BUCKETS } from '../src/core/sync/digest.js'
import { startNode, waitFor, addrOf, stopAll, serveSameFrame } from './helpers.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
/** emits CBOR shared references (tags 28/29) for repeated objects, as an attacker would */
const sharing = new Encoder({ useRecords: false, mapsAsObjects: true, structuredClone: true })
const SYNC_1_1 = '/gossipd/sync/1.1.0'

describe('plain CBOR check (plain-cbor.ts)', () => {
  it("passes every frame shape gossipd writes, and decodes them unchanged", () => {
    const frames = [
      { want: [{ topic: 't', origins: [{ origin: '12D3KooWabc', low: 3, ranges: [[5, 9], [12, 2 ** 40]] }] }] },
      { b: 64, d: [['t', new Uint8Array(64).fill(7)], ['u/v', Buffer.alloc(64, 1)]] },
      { diff: [['t', new Uint8Array([1, 2, 3])]] },
      { msgs: [Buffer.from('abc'), new Uint8Array(70_000).fill(9)], more: true, floors: [['t', 'o', 17]] },
      { msgs: [], more: false },
      { next: true },
      { x: [-1, -(2 ** 40), 1.5, null, true, false, 'é', ''] },
    ]
    for (const f of frames) {
      const bytes = cbor.encode(f)
      expect(assertPlainCbor(bytes)).toBe(bytes)
      expect(cbor.decode(bytes)).toEqual(cbor.decode(Buffer.from(bytes)))
    }
  })

  it('refuses shared references, other tags, indefinite lengths, lengths past the frame, deep nesting and trailing bytes', () => {
    const O = { origin: 'o'.repeat(1000), low: 0, ranges: [[5, 5]] }
    const shared = sharing.encode({ want: [{ topic: 't', origins: [O, O, O] }] })
    const bad: Array<[string, Uint8Array]> = [
      ['shared references', shared],
      ['a Set (tag 258)', Buffer.from('d9010283010203', 'hex')],
      ['tag 64 on a text string', Buffer.from('d8406161', 'hex')],
      ['indefinite array', Buffer.from('9f01ff', 'hex')],
      ['indefinite bytes', Buffer.from('5f4101ff', 'hex')],
      ['string longer than the frame', Buffer.from('5a7fffffff00', 'hex')],
      ['array claiming more items than bytes', Buffer.from('9a7fffffff01', 'hex')],
      ['reserved length', Buffer.from('1c', 'hex')],
      ['truncated', Buffer.from('8201', 'hex')],
      ['trailing bytes', Buffer.from('0101', 'hex')],
      ['nesting', Buffer.from('81'.repeat(40) + '01', 'hex')],
    ]
    for (const [what, bytes] of bad) expect(() => assertPlainCbor(bytes), what).toThrow(NotPlainCborError)
  })
})

describe('pull progress (Progress)', () => {
  it('messages asked for are progress, held or not; messages listed as held, malformed entries and floors seen before are not', async () => {
    const stalls = async (batch: (p: Progress) => void): Promise<boolean> => {
      const p = new Progress({ minBytes: 1024, progressWindowMs: 20 })
      batch(p)
      await sleep(30)
      try { batch(p); return false } catch (err) { return err instanceof SyncStallError }
    }
    // entries that are not envelopes, or envelopes the request listed as held (asked.ts): nothing asked for
    expect(await stalls(p => p.batch(0, 0, true))).toBe(true)
    // a frame of floors only, all seen before: not empty (no empty-batch stall), but no progress either
    expect(await stalls(p => p.batch(0, 0, true, 5_000, 0))).toBe(true)
    expect(await stalls(p => p.batch(0, 0, true, 5_000, 100))).toBe(false)
    // an honest server's batch of messages another pull stored first
    expect(await stalls(p => p.batch(1, 4096, true))).toBe(false)
    // three batches in a row with nothing asked for end the pull at once
    const p = new Progress()
    p.batch(0, 0, true); p.batch(0, 0, true)
    expect(() => p.batch(0, 0, true)).toThrow(SyncStallError)
  })
})

describe('what a server answering a pull had reason to send (RequestIndex)', () => {
  it('a topic asked about, and a seq not listed as held', () => {
    const asked = new RequestIndex([{ topic: 't', origins: [{ origin: 'a', low: 5, ranges: [[8, 9], [12, 12]] }] }]).asked
    expect([4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map(seq => asked('t', 'a', seq))).toEqual([false, false, true, true, false, false, true, true, false, true])
    expect(asked('t', 'b', 1), 'an origin not listed (a truncated request)').toBe(true)
    expect(asked('u', 'a', 6), 'a topic not asked about').toBe(false)
    expect([asked('t', 'a', 6), asked('t', 'b', 1)], 'sent again in the same pull').toEqual([false, false])
    const digest = new RequestIndex([{ topic: 't', origins: [] }], (t, o) => o === 'b').asked
    expect([digest('t', 'b', 1), digest('t', 'c', 1)], 'unlisted origins: only those the server answers for (1.2.0: differing buckets)').toEqual([true, false])
  })

  it('a listed request (a topic at its origin limit): origins it does not list are nothing the server had reason to send', () => {
    const asked = new RequestIndex([{ topic: 't', origins: [{ origin: 'a', low: 0, ranges: [] }], listed: true }]).asked
    expect(asked('t', 'a', 1)).toBe(true)
    // a server ignoring `listed` (older, or hostile) sends refused origins: no progress, so the pull ends as a stall
    expect(asked('t', 'minted', 1)).toBe(false)
    const digest = new RequestIndex([{ topic: 't', origins: [], listed: true }], () => true).asked
    expect(digest('t', 'minted', 1)).toBe(false)
  })
})

/** open a sync stream from `from` to `to`, send `request`, and count what comes back until the stream ends */
async function askRaw (from: GossipNode, to: GossipNode, request: Uint8Array): Promise<{ frames: number, bytes: number }> {
  const stream = await from.libp2p.dialProtocol(multiaddr(addrOf(to)), SYNC_1_1)
  const s = lpStream(stream, { maxDataLength: 64 * 1024 * 1024, maxBufferSize: 256 * 1024 * 1024 })
  await s.write(request)
  const got = { frames: 0, bytes: 0 }
  try {
    for (;;) {
      const f = await s.read({ signal: AbortSignal.timeout(5_000) })
      got.frames++
      got.bytes += f.byteLength
      const frame = cbor.decode(f.subarray()) as { more?: boolean }
      if (frame.more !== true) break
      await s.write(cbor.encode({ next: true }))
    }
  } catch { /* reset or closed: the answer ended */ }
  stream.abort(new Error('done'))
  return got
}

describe('a sync server facing hostile requests', () => {
  it('answers nothing to shared references, a topic listed twice or an origin listed twice, and still serves honest pullers', async () => {
    const srv = await startNode({ topics: ['t'] })
    const evil = await startNode({ topics: [] })
    nodes = [srv, evil]
    for (let i = 0; i < 3; i++) await srv.publish('t', `m${i}`)
    // origins the server lacks with a bottom hole: the old server echoed each in a floor
    const O = { origin: 'o'.repeat(10_000), low: 0, ranges: [[5, 5]] }
    const sharedRefs = await askRaw(evil, srv, sharing.encode({ want: [{ topic: 't', origins: Array(1000).fill(O) }] }))
    expect(sharedRefs.bytes, 'shared references').toBe(0)
    const topicTwice = await askRaw(evil, srv, cbor.encode({ want: Array.from({ length: 50 }, () => ({ topic: 't', origins: [] })) }))
    expect(topicTwice.bytes, 'a topic listed 50 times').toBe(0)
    const o = { origin: 'x', low: 0, ranges: [] }
    const originTwice = await askRaw(evil, srv, cbor.encode({ want: [{ topic: 't', origins: [o, o] }] }))
    expect(originTwice.bytes, 'an origin listed twice').toBe(0)
    const longOrigin = await askRaw(evil, srv, cbor.encode({ want: [{ topic: 't', origins: [{ origin: 'o'.repeat(257), low: 0, ranges: [] }] }] }))
    expect(longOrigin.bytes, 'an origin of 257 characters').toBe(0)
    // an honest request still gets the three messages
    const honest = await askRaw(evil, srv, cbor.encode({ want: [{ topic: 't', origins: [] }] }))
    expect(honest.frames).toBeGreaterThanOrEqual(1)
    expect(honest.bytes).toBeGreaterThan(0)
    const c = await startNode({ topics: ['t'], peers: [addrOf(srv)] })
    nodes.push(c)
    await waitFor('an honest peer catches up', () => c.history('t').length === 3, 10_000)
  })
})

/** `from`'s stored messages 1-3 of `origin` on 't', as one batch frame with more to come */
function frameOf (from: GossipNode, origin: string): Uint8Array {
  const store = (from as unknown as { run: { store: { readRawRange: (t: string, o: string, a: number, b: number, n: number) => Array<{ raw: Uint8Array }> } } }).run.store
  return cbor.encode({ msgs: store.readRawRange('t', origin, 1, 3, 10).map(r => r.raw), more: true })
}

/** a node with 3 messages on 't' (to become a hostile server) and a puller that already pulled them */
async function serverAndPuller (): Promise<{ evil: GossipNode, c: GossipNode }> {
  const evil = await startNode({ topics: ['t'] })
  nodes = [evil]
  for (let i = 0; i < 3; i++) await evil.publish('t', `m${i}`)
  const c = await startNode({ topics: ['t'], peers: [addrOf(evil)] })
  nodes.push(c)
  await waitFor('the three messages pulled', () => c.history('t').length === 3, 10_000)
  return { evil, c }
}

describe('a puller facing a hostile server', () => {
  it('a server sending floors without end (for a topic we never asked about) has its pull ended as a stall', async () => {
    const evil = await startNode({ topics: ['t'] })
    nodes = [evil]
    const floors = Array.from({ length: 5_000 }, (_, i) => ['zz', 'O' + i.toString(36).padStart(50, 'x'), 7])
    const frame = cbor.encode({ msgs: [], more: true, floors })
    const sent = await serveSameFrame(evil, frame, { maxDataLength: 1e7 })
    const c = await startNode({ topics: ['t'], peers: [addrOf(evil)] })
    nodes.push(c)
    // the old puller kept every floor (memory without bound) and counted each as progress: no stall for 20 s
    await waitFor('the floods pull ended as a stall', () => (c.status().sync.stalls ?? 0) >= 1, 8_000)
    expect(sent.frames).toBeLessThan(10)
  })
})

describe('a puller facing a server that resends what we hold', () => {
  it('batches of messages the request listed as held are not progress: the pull ends as a stall, not at the 120 s deadline', async () => {
    const { evil, c } = await serverAndPuller()
    const frame = frameOf(evil, evil.peerId)
    const sent = await serveSameFrame(evil, frame)
    c.requestSync(evil.peerId)
    // the old puller counted every message as progress, held or not: the pull ran on to its 120 s deadline
    await waitFor('the resending pull ended as a stall', () => (c.status().sync.stalls ?? 0) >= 1, 10_000)
    expect(sent.frames).toBeLessThan(10)
  })
})

describe('a puller facing a 1.2.0 server that resends what we hold of origins it did not ask about', () => {
  it('messages of an origin in a bucket the server said agrees are not progress: the pull ends as a stall', async () => {
    const { evil, c } = await serverAndPuller()
    const frame = frameOf(evil, evil.peerId)
    // the server says only a bucket holding none of our origins differs: we list no origin, and it then
    // sends what we hold of an origin of a bucket it said agrees (an honest server never does)
    const other = (bucketOf(evil.peerId, DIGEST_BUCKETS) + 1) % DIGEST_BUCKETS
    const mask = new Uint8Array(DIGEST_BUCKETS / 8)
    mask[other >> 3] |= 1 << (other & 7)
    let frames = 0
    for (const id of ['/gossipd/sync/1.2.0', '/gossipd/sync/1.1.0', '/gossipd/sync/1.0.0']) await evil.libp2p.unhandle(id)
    await evil.libp2p.handle('/gossipd/sync/1.2.0', (stream) => {
      const s = lpStream(stream)
      void (async () => {
        await s.read()
        await s.write(cbor.encode({ diff: [['t', mask]] }))
        await s.read()
        while (stream.status === 'open') {
          await s.write(frame)
          frames++
          await s.read({ signal: AbortSignal.timeout(10_000) })
        }
      })().catch(() => stream.abort(new Error('test sync server done')))
    })
    c.requestSync(evil.peerId)
    await waitFor('the resending pull ended as a stall', () => (c.status().sync.stalls ?? 0) >= 1, 10_000)
    expect(frames).toBeLessThan(10)
  })
})

describe('a puller facing a server that resends what it already sent in the same pull', () => {
  it('a message counts as progress once per pull: a server resending an origin we did not list ends as a stall', async () => {
    const x = await startNode({ topics: ['t'] })
    nodes = [x]
    for (let i = 0; i < 3; i++) await x.publish('t', `x${i}`)
    const evil = await startNode({ topics: ['t'], peers: [addrOf(x)] })
    nodes.push(evil)
    await waitFor('evil holds x\'s messages', () => evil.history('t').length === 3, 10_000)
    // x's messages, which the puller holds nothing of: the first batch is new, every later one the same again
    const sent = await serveSameFrame(evil, frameOf(evil, x.peerId))
    const c = await startNode({ topics: ['t'], peers: [addrOf(evil)] })
    nodes.push(c)
    await waitFor('the resending pull ended as a stall', () => (c.status().sync.stalls ?? 0) >= 1, 10_000)
    expect(c.history('t').length).toBe(3)
    // one pull stalls within 4 frames; a request queued while it ran may start one more at once (thousands before)
    expect(sent.frames).toBeLessThan(100)
  })
})

describe('a puller facing an honest server with many pruned origins', () => {
  it('frames of floors only (origins the server holds as low marks alone) are not a stall, and the pull goes on to the messages', async () => {
    const a = await startNode({ topics: ['t'] })
    nodes = [a]
    const store = (a as unknown as { run: { store: { raiseLow: (t: string, o: string, low: number) => void } } }).run.store
    // 16,000 origins whose messages retention pruned: the server reports a floor for each, 5,000 to a frame
    for (let i = 0; i < 16_000; i++) store.raiseLow('t', `12D3KooWdead${i}`, 5)
    await a.publish('t', 'live')
    const c = await startNode({ topics: ['t'], peers: [addrOf(a)] })
    nodes.push(c)
    const failed: string[] = []
    c.on('sync:failed', (e: { error: string }) => failed.push(e.error))
    await waitFor('the live message pulled', () => c.history('t').length === 1, 10_000)
    expect(failed).toEqual([])
  })
})
