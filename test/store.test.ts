import { describe, it, expect, afterEach } from 'vitest'
import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import Database from 'better-sqlite3'
import { Store, StoreError } from '../src/store/store.js'
import { Offsets } from '../src/store/offsets.js'
import { SCHEMA } from '../src/store/schema.js'
import { tempDir, removeTempDirs, storeRow, describeAsRoot, withTmpfs } from './helpers.js'

afterEach(() => removeTempDirs())

import { decodeEnvelope, bodyHash, envelopeCodec } from '../src/core/envelope.js'
/** a stand-in body hash for our own message `seq` (the store keeps it opaque) */
const fakeHash = (seq: number): Buffer => Buffer.alloc(32, seq % 256)

describe('Store', () => {
  it('keeps committed messages, origin state and publish seqs (with the chain head) across a reopen', async () => {
    const dir = tempDir()
    let s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('t')
    expect(s.reservePublish('t', 'me')).toEqual({ seq: 1, prev: null })
    expect(await s.insert({ ...storeRow('t', 'me', 1), own: { prev: null, hash: fakeHash(1) } })).toMatchObject({ seq: 1, offset: 1 })
    await s.insert(storeRow('t', 'other', 1))
    await s.insert(storeRow('t', 'other', 3))
    expect(await s.insert(storeRow('t', 'other', 3))).toBeNull() // duplicate
    s.close()
    s = new Store(dir, { codec: envelopeCodec })
    expect(s.topics()).toMatchObject([{ topic: 't', messages: 3 }])
    expect(s.summary('t').sort((x, y) => x.origin.localeCompare(y.origin))).toEqual([
      { origin: 'me', low: 0, ranges: [[1, 1]] },
      { origin: 'other', low: 0, ranges: [[1, 1], [3, 3]] },
    ])
    expect(s.reservePublish('t', 'me')).toEqual({ seq: 2, prev: fakeHash(1) })
    expect(s.history('t').map(m => new TextDecoder().decode(m.payload))).toEqual(['m1', 'm1', 'm3'])
    s.close()
  })

  it('continues its own seqs on a topic after the topic was purged and the store reopened', async () => {
    // starting again at seq 1 signed a second version of seqs peers still hold: a fork of our own stream,
    // which peers block for good (before fork detection, they dropped the new messages as held, silently)
    const dir = tempDir()
    let s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('t')
    for (const seq of [1, 2]) await s.insert({ ...storeRow('t', 'me', seq), own: { prev: seq === 1 ? null : fakeHash(1), hash: fakeHash(seq) } })
    s.removeTopic('t', true)
    s.close()
    s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('t')
    expect(s.history('t')).toEqual([])
    expect(s.reservePublish('t', 'me')).toEqual({ seq: 3, prev: fakeHash(2) })
    s.close()
  })

  it('links a new publish to our newest stored message when no chain head was recorded', async () => {
    const s = new Store(tempDir(), { codec: envelopeCodec })
    s.addTopic('t')
    // our own message came back by sync (say, after the head was lost): the link is read from its body
    const first = storeRow('t', 'me', 1)
    await s.insert(first)
    expect(s.reservePublish('t', 'me')).toEqual({ seq: 2, prev: bodyHash(decodeEnvelope(first.raw).body) })
    s.close()
  })

  it('opens a data dir written before the hash chain (publish_seq without a hash column)', async () => {
    const dir = tempDir()
    let s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('t')
    const first = storeRow('t', 'me', 1)
    await s.insert({ ...first, own: { prev: null, hash: fakeHash(1) } })
    s.close()
    // rewrite the table as the previous schema had it
    const db = new Database(join(dir, 'queue.sqlite'))
    db.exec('DROP TABLE publish_seq; CREATE TABLE publish_seq (topic TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID; INSERT INTO publish_seq VALUES (\'t\', 1)')
    db.close()
    s = new Store(dir, { codec: envelopeCodec })
    expect(s.history('t').map(m => m.seq)).toEqual([1])
    // the link to seq 1 is recomputed from the stored envelope
    expect(s.reservePublish('t', 'me')).toEqual({ seq: 2, prev: bodyHash(decodeEnvelope(first.raw).body) })
    s.close()
  })

  it('group-commits concurrent inserts and resolves each once it is on disk', async () => {
    const s = new Store(tempDir(), { codec: envelopeCodec })
    s.addTopic('t')
    const results = await Promise.all(Array.from({ length: 500 }, async (_, i) => await s.insert(storeRow('t', 'o', i + 1))))
    expect(results.every(r => r != null)).toBe(true)
    expect(s.summary('t')).toEqual([{ origin: 'o', low: 0, ranges: [[1, 500]] }])
    s.close()
  })

  it('counts committed rows as pending until their fsync is done, and close() acks what still waits for one', async () => {
    const dir = tempDir()
    const s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('t')
    let acked = 0
    const writes = Array.from({ length: 300 }, async (_, i) => { await s.insert(storeRow('t', 'o', i + 1)); acked++ })
    expect(s.pendingWrites).toBe(300)
    s.flush() // committed now; the WAL fsync runs on the thread pool
    expect(acked).toBe(0)
    expect(s.has('t', 'o', 300)).toBe(true) // dedup sees committed rows at once
    expect(s.pendingWrites).toBe(300) // backpressure still counts them
    s.close() // before the fsync returns: close syncs once more and acks them
    await Promise.all(writes)
    expect(acked).toBe(300)
    const reopened = new Store(dir, { codec: envelopeCodec })
    expect(reopened.summary('t')).toEqual([{ origin: 'o', low: 0, ranges: [[1, 300]] }])
    reopened.close()
  })

  it('enforces retention by count, bytes and age, and raises the low mark so pruned messages are not fetched again', async () => {
    const s = new Store(tempDir(), { codec: envelopeCodec })
    s.addTopic('count', { maxMessages: 10 })
    for (let i = 1; i <= 25; i++) await s.insert(storeRow('count', 'o', i))
    expect(s.topics().find(t => t.topic === 'count')!.messages).toBe(10)
    expect(s.summary('count')).toEqual([{ origin: 'o', low: 15, ranges: [[16, 25]] }])
    expect(s.has('count', 'o', 3)).toBe(true) // pruned counts as done: sync will not bring it back

    s.addTopic('bytes', { maxBytes: 2000 })
    for (let i = 1; i <= 40; i++) await s.insert(storeRow('bytes', 'o', i, 'x'.repeat(100)))
    const b = s.topics().find(t => t.topic === 'bytes')!
    expect(b.bytes).toBeLessThanOrEqual(2000)
    expect(b.messages).toBeGreaterThan(0)

    s.addTopic('age', { maxAgeMs: 60_000 })
    await s.insert(storeRow('age', 'o', 1, 'old', Date.now() - 120_000))
    await s.insert(storeRow('age', 'o', 2, 'new'))
    expect(s.history('age').map(m => m.seq)).toEqual([1, 2])
    // age counts from local receipt: an origin timestamp 2 minutes old does not make the row old
    expect(s.enforceAllLimits()).toBe(0) // the node runs this on a timer
    expect(s.enforceAllLimits(Date.now() + 61_000)).toBe(2)
    expect(s.history('age').map(m => m.seq)).toEqual([])
    expect(s.has('age', 'o', 1)).toBe(true)
    s.close()
  })

  it('never hands out an offset twice: not after retention or a purge removed the newest rows, nor across a reopen', async () => {
    const dir = tempDir()
    let s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('t', { maxAgeMs: 60_000 })
    const offsets: number[] = []
    const put = async (topic: string, seq: number): Promise<void> => { offsets.push((await s.insert(storeRow(topic, 'o', seq)))!.offset) }
    for (let i = 1; i <= 3; i++) await put('t', i)
    // retention removes every row, the newest offset (3) included
    expect(s.enforceAllLimits(Date.now() + 61_000)).toBe(3)
    await put('t', 4)
    s.addTopic('p')
    await put('p', 1)
    await put('p', 2)
    // a purge removes the newest rows of the whole log
    s.removeTopic('p', true)
    s.addTopic('p')
    await put('p', 3)
    s.close()
    s = new Store(dir, { codec: envelopeCodec })
    s.removeTopic('p', true)
    s.close()
    // the newest row was purged just before the reopen: the next offset still continues past it
    s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('p')
    await put('p', 4)
    expect(offsets).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    s.close()
  })

  it('after a crash that lost the last commits, offsets a reader may have seen are not handed out again', async () => {
    const dir = tempDir()
    const s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('t')
    const seen: number[] = []
    for (let i = 1; i <= 3; i++) seen.push((await s.insert(storeRow('t', 'o', i)))!.offset)
    expect(seen).toEqual([1, 2, 3])
    // a crash, not a close: then what a power loss can do, take the last commits (rows 2 and 3) after
    // their offsets were delivered; the reservation was written by an earlier, synced commit
    const raw = new Database(join(dir, 'queue.sqlite'))
    raw.prepare('DELETE FROM messages WHERE id >= 2').run()
    raw.close()
    ;(s as unknown as { db: { close: () => void } }).db.close()
    ;(s as unknown as { lockDb: { close: () => void } }).lockDb.close()
    const again = new Store(dir, { codec: envelopeCodec })
    const next = (await again.insert(storeRow('t', 'o', 2)))!.offset
    expect(next).toBeGreaterThan(3)
    again.close()
    // a clean close skips nothing
    const third = new Store(dir, { codec: envelopeCodec })
    expect((await third.insert(storeRow('t', 'o', 3)))!.offset).toBe(next + 1)
    third.close()
  })

  it('a failed commit does not leave the offsets it reserved unrecorded', () => {
    const db = new Database(':memory:')
    db.exec(SCHEMA)
    const offsets = new Offsets(db)
    const reserved = (): number => Number((db.prepare("SELECT value FROM meta WHERE key = 'offset_reserved'").get() as { value: string } | undefined)?.value ?? 0)
    // the first offset reserves a block, in a transaction that then fails (a full disk)
    expect(() => db.transaction(() => { offsets.used(); throw new Error('disk full') })()).toThrow('disk full')
    offsets.rolledBack()
    db.transaction(() => { offsets.used() })()
    expect(reserved()).toBeGreaterThan(offsets.peek())
    db.close()
  })

  it('refuses a second opener of the same data dir with a clear error', () => {
    const dir = tempDir()
    const s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('t')
    expect(() => new Store(dir, { codec: envelopeCodec })).toThrow(/in use|locked/)
    s.close()
    new Store(dir, { codec: envelopeCodec }).close() // free again once closed
  })

  it('refuses a corrupt store file with a clear error instead of starting empty', () => {
    const dir = tempDir()
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'queue.sqlite'), 'this is not a database, it is a text file '.repeat(200))
    let err: unknown
    try { new Store(dir, { codec: envelopeCodec }) } catch (e) { err = e }
    expect(err).toBeInstanceOf(StoreError)
    expect((err as StoreError).code).toBe('STORE_CORRUPT')
    expect((err as Error).message).toMatch(/corrupt/)
  })

  it('refuses at open a data dir whose offsets are past what it can hand out, instead of failing every write later', async () => {
    // a damaged or hand-edited meta row (or a row id) near 2^53: before, the store opened and then every
    // commit failed (a repeated offset, or a datatype mismatch) for as long as the daemon ran
    for (const [table, value] of [['meta', String(2 ** 53)], ['meta', '9223372036854775807'], ['messages', 2 ** 53 - 2]] as const) {
      const dir = tempDir()
      let s = new Store(dir, { codec: envelopeCodec })
      s.addTopic('t')
      await s.insert(storeRow('t', 'o', 1))
      s.close()
      const db = new Database(join(dir, 'queue.sqlite'))
      if (table === 'meta') db.prepare("UPDATE meta SET value = ? WHERE key = 'offset_reserved'").run(value)
      else db.prepare('UPDATE messages SET id = ?').run(value)
      db.close()
      let err: unknown
      try {
        s = new Store(dir, { codec: envelopeCodec })
        for (let seq = 2; seq < 5; seq++) await s.insert(storeRow('t', 'o', seq))
        s.close()
      } catch (e) { err = e }
      expect(err).toBeInstanceOf(StoreError)
      expect((err as StoreError).code).toBe('STORE_CORRUPT')
      expect((err as Error).message).toMatch(/offset/)
      // nothing was changed, and the failed open left the data dir free
      const check = new Database(join(dir, 'queue.sqlite'))
      expect(check.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 1 })
      check.close()
      expect(() => new Store(dir, { codec: envelopeCodec })).toThrow(/offset/)
    }
  })
})

