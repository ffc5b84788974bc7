// Acks (issue 9): an answered ack is on disk, acks are bounded by what was delivered, a failed cursor
// write reaches the caller instead of crashing the process, and an undecodable row does not stop delivery.
import { describe, it, expect, afterEach, afterAll } from 'vitest'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { Store, StoreError, type StoredMessage } from '../src/store/store.js'
import { Consumer } from '../src/core/consumer.js'
import { InvalidInputError } from '../src/core/limits.js'
import { envelopeCodec } from '../src/core/envelope.js'
import { createApi } from '../src/daemon/api.js'
import { tempDir, removeTempDirs, storeRow, startNode, waitFor, describeAsRoot, withTmpfs, dataDirWithBadRow } from './helpers.js'

afterEach(() => removeTempDirs())

async function delivered (c: Consumer, n: number): Promise<StoredMessage[]> {
  const got: StoredMessage[] = []
  c.on('message', m => got.push(m)).start()
  await waitFor(`${n} delivered`, () => got.length >= n, 5_000)
  return got
}

describe('Consumer.ack', () => {
  it('resolves only once the cursor is written (kill -9 right after the answer loses nothing)', async () => {
    const s = new Store(tempDir(), { codec: envelopeCodec })
    s.addTopic('t')
    for (let i = 1; i <= 3; i++) await s.insert(storeRow('t', 'o', i))
    const c = new Consumer(s, 't', { name: 'w' })
    const got = await delivered(c, 3)
    const p = c.ack(got[1])
    expect(p).toBeInstanceOf(Promise)
    await p
    // read straight from the database: nothing waits on a timer
    expect(s.cursors('w', 't').get('o')).toBe(2)
    await Promise.all([c.ack(got[0]), c.ack(got[2])])
    expect(s.cursors('w', 't').get('o')).toBe(3)
    c.close()
    s.close()
  })

  it('rejects acks beyond what the consumer was delivered, and non-integer seqs', async () => {
    const s = new Store(tempDir(), { codec: envelopeCodec })
    s.addTopic('t')
    for (let i = 1; i <= 3; i++) await s.insert(storeRow('t', 'o', i))
    const c = new Consumer(s, 't', { name: 'w' })
    await delivered(c, 3)
    for (const seq of [4, 1_000_000, 1e300, 1.5, 0, -1, Number.NaN]) {
      await expect(c.ack({ origin: 'o', seq }), String(seq)).rejects.toBeInstanceOf(InvalidInputError)
    }
    await expect(c.ack({ origin: 'never-seen', seq: 1 })).rejects.toBeInstanceOf(InvalidInputError)
    expect(s.cursors('w', 't').size).toBe(0)
    await c.ack({ origin: 'o', seq: 3 })
    expect(s.cursors('w', 't').get('o')).toBe(3)
    c.close()
    s.close()
  })

  it('keeps serving when a stored row cannot be decoded (item 7)', async () => {
    const dir = await dataDirWithBadRow(Buffer.from([0xff, 0x00, 0x13]))
    const s = new Store(dir, { codec: envelopeCodec })
    const c = new Consumer(s, 't', { name: 'w', gapTimeoutMs: 100 })
    const got = await delivered(c, 2)
    expect(got.map(m => m.seq)).toEqual([1, 3])
    expect(s.quarantined).toBe(1)
    c.close()
    s.close()
  })
})

describe('ack route', () => {
  let node: Awaited<ReturnType<typeof startNode>> | undefined
  let api: Awaited<ReturnType<typeof createApi>> | undefined
  afterAll(async () => { await api?.close(); await node?.stop(); removeTempDirs() })

  it('400 for acks of messages never delivered; a no-stream ack is written before 200', async () => {
    node = await startNode()
    api = await createApi({ node, token: 'tok-tok-tok-tok', heartbeatMs: 200 })
    const r = await node.publish('jobs', 'one')
    const ack = async (body: string): Promise<{ status: number, body: { error?: { code: string } } }> => {
      const res = await fetch(`${api!.url}/v1/topics/jobs/consumers/w/ack`, { method: 'POST', body, headers: { authorization: 'Bearer tok-tok-tok-tok', 'content-type': 'application/json' } })
      return { status: res.status, body: await res.json() as { error?: { code: string } } }
    }
    for (const seq of ['1000000', '1e300', '2']) {
      const res = await ack(`{"origin":"${r.origin}","seq":${seq}}`)
      expect(res.status, seq).toBe(400)
    }
    expect((await ack('{"origin":"someone-else","seq":1}')).status).toBe(400)
    const ok = await ack(`{"origin":"${r.origin}","seq":1}`)
    expect(ok).toMatchObject({ status: 200, body: { acked: true } })
    await waitFor('short-lived consumer closed', () => node!.status().consumers === 0, 2_000)
    const c = node.consume('jobs', { name: 'w' })
    expect(c.cursors.get(r.origin)).toBe(1)
    c.close()
  })
})

describeAsRoot('acks on a full disk (item 12; needs root for a small tmpfs)', 'mount a tmpfs to fill', () => {
  it('an ack that cannot be written rejects with DISK_FULL instead of crashing the process', async () => {
    await withTmpfs('2m', async mnt => {
      const s = new Store(join(mnt, 'data'), { codec: envelopeCodec, reserveBytes: 0 })
      s.addTopic('t')
      // many origins, so the cursor write needs more than the few pages left
      await Promise.all(Array.from({ length: 300 }, async (_, o) => await s.insert(storeRow('t', `origin-${o}-${'p'.repeat(200)}`, 1))))
      const c = new Consumer(s, 't', { name: 'w' })
      const got = await delivered(c, 300)
      try { execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=4k', 'count=1000'], { stdio: 'ignore' }) } catch { /* full */ }
      for (let i = 1; i <= 500; i++) {
        try { await s.insert(storeRow('t', 'filler', i, 'y'.repeat(4000))) } catch { break }
      }
      const results = await Promise.allSettled(got.map(async m => await c.ack(m)))
      const failed = results.filter(r => r.status === 'rejected') as PromiseRejectedResult[]
      expect(failed.length).toBeGreaterThan(0)
      expect(failed[0].reason).toBeInstanceOf(StoreError)
      expect(failed[0].reason.code).toBe('DISK_FULL')
      // the process is still here, and so is the store once space is back
      execFileSync('rm', [join(mnt, 'filler')])
      await c.ack(got[got.length - 1])
      expect(s.cursors('w', 't').size).toBe(300)
      c.close()
      s.close()
    })
  })
})
