// WAL checkpoints on the store's worker thread (src/store/checkpointer.ts): they happen, they fold the
// WAL into the database, a failing worker hands checkpoints back to SQLite, the data dir stays locked to one
// owner whichever mode holds it, and kill -9 in the middle of heavy writes loses nothing acked.
import { describe, it, expect, afterEach } from 'vitest'
import { statSync, writeFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { Store, StoreError } from '../src/store/store.js'
import { BackgroundCheckpointer } from '../src/store/checkpointer.js'
import { envelopeCodec } from '../src/core/envelope.js'
import { tempDir, removeTempDirs, storeRow, waitFor } from './helpers.js'

afterEach(() => removeTempDirs())

const BODY = 'x'.repeat(4096)

/** insert seqs from..to of origin o on topic t, 100 at a time (one group commit each) */
async function write (s: Store, from: number, to: number): Promise<void> {
  for (let a = from; a <= to; a += 100) {
    const seqs = Array.from({ length: Math.min(100, to - a + 1) }, (_, i) => a + i)
    await Promise.all(seqs.map(async seq => await s.insert(storeRow('t', 'o', seq, BODY))))
  }
}

function code (fn: () => unknown): string | undefined {
  try { fn() } catch (err) { return (err as StoreError).code }
  return undefined
}

describe('background WAL checkpoints', () => {
  it('run on the worker once a few MB were written, and fold the WAL into the database', async () => {
    const dir = tempDir()
    const s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('t')
    await write(s, 1, 100)
    // a quiet store starts no thread
    expect(s.checkpointStats).toEqual({ count: 0, seconds: 0, failures: 0 })
    await write(s, 101, 2_500) // ~10 MB: two checkpoints' worth
    await waitFor('a background checkpoint', () => (s.checkpointStats?.count ?? 0) >= 1, 20_000)
    expect(s.checkpointStats?.failures).toBe(0)
    // the pages were copied into the database file itself by the worker's connection
    expect(statSync(join(dir, 'queue.sqlite')).size).toBeGreaterThan(4 * 1024 * 1024)
    s.close()
    const again = new Store(dir, { codec: envelopeCodec })
    expect(again.topics()).toMatchObject([{ topic: 't', messages: 2_500 }])
    again.close()
  })

  it('keep the WAL bounded under sustained writes, and a store reopened at once after close can write', async () => {
    const dir = tempDir()
    const s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('t')
    let maxWal = 0
    for (let a = 1; a <= 10_000; a += 500) {
      await write(s, a, a + 499) // 40 MB in all
      maxWal = Math.max(maxWal, statSync(join(dir, 'queue.sqlite-wal')).size)
    }
    // under writes this steady the worker's checkpoints are always overtaken by commits, so the WAL cannot
    // restart from its beginning; SQLite's backstop on the store's connection (16 MiB) finishes what the
    // worker has not copied and bounds it (seen: 40 MB with the first version's 64 MiB backstop)
    expect(maxWal).toBeLessThan(20 * 1024 * 1024)
    expect(s.checkpointStats?.failures).toBe(0)
    s.close()
    // the worker's connection is closed by then: the store's own was the last, the dir is free and writable
    const again = new Store(dir, { codec: envelopeCodec })
    again.addTopic('u')
    expect(await again.insert(storeRow('u', 'o', 1))).toMatchObject({ seq: 1 })
    again.close()
  })

  it('auto mode (the default) checkpoints inline at a moderate rate and starts no worker', async () => {
    const dir = tempDir()
    const s = new Store(dir, { codec: envelopeCodec })
    s.addTopic('t')
    // 20 rows of 4 KiB every 100 ms or slower: at most 800 KiB per second, under the bulk rate; ~5 MB of
    // payload in all, more than SQLite's own threshold of 1,000 pages of WAL
    for (let a = 1; a <= 1_200; a += 20) {
      await write(s, a, a + 19)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    expect(s.checkpointStats).toEqual({ count: 0, seconds: 0, failures: 0 })
    // SQLite's checkpoints copied pages into the database and the WAL restarted (1 MiB limit after one)
    expect(statSync(join(dir, 'queue.sqlite')).size).toBeGreaterThan(2 * 1024 * 1024)
    expect(statSync(join(dir, 'queue.sqlite-wal')).size).toBeLessThan(4_100 * 1024)
    s.close()
  })

  it('auto mode moves checkpoints to the worker from a second of bulk writes until a second below it', async () => {
    const dir = tempDir()
    new Store(dir, { codec: envelopeCodec }).close()
    let t = 1_000
    const bulk: boolean[] = []
    const c = new BackgroundCheckpointer(join(dir, 'queue.sqlite'), () => {}, { onBulk: b => bulk.push(b), now: () => t, everyBytes: Number.MAX_SAFE_INTEGER })
    const KiB = 1024
    c.wrote(512 * KiB)
    t += 500; c.wrote(511 * KiB)
    expect(bulk).toEqual([]) // 1023 KiB within the second
    t += 100; c.wrote(2 * KiB)
    expect(bulk).toEqual([true])
    t += 600; c.wrote(100 * KiB) // the second that went bulk ended at the rate: still bulk
    expect(bulk).toEqual([true])
    t += 1_000; c.wrote(100 * KiB) // the last second had 100 KiB: out of bulk once the worker checkpointed
    await waitFor('the threshold lowered after a checkpoint on the worker', () => bulk.length === 2, 10_000)
    expect(bulk).toEqual([true, false])
    expect(c.stats.count).toBe(1)
    t += 200; c.wrote(1024 * KiB)
    expect(bulk).toEqual([true, false, true])
    t += 5_000; c.wrote(1 * KiB) // no commit for seconds
    await waitFor('out of bulk again', () => bulk.length === 4, 10_000)
    expect(bulk).toEqual([true, false, true, false])
    c.close()
  })

  it('auto mode: after a burst and silence, the next small commit leaves the burst to the worker', async () => {
    const dir = tempDir()
    const s = new Store(dir, { codec: envelopeCodec, maintenanceMs: 0 })
    s.addTopic('t')
    // ~3.5 MB at once: bulk, but under the 4 MiB after which the worker checkpoints on its own
    for (let a = 1; a <= 3_500; a += 100) {
      await Promise.all(Array.from({ length: 100 }, async (_, i) => await s.insert(storeRow('t', 'o', a + i, 'x'.repeat(1000)))))
    }
    expect(s.checkpointStats?.count).toBe(0)
    await new Promise(resolve => setTimeout(resolve, 2_100))
    await s.insert(storeRow('t', 'o', 3_501))
    // the burst's pages go to the database on the worker, not in this or the next commit (seen: never,
    // and the next small commit took 10-31 ms instead of 0.5)
    await waitFor('a checkpoint on the worker', () => (s.checkpointStats?.count ?? 0) >= 1, 10_000)
    s.close()
  })

  it('inline mode starts no worker and keeps SQLite\'s own checkpoints', async () => {
    const s = new Store(tempDir(), { codec: envelopeCodec, checkpoints: 'inline' })
    s.addTopic('t')
    await write(s, 1, 1_200)
    expect(s.checkpointStats).toBeUndefined()
    s.close()
  })

  it('a worker that cannot open the store is reported once and checkpoints go back to the caller', async () => {
    const failures: Error[] = []
    const c = new BackgroundCheckpointer(join(tempDir(), 'missing.sqlite'), err => failures.push(err), { everyBytes: 1 })
    c.wrote(10)
    await waitFor('the failure', () => failures.length > 0, 10_000)
    c.wrote(10) // no second worker, no second report
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(failures).toHaveLength(1)
    expect(failures[0].message).toMatch(/could not open the store/)
    expect(c.active).toBe(false)
    c.close()
  })

  it('the data dir stays locked to its owner, whichever checkpoint mode each side uses', () => {
    for (const [first, second] of [['background', 'background'], ['background', 'inline'], ['inline', 'background'], ['auto', 'inline'], ['inline', 'auto']] as const) {
      const dir = tempDir()
      const s = new Store(dir, { codec: envelopeCodec, checkpoints: first })
      expect(code(() => new Store(dir, { codec: envelopeCodec, checkpoints: second }).close()), `${first} then ${second}`).toBe('DATA_DIR_LOCKED')
      s.close()
      new Store(dir, { codec: envelopeCodec, checkpoints: second }).close() // free again once closed
    }
  })

  it('a lock file that is not a lock SQLite wrote is named in the error, and the store is left alone', () => {
    const dir = tempDir()
    new Store(dir, { codec: envelopeCodec }).close()
    writeFileSync(join(dir, 'queue.sqlite.lock'), 'not a database '.repeat(100))
    let err: unknown
    try { new Store(dir, { codec: envelopeCodec }) } catch (e) { err = e }
    expect(err).toBeInstanceOf(StoreError)
    expect((err as Error).message).toMatch(/queue\.sqlite\.lock.*remove that file/)
    rmSync(join(dir, 'queue.sqlite.lock'))
    new Store(dir, { codec: envelopeCodec }).close()
  })

  it('kill -9 while checkpoints run in the background loses no acked message', async () => {
    const dir = tempDir()
    const store = fileURLToPath(new URL('../dist/store/store.js', import.meta.url))
    const envelope = fileURLToPath(new URL('../dist/core/envelope.js', import.meta.url))
    // a writer process: FULL durability, 4 KiB messages, prints each seq once its insert resolved (acked)
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      const { Store } = await import(${JSON.stringify(store)})
      const { envelopeCodec, encodeEnvelope } = await import(${JSON.stringify(envelope)})
      const s = new Store(${JSON.stringify(dir)}, { codec: envelopeCodec })
      s.addTopic('t')
      const payload = new TextEncoder().encode('x'.repeat(4096))
      for (let a = 1; ; a += 50) {
        await Promise.all(Array.from({ length: 50 }, async (_, i) => {
          const seq = a + i
          await s.insert({ topic: 't', origin: 'o', seq, ts: 1, payload, raw: encodeEnvelope({ origin: 'o', topic: 't', seq, ts: 1, payload, sig: new Uint8Array(64) }) })
          process.stdout.write(seq + ' ' + (s.checkpointStats?.count ?? 0) + '\\n')
        }))
      }
    `], { stdio: ['ignore', 'pipe', 'inherit'] })
    const acked: number[] = []
    let checkpoints = 0
    let buf = ''
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      const lines = buf.split('\n')
      buf = lines.pop() ?? ''
      for (const l of lines) {
        const [seq, n] = l.split(' ').map(Number)
        acked.push(seq)
        checkpoints = Math.max(checkpoints, n)
      }
    })
    const exited = new Promise(resolve => child.on('exit', (_code, signal) => resolve(signal)))
    try {
      await waitFor('two background checkpoints in the writer', () => checkpoints >= 2, 60_000)
    } finally {
      child.kill('SIGKILL')
    }
    expect(await exited).toBe('SIGKILL')
    const db = new Database(join(dir, 'queue.sqlite'))
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    const held = new Set((db.prepare('SELECT seq FROM messages').all() as Array<{ seq: number }>).map(r => r.seq))
    db.close()
    const lost = acked.filter(seq => !held.has(seq))
    expect(acked.length).toBeGreaterThan(2_000)
    expect(lost).toEqual([])
  })
})