describeAsRoot('Store on a full disk (needs root for a small tmpfs)', 'mount a tmpfs to fill', () => {
  it('rejects writes with DISK_FULL, acks nothing that is not on disk, and keeps working once space is back', async () => {
    await withTmpfs('2m', async mnt => {
      const s = new Store(join(mnt, 'data'), { codec: envelopeCodec })
      s.addTopic('t')
      const acked: number[] = []
      let failure: StoreError | undefined
      const filler = join(mnt, 'filler')
      // leave ~300 KB for the store, then write until the disk is full
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1k', 'count=1500'], { stdio: 'ignore' })
      for (let i = 1; i <= 5000 && failure == null; i++) {
        const { seq, prev } = s.reservePublish('t', 'me')
        try {
          await s.insert({ ...storeRow('t', 'me', seq, 'y'.repeat(2000)), own: { prev, hash: fakeHash(seq) } })
          acked.push(seq)
        } catch (err) {
          failure = err as StoreError
        }
      }
      expect(failure).toBeInstanceOf(StoreError)
      expect(failure!.code).toBe('DISK_FULL')
      expect(failure!.message).toMatch(/disk full/)
      // the seq of the failed write is handed back: no hole in our own stream, and the next message
      // links to the last one on disk
      execFileSync('rm', [filler])
      const next = s.reservePublish('t', 'me')
      expect(next).toEqual({ seq: acked.length + 1, prev: fakeHash(acked.length) })
      await s.insert({ ...storeRow('t', 'me', next.seq, 'after'), own: { prev: next.prev, hash: fakeHash(next.seq) } })
      s.close()
      const reopened = new Store(join(mnt, 'data'), { codec: envelopeCodec })
      expect(reopened.summary('t')).toEqual([{ origin: 'me', low: 0, ranges: [[1, acked.length + 1]] }])
      reopened.close()
    })
  })
})
