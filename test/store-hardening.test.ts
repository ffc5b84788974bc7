// Store hardening (issue 9): the data dir is bound to its origin, retention counts and ages are right
// after a leave/join and whatever the origin's clock says, an undecodable row is quarantined instead of
// crashing readers, and a full disk is survived and recovered from.
import { describe, it, expect, afterEach } from 'vitest'
import { existsSync, readdirSync, writeFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import Database from 'better-sqlite3'
import pino from 'pino'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { firstHole, Store, StoreError, type PruneReport } from '../src/store/store.js'
import { envelopeCodec } from '../src/core/envelope.js'
import { startDaemon, writePrivate, DaemonStartError } from '../src/daemon/daemon.js'
import { tempDir, removeTempDirs, storeRow, describeAsRoot, withTmpfs, dataDirWithBadRow, waitFor } from './helpers.js'
import { enforceRetention } from '../src/core/retention-timer.js'
import { HoleRepair } from '../src/core/sync/holes.js'

afterEach(() => removeTempDirs())

const DAY = 24 * 3600 * 1000
const fakeHash = (seq: number): Buffer => Buffer.alloc(32, seq % 256)

describe('store: identity binding (item 4)', () => {
  it('refuses a data dir bound to another origin, naming the dir and both ids; an unbound one adopts', () => {
    const dir = tempDir()
    // a data dir from before binding (no meta row) adopts the first origin it is opened with
    new Store(dir, { codec: envelopeCodec }).close()
    const s = new Store(dir, { codec: envelopeCodec, origin: 'peer-A' })
    expect(s.origin).toBe('peer-A')
    s.close()
    let err: unknown
    try { new Store(dir, { codec: envelopeCodec, origin: 'peer-B' }) } catch (e) { err = e }
    expect(err).toBeInstanceOf(StoreError)
    expect((err as StoreError).code).toBe('IDENTITY_MISMATCH')
    expect((err as Error).message).toContain(dir)
    expect((err as Error).message).toContain('peer-A')
    expect((err as Error).message).toContain('peer-B')
    // the refused open released the data dir
    new Store(dir, { codec: envelopeCodec, origin: 'peer-A' }).close()
  })

  it('the daemon turns a new identity key on an existing data dir into a clear message and exit code 2', async () => {
    const dataDir = tempDir()
    const cfg = { dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { host: '127.0.0.1', port: 0 }, mdns: false, peers: [], topics: ['t'], retention: {}, logLevel: 'silent' as const, maxPayloadBytes: 1024 * 1024 }
    const log = pino({ level: 'silent' })
    const first = await startDaemon(cfg, log)
    const oldId = first.node.peerId
    await first.stop()
    writeFileSync(join(dataDir, 'identity.key'), privateKeyToProtobuf(await generateKeyPair('Ed25519')), { mode: 0o600 })
    const err = await startDaemon(cfg, log).catch(e => e)
    expect(err).toBeInstanceOf(DaemonStartError)
    expect(err.exitCode).toBe(2)
    expect(err.message).toMatch(/identity key/)
    expect(err.message).toContain(oldId)
    expect(err.message).toContain(dataDir)
  })
})

describe('store: retention bookkeeping (item 5)', () => {
  it('leave without purge then join keeps counting the rows still held', async () => {
    const s = new Store(tempDir(), { codec: envelopeCodec })
    s.addTopic('t', { maxMessages: 10 })
    for (let i = 1; i <= 8; i++) await s.insert(storeRow('t', 'o', i))
    s.removeTopic('t')
    s.addTopic('t', { maxMessages: 10 })
    expect(s.topics()[0].messages).toBe(8)
    for (let i = 9; i <= 16; i++) await s.insert(storeRow('t', 'o', i))
    expect(s.history('t', { limit: 100 }).length).toBe(10)
    expect(s.topics()[0].messages).toBe(10)
    s.close()
  })

  it('ages messages by local receive time, not the origin clock, and reports what it removes', async () => {
    const s = new Store(tempDir(), { codec: envelopeCodec })
    const reports: PruneReport[] = []
    s.onPrune = r => reports.push(r)
    s.addTopic('t', { maxAgeMs: 7 * DAY })
    // a publisher whose clock is 8 days behind, and one 8 days ahead
    await s.insert(storeRow('t', 'behind', 1, 'b', Date.now() - 8 * DAY))
    await s.insert(storeRow('t', 'ahead', 1, 'a', Date.now() + 8 * DAY))
    expect(s.enforceAllLimits()).toBe(0)
    expect(s.history('t').length).toBe(2)
    expect(reports).toEqual([])
    // 8 days after they were received, both go
    expect(s.enforceAllLimits(Date.now() + 8 * DAY)).toBe(2)
    expect(reports).toEqual([{ topic: 't', removed: 2, byCount: 0, byBytes: 0, byAge: 2 }])
    s.close()
  })

  it('one retention call deletes a bounded number of rows (it holds the event loop); the retention timer goes on at once with the rest', async () => {
    const s = new Store(tempDir(), { codec: envelopeCodec, synchronous: 'NORMAL' })
    const fill = async (topic: string): Promise<void> => {
      for (let i = 0; i < 25_000; i++) void s.insert(storeRow(topic, `o${i % 100}`, 1 + Math.floor(i / 100), 'x'))
      await s.whenFlushed()
    }
    // many tiny messages expiring at once (a burst a week ago, or a node that was down)
    s.addTopic('aged', { maxAgeMs: 0 })
    await fill('aged')
    s.addTopic('aged', { maxAgeMs: 1 })
    expect(s.enforceAllLimits(Date.now() + 1_000)).toBeLessThanOrEqual(10_000)
    // a tightened count limit (rejoining with a smaller maxMessages prunes in the call)
    s.addTopic('counted')
    await fill('counted')
    s.addTopic('counted', { maxMessages: 10 })
    expect(s.topics().find(t => t.topic === 'counted')?.messages).toBeGreaterThanOrEqual(15_000)
    // the node's retention timer finishes both without waiting for its 30 s period
    const stop = enforceRetention(s, () => {})
    try {
      await waitFor('retention done', () => s.topics().every(t => t.messages === (t.topic === 'counted' ? 10 : 0)), 20_000)
    } finally { stop() }
    expect(s.history('counted', { limit: 100 }).length).toBe(10)
    s.close()
  })

  it('migrates a data dir without receive times: old rows take their origin timestamp', async () => {
    const dir = tempDir()
    const old = new Database(join(dir, 'queue.sqlite'))
    old.exec(`CREATE TABLE messages (id INTEGER PRIMARY KEY, topic TEXT NOT NULL, origin TEXT NOT NULL, seq INTEGER NOT NULL,
      ts INTEGER NOT NULL, size INTEGER NOT NULL, raw BLOB NOT NULL, UNIQUE (topic, origin, seq));
      CREATE INDEX messages_by_age ON messages (topic, ts);`)
    const ts = Date.now() - DAY
    const row = storeRow('t', 'o', 1, 'x', ts)
    old.prepare('INSERT INTO messages (topic, origin, seq, ts, size, raw) VALUES (?, ?, ?, ?, ?, ?)').run('t', 'o', 1, ts, row.raw.byteLength, row.raw)
    old.close()
    new Store(dir, { codec: envelopeCodec }).close()
    const db = new Database(join(dir, 'queue.sqlite'))
    expect(db.prepare('SELECT recv FROM messages').get()).toEqual({ recv: ts })
    db.close()
  })

  it('keeps a given-up range (skip mark) across a restart, also in a data dir from before the mark, and still stores a late copy', async () => {
    const dir = tempDir()
    const old = new Database(join(dir, 'queue.sqlite'))
    // the origins table as older versions made it: a low mark only
    old.exec('CREATE TABLE origins (topic TEXT NOT NULL, origin TEXT NOT NULL, low INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (topic, origin)) WITHOUT ROWID')
    old.prepare('INSERT INTO origins (topic, origin, low) VALUES (?, ?, ?)').run('t', 'pruned', 3)
    old.close()
    let s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('t')
    await s.insert(storeRow('t', 'o', 5))
    s.raiseSkip('t', 'o', 4)
    s.close()
    s = new Store(dir, { codec: envelopeCodec })
    expect(s.heldState('t', 'pruned')).toMatchObject({ low: 3, skip: 0 })
    expect(s.heldState('t', 'o')).toMatchObject({ low: 0, skip: 4 })
    // given up is not held: sync's summary still asks for 1-4, and a copy that comes is stored
    expect(s.has('t', 'o', 2)).toBe(false)
    expect(s.summary('t').find(o => o.origin === 'o')).toEqual({ origin: 'o', low: 0, ranges: [[5, 5]] })
    expect(await s.insert(storeRow('t', 'o', 2))).toMatchObject({ seq: 2 })
    // that late copy leaves no hole to repair below it: 1, 3 and 4 were given up
    expect(firstHole(s.heldState('t', 'o')!)).toBeUndefined()
    const holes = new HoleRepair(s, () => ['P'])
    holes.due([{ topic: 't', origin: 'o' }])
    holes.pulled('P', ['t'], [], false)
    expect(holes.size).toBe(0)
    await s.insert(storeRow('t', 'o', 7))
    expect(firstHole(s.heldState('t', 'o')!)).toEqual([6, 6])
    s.close()
  })
})

describe('store: an undecodable row is quarantined (item 7)', () => {
  it('serves the rest, counts it, and makes its seq a hole that a good copy fills again', async () => {
    const dir = await dataDirWithBadRow(Buffer.from('not an envelope'))
    let s = new Store(dir, { codec: envelopeCodec })
    const seen: number[] = []
    s.onQuarantine = q => seen.push(q.seq)
    expect(s.readOrigin('t', 'o', 0, 10).map(m => m.seq)).toEqual([1, 3])
    expect(s.history('t').map(m => m.seq)).toEqual([1, 3])
    expect(s.quarantined).toBe(1)
    expect(seen).toEqual([2])
    expect(s.has('t', 'o', 2)).toBe(false)
    expect(s.summary('t')).toEqual([{ origin: 'o', low: 0, ranges: [[1, 1], [3, 3]] }])
    expect(s.topics()[0].messages).toBe(2)
    // sync brings a good copy: it is stored again
    expect(await s.insert(storeRow('t', 'o', 2))).toMatchObject({ seq: 2 })
    expect(s.readOrigin('t', 'o', 0, 10).map(m => m.seq)).toEqual([1, 2, 3])
    s.close()
    // the counter survives a restart
    s = new Store(dir, { codec: envelopeCodec })
    expect(s.quarantined).toBe(1)
    s.close()
  })
})

describeAsRoot('daemon: api.json on a full volume (item 12)', 'mount a tmpfs to fill', () => {
  it('a failed write of api.json leaves no tmp file behind', async () => {
    await withTmpfs('64k', async mnt => {
      try { execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=1k', 'count=1000'], { stdio: 'ignore' }) } catch { /* full: as intended */ }
      expect(() => writePrivate(join(mnt, 'api.json'), 'x'.repeat(32 * 1024))).toThrow(/ENOSPC/)
      expect(readdirSync(mnt).sort()).toEqual(['filler'])
    })
  })
})

describeAsRoot('store on a full disk: surfacing and recovery (items 12, 13; needs root for a small tmpfs)', 'mount a tmpfs to fill', () => {
  it('a retention pass that fails for space leaves the counts and low marks in memory as they are on disk', async () => {
    await withTmpfs('8m', async mnt => {
      const data = join(mnt, 'data')
      const s = new Store(data, { codec: envelopeCodec, reserveBytes: 0, maintenanceMs: 0 })
      s.addTopic('t')
      // commits of 100 rows, so the rows (not the WAL's pages per commit) fill the disk
      let stored = 0
      for (let failed = false; !failed; stored += failed ? 0 : 100) {
        const batch = Array.from({ length: 100 }, async (_, i) => await s.insert(storeRow('t', 'o', stored + 1 + i, 'x'.repeat(1000))))
        for (const r of await Promise.allSettled(batch)) if (r.status === 'rejected') { failed = true; expect((r.reason as StoreError).code).toBe('DISK_FULL') }
      }
      expect(stored).toBeGreaterThan(1_000)
      // a week later, everything is due; the delete cannot be committed
      const later = Date.now() + 8 * DAY
      expect(() => s.enforceAllLimits(later)).toThrow(/disk full/)
      expect(s.topics()[0].messages).toBe(stored)
      expect(s.summary('t')).toEqual([{ origin: 'o', low: 0, ranges: [[1, stored]] }])
      s.close()
    })
  })

  it('gives up the reserve and truncates the WAL when full, so acks are still written; writes resume once space is freed', async () => {
    await withTmpfs('2m', async mnt => {
      const data = join(mnt, 'data')
      const s = new Store(data, { codec: envelopeCodec, reserveBytes: 128 * 1024 })
      s.addTopic('t')
      expect(existsSync(join(data, 'reserve.bin'))).toBe(true)
      const filler = join(mnt, 'filler')
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1k', 'count=1400'], { stdio: 'ignore' })
      let failure: StoreError | undefined
      let acked = 0
      for (let i = 1; i <= 5000 && failure == null; i++) {
        const { seq, prev } = s.reservePublish('t', 'me')
        try {
          await s.insert({ ...storeRow('t', 'me', seq, 'y'.repeat(2000)), own: { prev, hash: fakeHash(seq) } })
          acked = seq
        } catch (err) { failure = err as StoreError }
      }
      expect(failure?.code).toBe('DISK_FULL')
      // the reserve is gone and the WAL truncated: a cursor and a received message still fit
      expect(existsSync(join(data, 'reserve.bin'))).toBe(false)
      expect(statSync(join(data, 'queue.sqlite-wal')).size).toBe(0)
      expect(s.lowOnSpace).toBe(true)
      s.saveCursors('c', 't', new Map([['me', acked]]))
      await s.sync()
      expect(s.cursors('c', 't').get('me')).toBe(acked)
      expect(await s.insert(storeRow('t', 'peer', 1, 'from a peer'))).toMatchObject({ seq: 1 })
      // own publishes are refused while the reserve is spent and cannot be taken back
      const filler2 = join(mnt, 'filler2')
      try { execFileSync('dd', ['if=/dev/zero', `of=${filler2}`, 'bs=1k', 'count=2000'], { stdio: 'ignore' }) } catch { /* full */ }
      const held = s.reservePublish('t', 'me')
      await expect(s.insert({ ...storeRow('t', 'me', held.seq, 'z'), own: { prev: held.prev, hash: fakeHash(held.seq) } })).rejects.toMatchObject({ code: 'DISK_FULL' })
      // space is freed: the reserve comes back and writes succeed again
      execFileSync('rm', [filler, filler2])
      s.maintain()
      expect(s.lowOnSpace).toBe(false)
      expect(existsSync(join(data, 'reserve.bin'))).toBe(true)
      const next = s.reservePublish('t', 'me')
      expect(next.seq).toBe(acked + 1)
      await s.insert({ ...storeRow('t', 'me', next.seq, 'after'), own: { prev: next.prev, hash: fakeHash(next.seq) } })
      for (let i = 2; i <= 50; i++) await s.insert(storeRow('t', 'peer', i, 'y'.repeat(2000)))
      expect(s.summary('t').find(o => o.origin === 'peer')?.ranges).toEqual([[1, 50]])
      s.close()
    })
  })

  it('keeps the WAL small on a small volume, so a full disk is recovered from by itself: the checkpoint fits in the reserve, and writes, publishes and retention resume once space is freed', async () => {
    await withTmpfs('8m', async mnt => {
      const data = join(mnt, 'data')
      const filler = join(mnt, 'filler')
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1k', 'count=3000'], { stdio: 'ignore' })
      // the defaults (auto checkpoints, a 256 KiB reserve), no periodic maintenance: nothing but the writes themselves
      const s = new Store(data, { codec: envelopeCodec, maintenanceMs: 0 })
      s.addTopic('t')
      const walSize = (): number => statSync(join(data, 'queue.sqlite-wal')).size
      // single-row commits, unthrottled (bulk for auto mode), until the disk is full
      let seq = 0
      let maxWal = 0
      let failure: StoreError | undefined
      while (failure == null && seq < 5_000) {
        try { await s.insert(storeRow('t', 'peer', seq + 1, 'x'.repeat(3500))); seq++ } catch (err) { failure = err as StoreError }
        maxWal = Math.max(maxWal, walSize())
      }
      expect(failure?.code).toBe('DISK_FULL')
      // the reserve absorbed the checkpoint: a message from a peer is still stored
      expect(await s.insert(storeRow('t', 'peer', seq + 1, 'from a peer'))).toMatchObject({ seq: seq + 1 })
      seq++
      // space is freed: no maintenance call, the next writes see it
      execFileSync('rm', [filler])
      const own = s.reservePublish('t', 'me')
      expect(await s.insert({ ...storeRow('t', 'me', own.seq, 'mine'), own: { prev: own.prev, hash: fakeHash(own.seq) } })).toMatchObject({ seq: own.seq })
      expect(s.lowOnSpace).toBe(false)
      for (let i = 0; i < 200; i++) { await s.insert(storeRow('t', 'peer', seq + 1, 'y'.repeat(3500))); seq++; maxWal = Math.max(maxWal, walSize()) }
      // retention can delete: the WAL did not take the freed space
      expect(s.enforceAllLimits(Date.now() + 8 * DAY)).toBeGreaterThan(1_000)
      expect(maxWal).toBeLessThan(1024 * 1024)
      s.close()
    })
  })

  it('a quarantine that fails for space leaves the topic totals in memory as they are on disk', async () => {
    const bad = await dataDirWithBadRow(Buffer.from('not an envelope'))
    await withTmpfs('2m', async mnt => {
      const data = join(mnt, 'data')
      execFileSync('cp', ['-r', bad, data])
      const s = new Store(data, { codec: envelopeCodec, reserveBytes: 0, maintenanceMs: 0 })
      // an empty WAL and a full disk: the quarantine's commit has nowhere to go
      expect(s.checkpoint()).toBe(true)
      try { execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=4k', 'count=1000'], { stdio: 'ignore' }) } catch { /* full: as intended */ }
      const quarantined: number[] = []
      s.onQuarantine = q => quarantined.push(q.seq)
      expect(s.history('t').map(m => m.seq)).toEqual([1, 3])
      expect(quarantined).toEqual([])
      expect(s.quarantined).toBe(0)
      // all three rows are still on disk, and counted
      expect(s.topics()[0]).toMatchObject({ messages: 3 })
      // once there is room the row is quarantined, and counted once
      execFileSync('rm', [join(mnt, 'filler')])
      expect(s.history('t').map(m => m.seq)).toEqual([1, 3])
      expect(quarantined).toEqual([2])
      expect(s.topics()[0]).toMatchObject({ messages: 2 })
      s.close()
      const db = new Database(join(data, 'queue.sqlite'), { readonly: true })
      expect(db.prepare("SELECT messages FROM topics WHERE topic = 't'").get()).toEqual({ messages: 2 })
      db.close()
    })
  })

  it('every synchronous write path surfaces DISK_FULL as a StoreError (no reserve)', async () => {
    await withTmpfs('1m', async mnt => {
      const s = new Store(join(mnt, 'data'), { codec: envelopeCodec, reserveBytes: 0 })
      s.addTopic('t')
      try { execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=4k', 'count=1000'], { stdio: 'ignore' }) } catch { /* full */ }
      // fill what is left through the store itself
      for (let i = 1; i <= 2000; i++) {
        try { await s.insert(storeRow('t', 'o', i, 'y'.repeat(4000))) } catch { break }
      }
      const cursors = new Map(Array.from({ length: 2000 }, (_, i) => [`origin-${i}-${'p'.repeat(100)}`, i + 1]))
      let err: unknown
      try { s.saveCursors('c', 't', cursors) } catch (e) { err = e }
      expect(err).toBeInstanceOf(StoreError)
      expect((err as StoreError).code).toBe('DISK_FULL')
      s.close()
    })
  })
})
