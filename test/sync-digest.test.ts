// Issue 11, item 3: digest-first anti-entropy (/gossipd/sync/1.2.0). Two peers holding the same exchange
// one small frame each way, whatever the number of origins; a difference costs only the origins of the
// buckets that differ; floors, old peers (1.1.0) and malformed frames behave as before. The protocol
// tests run the puller and the server on two stores over an in-memory stream pair, the last ones on nodes.
import { describe, it, expect, afterEach } from 'vitest'
import { streamPair, lpStream } from '@libp2p/utils'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { Encoder } from 'cbor-x'
import { multiaddr } from '@multiformats/multiaddr'
import { Store } from '../src/store/store.js'
import { envelopeCodec, decodeEnvelope } from '../src/core/envelope.js'
import {
  SYNC_PROTOCOL_1_2, pullFrom, pullDigest, serveSync, serveDigest, requestPages, syncMeter,
  type Floor, type SyncStats, type TopicWant, type AcceptBatch,
} from '../src/core/sync/protocol.js'
import { DigestCache, DIGEST_BUCKETS, bucketOf, topicDigest } from '../src/core/sync/digest.js'
import type { GossipNode } from '../src/core/node.js'
import { startNode, stopAll, waitFor, addrOf, tempDir, storeRow, removeTempDirs } from './helpers.js'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const stores: Store[] = []
let nodes: GossipNode[] = []
afterEach(async () => {
  syncMeter.frame = undefined
  for (const s of stores.splice(0)) s.close()
  await stopAll(nodes.splice(0))
  removeTempDirs()
})

function newStore (): Store {
  const s = new Store(tempDir(), { codec: envelopeCodec })
  s.addTopic('t')
  stores.push(s)
  return s
}

/** origin ids as a node would see them (printable, peer-id sized) */
const originIds = (n: number, prefix = 'o'): string[] => Array.from({ length: n }, (_, i) => `12D3KooW${prefix}${String(i).padStart(6, '0')}`)

async function fill (store: Store, origins: string[], seqs: number[]): Promise<void> {
  for (const o of origins) for (const seq of seqs) void store.insert(storeRow('t', o, seq))
  await store.whenFlushed()
}

/** what a node does with a sync batch, minus signature checks (the rows carry none) */
function acceptInto (store: Store): AcceptBatch {
  return async raws => {
    const rows = await Promise.all(raws.map(async raw => {
      const e = decodeEnvelope(raw)
      return await store.insert({ topic: e.topic, origin: e.origin, seq: e.seq, ts: e.ts, payload: e.payload, raw })
    }))
    await store.whenFlushed()
    return { stored: rows.filter(r => r != null).length, asked: raws.length, askedBytes: raws.reduce((n, r) => n + r.byteLength, 0) }
  }
}

let me: PeerId | undefined
async function peerId (): Promise<PeerId> {
  me ??= peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  return me
}

interface Pull { stats: SyncStats, sent: number, pullBytes: number, serveBytes: number, pullFrames: unknown[], serveFrames: unknown[] }

/** one pull of topic 't' by `puller` from `server` over an in-memory stream, with every frame counted */
async function pull (puller: Store, server: Store, version: '1.1.0' | '1.2.0' = '1.2.0'): Promise<Pull> {
  const [out, inb] = await streamPair()
  const m = { pullBytes: 0, serveBytes: 0, pullFrames: [] as unknown[], serveFrames: [] as unknown[] }
  syncMeter.frame = (side, bytes, frame) => {
    if (side === 'pull') { m.pullBytes += bytes; m.pullFrames.push(frame) } else { m.serveBytes += bytes; m.serveFrames.push(frame) }
  }
  const page = requestPages(puller, ['t'])[0]
  const pullerDigests = new DigestCache(puller)
  const [sent, stats] = await Promise.all([
    version === '1.2.0' ? serveDigest(inb, server, new DigestCache(server)) : serveSync(inb, server),
    version === '1.2.0'
      ? pullDigest(out, await peerId(), page, t => pullerDigests.digest(t, DIGEST_BUCKETS), acceptInto(puller))
      : pullFrom(out, await peerId(), page, acceptInto(puller)),
  ])
  syncMeter.frame = undefined
  return { stats, sent, ...m }
}

