// After a failed fsync the store acks nothing more as durable, even when later fsyncs succeed: Linux marks
// the failed pages clean and reports the error once ("fsyncgate"), so the WAL may have a hole, and SQLite's
// recovery drops every frame after it at a crash. New writes are refused; a reopen starts clean.
import { describe, it, expect, afterEach } from 'vitest'
import { Store, StoreError, CommittedNotDurableError } from '../src/store/store.js'
import type { FsyncFn } from '../src/store/wal.js'
import { envelopeCodec } from '../src/core/envelope.js'
import { fsync } from 'node:fs'
import { tempDir, removeTempDirs, storeRow, eio, failingFsync as failing } from './helpers.js'

const closers: Array<() => void> = []
afterEach(() => {
  for (const c of closers.splice(0)) c()
  removeTempDirs()
})

function open (dir: string, fsyncFn?: FsyncFn): Store {
  const s = new Store(dir, { codec: envelopeCodec, fsync: fsyncFn })
  closers.push(() => s.close())
  s.addTopic('t')
  return s
}

describe('a failed fsync of the WAL', () => {
  it('fails the store: a row inserted after it is refused, not acked, though the next fsync would succeed', async () => {
    const s = open(tempDir(), failing(1))
    await expect(s.insert(storeRow('t', 'o', 1))).rejects.toBeInstanceOf(CommittedNotDurableError)
    const after = s.insert(storeRow('t', 'o', 2))
    await expect(after).rejects.toBeInstanceOf(StoreError)
    await expect(after).rejects.not.toBeInstanceOf(CommittedNotDurableError)
    await expect(after).rejects.toMatchObject({ code: 'FSYNC_FAILED', message: expect.stringMatching(/not stored: the disk reported a write error/) })
    expect(s.has('t', 'o', 2)).toBe(false) // not written: sync fetches it again after a restart
    expect(s.failure).toMatchObject({ code: 'FSYNC_FAILED', message: expect.stringMatching(/until the daemon restarts/) })
    expect(s.refused).toBe(1)
  })

  it('does not ack a batch committed while the failing fsync ran, when its own fsync succeeds', async () => {
    let first: ((err: NodeJS.ErrnoException | null) => void) | undefined
    let calls = 0
    const gated: FsyncFn = (fd, cb) => {
      if (calls++ === 0) { first = cb; return }
      fsync(fd, cb)
    }
    const s = open(tempDir(), gated)
    const a = s.insert(storeRow('t', 'o', 1))
    s.flush()
    expect(first).toBeDefined()
    // committed behind the running fsync: it waits for the next one
    const b = s.insert(storeRow('t', 'o', 2))
    s.flush()
    expect(s.has('t', 'o', 2)).toBe(true)
    first!(eio())
    await expect(a).rejects.toBeInstanceOf(CommittedNotDurableError)
    await expect(b).rejects.toBeInstanceOf(CommittedNotDurableError)
    expect(calls).toBe(1) // no fsync after the failure: it would prove nothing
  })

  it('makes sync() (what a consumer ack waits for) reject, and says so once', async () => {
    const s = open(tempDir(), failing(1))
    const told: StoreError[] = []
    s.onFailed = err => told.push(err)
    await expect(s.insert(storeRow('t', 'o', 1))).rejects.toBeInstanceOf(CommittedNotDurableError)
    await expect(s.sync()).rejects.toMatchObject({ code: 'FSYNC_FAILED' })
    await expect(s.insert(storeRow('t', 'o', 2))).rejects.toMatchObject({ code: 'FSYNC_FAILED' })
    expect(told.map(e => e.code)).toEqual(['FSYNC_FAILED'])
  })

  it('gives a refused own publish its seq back', async () => {
    const s = open(tempDir(), failing(1))
    const own = (seq: number): ReturnType<typeof storeRow> => ({ ...storeRow('t', 'me', seq), own: { prev: null, hash: Buffer.alloc(32, seq) } })
    expect(s.reservePublish('t', 'me').seq).toBe(1)
    await expect(s.insert(own(1))).rejects.toBeInstanceOf(CommittedNotDurableError)
    expect(s.reservePublish('t', 'me').seq).toBe(2)
    await expect(s.insert(own(2))).rejects.toMatchObject({ code: 'FSYNC_FAILED' })
    expect(s.reservePublish('t', 'me').seq).toBe(2)
  })

  it('is forgotten by a reopen: the store starts clean and acks again', async () => {
    const dir = tempDir()
    const s = open(dir, failing(1))
    await expect(s.insert(storeRow('t', 'o', 1))).rejects.toBeInstanceOf(CommittedNotDurableError)
    s.close()
    const again = open(dir)
    expect(again.failure).toBeNull()
    expect(again.has('t', 'o', 1)).toBe(true) // committed before the failure; SQLite folded the WAL in at close
    expect(await again.insert(storeRow('t', 'o', 2))).toMatchObject({ seq: 2 })
    await again.sync()
  })
})

describe('a failed fsync of the data directory (once, when the WAL is first fsynced)', () => {
  it('fails the store as a failed fsync of the WAL does: the first batch is not acked, later inserts are refused', async () => {
    let dirFsyncs = 0
    const s = new Store(tempDir(), { codec: envelopeCodec, fsyncDir: () => { dirFsyncs++; throw eio() } })
    closers.push(() => s.close())
    s.addTopic('t')
    // committed, but the WAL's directory entry may be gone at a crash: not durable
    await expect(s.insert(storeRow('t', 'o', 1))).rejects.toBeInstanceOf(CommittedNotDurableError)
    expect(s.failure).toMatchObject({ code: 'FSYNC_FAILED', message: expect.stringMatching(/fsync of the directory .* failed/) })
    const after = s.insert(storeRow('t', 'o', 2))
    await expect(after).rejects.not.toBeInstanceOf(CommittedNotDurableError)
    await expect(after).rejects.toMatchObject({ code: 'FSYNC_FAILED', message: expect.stringMatching(/^not stored: /) })
    await expect(s.sync()).rejects.toMatchObject({ code: 'FSYNC_FAILED' })
    expect(s.has('t', 'o', 2)).toBe(false)
    expect(dirFsyncs).toBe(1) // not tried again: a later success would prove nothing
  })
})
