import { describe, it, expect, afterEach, vi } from 'vitest'
import { Store } from '../src/store/store.js'
import { Consumer, type GapInfo } from '../src/core/consumer.js'
import { Consumers } from '../src/core/consumers.js'
import { envelopeCodec } from '../src/core/envelope.js'
import { tempDir, removeTempDirs, waitFor, storeRow } from './helpers.js'

afterEach(() => removeTempDirs())

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

async function put (s: Store, c: Consumer, seq: number): Promise<void> {
  await s.insert(storeRow('t', 'o', seq))
  c.notify(['o'])
}

describe('Consumer gap handling', () => {
  it('keeps waiting for a hole that is being filled (from the top down) longer than the gap timeout', async () => {
    const s = new Store(tempDir(), { codec: envelopeCodec })
    s.addTopic('t')
    // each fill comes well inside the gap timeout, the whole hole stays open for twice as long
    const c = new Consumer(s, 't', { from: 'beginning', gapTimeoutMs: 1_000 })
    const got: number[] = []
    const gaps: GapInfo[] = []
    c.on('message', m => got.push(m.seq)).on('gap', g => gaps.push(g)).start()
    await put(s, c, 1)
    await put(s, c, 5)
    for (const seq of [4, 3, 2]) { await sleep(700); await put(s, c, seq) }
    await waitFor('all five', () => got.length === 5, 5_000)
    expect(got).toEqual([1, 2, 3, 4, 5])
    expect(gaps).toEqual([])
    c.close(); s.close()
  })

  it('gives up on a hole that makes no progress for a gap timeout, reports it and goes on', async () => {
    const s = new Store(tempDir(), { codec: envelopeCodec })
    s.addTopic('t')
    const c = new Consumer(s, 't', { from: 'beginning', gapTimeoutMs: 200 })
    const got: number[] = []
    const gaps: GapInfo[] = []
    c.on('message', m => got.push(m.seq)).on('gap', g => gaps.push(g)).start()
    await put(s, c, 1)
    await put(s, c, 4)
    await waitFor('gap reported', () => gaps.length === 1, 5_000)
    expect(gaps[0]).toMatchObject({ topic: 't', origin: 'o', from: 2, to: 3 })
    expect(got).toEqual([1, 4])
    // a late arrival below the cursor is stored but not delivered out of order
    await put(s, c, 2)
    await put(s, c, 5)
    await waitFor('5 delivered', () => got.includes(5))
    expect(got).toEqual([1, 4, 5])
    c.close(); s.close()
  })
})

describe('Consumers: a hole given up is one loss, however many consumers wait on it', () => {
  function setup (): { s: Store, cs: Consumers, emitted: unknown[], logged: string[] } {
    const s = new Store(tempDir(), { codec: envelopeCodec })
    s.addTopic('t')
    const emitted: unknown[] = []
    const logged: string[] = []
    const cs = new Consumers({
      store: s, sources: new Map(), gapTimeoutMs: 200, isJoined: () => true, join: () => {}, repairing: () => false, repair: () => {},
      emit: ((event: string, g: unknown) => { if (event === 'gap') emitted.push(g); return true }) as never,
      log: (_level, msg) => { logged.push(msg) },
    })
    return { s, cs, emitted, logged }
  }

  it('two consumers on one hole above held messages: each stream hears of it, the node counts it once', async () => {
    const { s, cs, emitted, logged } = setup()
    const heard: GapInfo[] = []
    const a = cs.consume('t', { from: 'beginning' }).on('gap', g => heard.push(g)).start()
    const b = cs.consume('t', { from: 'beginning' }).on('gap', g => heard.push(g)).start()
    await s.insert(storeRow('t', 'o', 1))
    await s.insert(storeRow('t', 'o', 4))
    a.notify(['o']); b.notify(['o'])
    await waitFor('both consumers gave up', () => heard.length === 2, 5_000)
    expect(emitted).toEqual([{ topic: 't', origin: 'o', from: 2, to: 3, consumer: undefined }])
    expect(cs.gapsGivenUp).toBe(1)
    expect(logged.filter(m => m.startsWith('gap'))).toHaveLength(1)
    a.close(); b.close(); s.close()
  })

  it('a hole sync already gave up (skip mark raised) while a consumer waited on it is not counted again', async () => {
    const { s, cs, emitted } = setup()
    const heard: GapInfo[] = []
    const c = cs.consume('t', { from: 'beginning' }).on('gap', g => heard.push(g)).start()
    await s.insert(storeRow('t', 'o', 5))
    c.notify(['o'])
    // what HoleRepair does when no connected peer holds 1-4: raise the skip mark (and count and report it itself)
    s.raiseSkip('t', 'o', 4)
    await waitFor('the consumer moved past the hole', () => heard.length === 1, 5_000)
    expect(emitted).toEqual([])
    expect(cs.gapsGivenUp).toBe(0)
    c.close(); s.close()
  })

  it('a hole counted while above held messages is still recorded once it is at the bottom: the next consumer does not wait for it again', async () => {
    const { s, cs, emitted } = setup()
    const heard: GapInfo[] = []
    await s.insert(storeRow('t', 'o', 1))
    await s.insert(storeRow('t', 'o', 4))
    // a first consumer gives up 2-3 above a held 1: counted, not recorded (the next one waits again)
    const a = cs.consume('t', { from: 'beginning' }).on('gap', g => heard.push(g)).start()
    await waitFor('first consumer gave up', () => heard.length === 1, 5_000)
    a.close()
    // retention prunes 1: the same hole is now at the bottom of the stream
    s.raiseLow('t', 'o', 1)
    const b = cs.consume('t', { from: 'beginning' }).on('gap', g => heard.push(g)).start()
    await waitFor('second consumer gave up', () => heard.length === 2, 5_000)
    b.close()
    expect(emitted).toHaveLength(1)
    // given up for the node now: not waited for, nor repaired as a hole
    expect(s.heldState('t', 'o')?.skip).toBe(3)
    s.close()
  })
})

describe('Consumer from a time', () => {
  it('delivers what arrives after the time even from a publisher whose clock is days behind', async () => {
    const s = new Store(tempDir(), { codec: envelopeCodec })
    s.addTopic('t')
    const now = Date.now()
    const day = 24 * 3600 * 1000
    // received an hour ago, from a publisher with a correct clock: before the start
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now - 3600_000)
    try { await s.insert(storeRow('t', 'early', 1, 'early', now - 3600_000)) } finally { clock.mockRestore() }
    const c = new Consumer(s, 't', { from: { time: now - 60_000 } })
    const got: string[] = []
    c.on('message', m => got.push(`${m.origin}#${m.seq}`)).start()
    // arriving now: one publisher's clock is right, another's is 8 days behind (its ts is before the start)
    await s.insert(storeRow('t', 'right', 1, 'r1', now))
    await s.insert(storeRow('t', 'behind', 1, 'b1', now - 8 * day))
    await s.insert(storeRow('t', 'behind', 2, 'b2', now - 8 * day + 1))
    c.notify(['right', 'behind'])
    await waitFor('the live messages', () => got.length >= 3, 2_000).catch(() => {})
    expect(got.sort()).toEqual(['behind#1', 'behind#2', 'right#1'])
    c.close(); s.close()
  })
})