/** two stores holding the same `n` origins' messages 1..3 */
async function twins (n: number): Promise<[Store, Store]> {
  const a = newStore(); const b = newStore()
  await fill(a, originIds(n), [1, 2, 3]); await fill(b, originIds(n), [1, 2, 3])
  return [a, b]
}

const sortFloors = (f: Floor[]): Floor[] => [...f].sort((x, y) => `${x[0]} ${x[1]}`.localeCompare(`${y[0]} ${y[1]}`))

describe('digest-first sync (1.2.0)', () => {
  it('steady state: one small frame each way, the same bytes for 20 and 200 origins, and no batch', async () => {
    const small = await pull(...await twins(20))
    const large = await pull(...await twins(200))
    expect(large.pullBytes).toBe(small.pullBytes)
    expect(large.serveBytes).toBe(small.serveBytes)
    for (const p of [small, large]) {
      expect(p.stats.received).toBe(0)
      expect(p.sent).toBe(0)
      // the digest and its answer: nothing else on the wire
      expect(p.pullFrames.length).toBe(1)
      expect(p.serveFrames).toEqual([{ diff: [] }])
    }
    // 16 hashes of 8 bytes, the topic and a few bytes of framing
    expect(large.pullBytes).toBeLessThan(DIGEST_BUCKETS * 8 + 32)
  })

  it('peers that pruned differently still agree: nothing to send either way, so no diff', async () => {
    const origins = originIds(20)
    const pruned = newStore(); const full = newStore()
    await fill(pruned, origins, [1, 2, 3, 4, 5, 6])
    await fill(full, origins, [1, 2, 3, 4, 5, 6])
    // retention took 1..4 on one side only; an origin with a bottom hole, equally on both sides
    for (const o of origins) pruned.raiseLow('t', o, 4)
    await fill(pruned, ['12D3KooWlate'], [8, 9]); await fill(full, ['12D3KooWlate'], [8, 9])
    for (const [puller, server] of [[pruned, full], [full, pruned]]) {
      const p = await pull(puller, server)
      expect(p.serveFrames).toEqual([{ diff: [] }])
      expect(p.stats.floors).toEqual([['t', '12D3KooWlate', 7]])
    }
    // the old protocol diffs every origin for the same result
    const v11 = await pull(full, pruned, '1.1.0')
    expect(v11.stats.received).toBe(0)
    expect(v11.stats.floors).toContainEqual(['t', '12D3KooWlate', 7])
  })

  it('divergence: the puller gets exactly what it lacks, and lists only the origins of the differing bucket', async () => {
    const origins = originIds(200)
    const x = origins[57]
    const server = newStore(); const puller = newStore()
    await fill(server, origins, [1, 2, 3, 4, 5])
    await fill(puller, origins.filter(o => o !== x), [1, 2, 3, 4, 5])
    await fill(puller, [x], [1, 2, 3])
    const p = await pull(puller, server)
    expect(p.stats.received).toBe(2)
    expect(p.stats.stored).toBe(2)
    expect(puller.heldState('t', x)?.set.ranges).toEqual([[1, 5]])
    const answer = p.serveFrames[0] as { diff: Array<[string, Uint8Array]> }
    expect(answer.diff.length).toBe(1)
    const want = (p.pullFrames[1] as { want: TopicWant[] }).want
    expect(want.length).toBe(1)
    const bucket = bucketOf(x, DIGEST_BUCKETS)
    const listed = want[0].origins.map(o => o.origin).sort()
    expect(listed).toEqual(origins.filter(o => bucketOf(o, DIGEST_BUCKETS) === bucket).sort())
    expect(listed.length).toBeLessThan(origins.length / 4)
    // and nothing of the agreeing buckets came back
    expect(p.sent).toBe(2)
  })

  it('an origin the puller never saw arrives in full', async () => {
    const [puller, server] = await twins(50)
    const y = '12D3KooWnewcomer'
    await fill(server, [y], [1, 2, 3, 4])
    const p = await pull(puller, server)
    expect(p.stats.stored).toBe(4)
    expect(puller.heldState('t', y)?.set.ranges).toEqual([[1, 4]])
    const want = (p.pullFrames[1] as { want: TopicWant[] }).want
    expect(want[0].origins.some(o => o.origin === y)).toBe(false)
  })

  it('a topic the puller holds nothing of yet is sent in full', async () => {
    const server = newStore(); const puller = newStore()
    await fill(server, originIds(30), [1, 2])
    const p = await pull(puller, server)
    expect(p.stats.stored).toBe(60)
  })

  it('floors are those 1.1.0 reports: bottom holes in agreeing buckets, and origins the server lacks', async () => {
    const origins = originIds(40)
    const setup = async (): Promise<[Store, Store]> => {
      const server = newStore(); const puller = newStore()
      await fill(server, origins, [1, 2])
      await fill(puller, origins, [1, 2])
      // both joined late for one origin: its start is gone everywhere (an agreeing bucket)
      await fill(server, ['12D3KooWlate'], [5, 6, 7]); await fill(puller, ['12D3KooWlate'], [5, 6, 7])
      // a bottom hole of an origin the server holds nothing of (its bucket differs)
      await fill(puller, ['12D3KooWgone'], [3, 4])
      // a hole the server can fill, and a floor where the server pruned (raised its low mark)
      await fill(server, ['12D3KooWfill'], [1, 2, 3, 4]); await fill(puller, ['12D3KooWfill'], [4])
      await fill(server, ['12D3KooWpruned'], [5, 6]); server.raiseLow('t', '12D3KooWpruned', 4); await fill(puller, ['12D3KooWpruned'], [6])
      return [puller, server]
    }
    const v11 = await pull(...await setup(), '1.1.0')
    const v12 = await pull(...await setup(), '1.2.0')
    expect(sortFloors(v12.stats.floors)).toEqual(sortFloors(v11.stats.floors))
    expect(v12.stats.floors).toContainEqual(['t', '12D3KooWlate', 4])
    expect(v12.stats.floors).toContainEqual(['t', '12D3KooWgone', Number.MAX_SAFE_INTEGER])
    expect(v12.stats.floors).toContainEqual(['t', '12D3KooWpruned', 4])
    expect(v12.stats.stored).toBe(v11.stats.stored)
    expect(v12.stats.stored).toBe(4) // fill 1..3 and pruned 5
  })

  it('digests are cached until what the topic holds changes', async () => {
    const store = newStore()
    await fill(store, originIds(1000), [1, 2, 3])
    const cache = new DigestCache(store)
    const started = process.hrtime.bigint()
    const first = cache.digest('t', DIGEST_BUCKETS)
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    console.log(`digest of 1,000 origins: ${ms.toFixed(2)} ms (first, with origin bucket hashing)`)
    // warm: the best of 50 (the machine is shared), the store's summary copy and the hashing apart
    const best = (f: () => unknown): number => {
      let min = Infinity
      for (let i = 0; i < 50; i++) { const t = process.hrtime.bigint(); f(); min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e6) }
      return min
    }
    const summary = store.summary('t')
    console.log(`digest of 1,000 origins, warm: summary ${best(() => store.summary('t')).toFixed(3)} ms, hashing ${best(() => topicDigest(summary, DIGEST_BUCKETS)).toFixed(3)} ms`)
    expect(cache.digest('t', DIGEST_BUCKETS)).toBe(first)
    expect(cache.computed).toBe(1)
    await fill(store, ['12D3KooWone'], [1])
    const changed = cache.digest('t', DIGEST_BUCKETS)
    expect(cache.computed).toBe(2)
    expect(changed).not.toEqual(first)
    store.raiseLow('t', '12D3KooWone', 5)
    expect(cache.digest('t', DIGEST_BUCKETS)).not.toEqual(changed)
    expect(cache.computed).toBe(3)
  })

  it('measures steady-state bytes per pull, 1.1.0 against 1.2.0', async () => {
    const rows: string[] = []
    for (const n of [10, 100, 1000]) {
      const v11 = await pull(...await twins(n), '1.1.0')
      const v12 = await pull(...await twins(n), '1.2.0')
      rows.push(`${n} origins: 1.1.0 request ${v11.pullBytes} B, response ${v11.serveBytes} B; 1.2.0 request ${v12.pullBytes} B, response ${v12.serveBytes} B`)
      expect(v12.pullBytes + v12.serveBytes).toBeLessThan(v11.pullBytes + v11.serveBytes)
    }
    console.log(rows.join('\n'))
  }, 60_000)
})

describe('1.2.0 frames from the wire', () => {
  /** serve one stream whose puller sends `frames` raw; resolves with the server's error */
  async function serveGarbage (frames: unknown[]): Promise<string> {
    const server = newStore()
    await fill(server, originIds(3), [1])
    const [out, inb] = await streamPair()
    const served = serveDigest(inb, server, new DigestCache(server))
    const s = lpStream(out)
    for (const f of frames) await s.write(cbor.encode(f))
    return await served.then(() => 'no error', (err: Error) => err.message)
  }

  it('a malformed digest request ends the stream with an error', async () => {
    const ok = new Uint8Array(DIGEST_BUCKETS * 8)
    expect(await serveGarbage([{ b: 0, d: [] }])).toMatch(/malformed digest request/)
    expect(await serveGarbage([{ b: 1000, d: [] }])).toMatch(/malformed digest request/)
    expect(await serveGarbage([{ b: 16, d: 'x' }])).toMatch(/malformed digest request/)
    expect(await serveGarbage([{ b: 16, d: [['t', new Uint8Array(5)]] }])).toMatch(/malformed digest entry/)
    expect(await serveGarbage([{ b: 16, d: [['../x', ok]] }])).toMatch(/malformed digest entry/)
    expect(await serveGarbage([{ b: 16, d: [['t', ok], ['t', ok]] }])).toMatch(/malformed digest entry/)
    expect(await serveGarbage([{ b: 16, d: [['t', ok]] }, { want: 'x' }])).toMatch(/malformed request/)
  })

  /** pull from a server that answers the digest with `answer`; resolves with the puller's error */
  async function pullGarbage (answer: unknown): Promise<string> {
    const puller = newStore()
    await fill(puller, originIds(3), [1])
    const [out, inb] = await streamPair()
    const s = lpStream(inb)
    void (async () => { await s.read(); await s.write(cbor.encode(answer)) })()
    const cache = new DigestCache(puller)
    return await pullDigest(out, await peerId(), requestPages(puller, ['t'])[0], t => cache.digest(t, DIGEST_BUCKETS), acceptInto(puller))
      .then(() => 'no error', (err: Error) => err.message)
  }

  it('a server that answers the digest and then stalls is detected as in 1.1.0', async () => {
    const puller = newStore()
    await fill(puller, originIds(3), [1])
    const [out, inb] = await streamPair()
    const s = lpStream(inb)
    const wants: unknown[] = []
    void (async () => {
      await s.read()
      await s.write(cbor.encode({ diff: [['t', new Uint8Array([0xff, 0xff])]] }))
      wants.push(cbor.decode((await s.read()).subarray()))
      for (let i = 0; i < 5; i++) await s.write(cbor.encode({ msgs: [], more: true }))
    })().catch(() => {})
    const cache = new DigestCache(puller)
    const err = await pullDigest(out, await peerId(), requestPages(puller, ['t'])[0], t => cache.digest(t, DIGEST_BUCKETS), acceptInto(puller))
      .then(() => 'no error', (e: Error) => `${e.name}: ${e.message}`)
    expect(err).toMatch(/SyncStallError: .*empty batches/)
    // every bucket differed: every origin was listed
    expect((wants[0] as { want: TopicWant[] }).want[0].origins.length).toBe(3)
  })

  it('a malformed digest answer ends the pull with an error', async () => {
    expect(await pullGarbage({ msgs: [], more: true })).toMatch(/malformed digest answer/)
    expect(await pullGarbage({ diff: [['other', new Uint8Array([1, 0])]] })).toMatch(/malformed digest answer entry/)
    expect(await pullGarbage({ diff: [['t', new Uint8Array([1])]] })).toMatch(/malformed digest answer entry/)
    expect(await pullGarbage({ diff: [['t', new Uint8Array([0, 0])]] })).toMatch(/empty digest mask/)
    expect(await pullGarbage({ diff: [['t', [1, 0]]] })).toMatch(/malformed digest answer entry/)
  })
})

describe('1.2.0 between nodes, and with old peers', () => {
  it('nodes pull with 1.2.0; once they hold the same, a pull is two small frames', async () => {
    const a = await startNode({ topics: ['t'], syncIntervalMs: 60_000 })
    nodes = [a]
    const b = await startNode({ topics: ['t'], peers: [addrOf(a)], syncIntervalMs: 60_000 })
    nodes.push(b)
    for (let i = 0; i < 5; i++) await a.publish('t', `m${i}`)
    await waitFor('b holds all five', () => b.history('t').length === 5)
    const frames: Array<{ side: string, frame: unknown }> = []
    syncMeter.frame = (side, _bytes, frame) => frames.push({ side, frame })
    const stats = await b.syncWith(a.peerId)
    syncMeter.frame = undefined
    expect(stats?.received).toBe(0)
    expect(stats?.batches).toBe(1)
    // this pull, and any other running meanwhile: a digest of the one topic, answered by an empty diff
    expect(frames.length).toBeGreaterThanOrEqual(2)
    for (const { side, frame } of frames) {
      if (side === 'pull') expect(frame).toMatchObject({ b: DIGEST_BUCKETS, d: [['t', expect.any(Uint8Array)]] })
      else expect(frame).toEqual({ diff: [] })
    }
  })

  it('a peer speaking only 1.1.0 still syncs both ways', async () => {
    // gossip off: everything travels by sync
    const neu = await startNode({ topics: ['t'], gossipFilter: () => false, syncIntervalMs: 60_000 })
    nodes = [neu]
    const old = await startNode({ topics: ['t'], gossipFilter: () => false, syncIntervalMs: 60_000 })
    nodes.push(old)
    // the old peer neither answers nor asks for 1.2.0, as a node of the previous release
    await old.libp2p.unhandle(SYNC_PROTOCOL_1_2)
    const dial = old.libp2p.dialProtocol.bind(old.libp2p)
    old.libp2p.dialProtocol = (async (peer: PeerId, protocol: string | string[], opts?: object) => {
      if (protocol === SYNC_PROTOCOL_1_2) throw Object.assign(new Error('protocol selection failed'), { name: 'UnsupportedProtocolError' })
      return await dial(peer, protocol, opts)
    }) as typeof old.libp2p.dialProtocol
    const frames: unknown[] = []
    syncMeter.frame = (side, _b, frame) => { if (side === 'pull') frames.push(frame) }
    for (let i = 0; i < 3; i++) await old.publish('t', `old${i}`)
    for (let i = 0; i < 4; i++) await neu.publish('t', `new${i}`)
    await old.libp2p.dial(multiaddr(addrOf(neu)))
    // the pulls on connect, one each way
    await waitFor('both hold all seven', () => old.history('t').length === 7 && neu.history('t').length === 7)
    await old.publish('t', 'old-late')
    await neu.publish('t', 'new-late')
    // explicit pulls each way (a pull still running from the connect may have brought them already)
    expect(await neu.syncWith(old.peerId)).not.toBeNull()
    expect(await old.syncWith(neu.peerId)).not.toBeNull()
    await waitFor('both hold all nine', () => old.history('t').length === 9 && neu.history('t').length === 9)
    syncMeter.frame = undefined
    expect(frames.length).toBeGreaterThanOrEqual(4)
    // every pull was a 1.1.0 one: a want first, never a digest
    expect(frames.some(f => (f as { b?: number }).b != null)).toBe(false)
    expect(frames.filter(f => (f as { want?: unknown }).want != null).length).toBeGreaterThanOrEqual(4)
  })
})
