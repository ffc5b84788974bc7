// Sync serves our own stream only up to what is on disk. A commit is visible to readers before its fsync:
// a peer pulling then got our newest messages, a power loss took them back, and the node published those
// seqs again with other bodies: a fork of its own stream at that peer, which blocks the stream for good.
import { describe, it, expect, afterEach } from 'vitest'
import { fsync } from 'node:fs'
import { Store } from '../src/store/store.js'
import type { FsyncFn } from '../src/store/wal.js'
import { envelopeCodec } from '../src/core/envelope.js'
import type { GossipNode } from '../src/core/node.js'
import { startNode, stopAll, tempDir, removeTempDirs, addrOf, waitFor, text, storeRow, eio } from './helpers.js'
import { OwnUnsynced } from '../src/store/own-unsynced.js'
import type { NewMessage } from '../src/store/rows.js'

let nodes: GossipNode[] = []
const closers: Array<() => void> = []
afterEach(async () => {
  await stopAll(nodes.splice(0))
  for (const c of closers.splice(0)) c()
  removeTempDirs()
})


/**
 * `to` pulls from `from` and then holds `want`. syncWith can resolve before a row it received is committed:
 * the pull that a connection or a hole started may be storing the same message (it counts as queued, a
 * duplicate, in syncWith's own pull), so the rows are waited for, briefly.
 */
async function pulled (to: GossipNode, from: GossipNode, want: string[]): Promise<void> {
  await to.syncWith(from.peerId)
  await waitFor(`${want.length} messages pulled`, () => to.history('t').length >= want.length, 5_000).catch(() => {})
  expect(to.history('t').map(text)).toEqual(want)
}
describe('our own messages are served only once on disk', () => {
  it('a pull while an own message waits for its fsync does not get it; it comes once the fsync is done', async () => {
    // fsyncs of the publisher's WAL wait until released
    let held: Array<() => void> | undefined
    const gated: FsyncFn = (fd, cb) => {
      if (held == null) { fsync(fd, cb); return }
      held.push(() => fsync(fd, cb))
    }
    const dir = tempDir()
    const store = new Store(dir, { codec: envelopeCodec, fsync: gated })
    closers.push(() => store.close())
    // gossip off: what b gets, it gets by sync
    const a = await startNode({ dataDir: dir, synchronous: 'FULL', topics: ['t'], gossipFilter: () => false, syncIntervalMs: 600_000 }, { store })
    const b = await startNode({ topics: ['t'], peers: [addrOf(a)], syncIntervalMs: 600_000 })
    nodes = [a, b]
    await waitFor('connected', () => b.peers().length === 1)
    await a.publish('t', 'on disk')
    held = []
    const pending = a.publish('t', 'committed, not yet synced')
    await waitFor('committed (visible to readers)', () => a.history('t').length === 2)
    expect(store.servableUpTo('t', a.peerId)).toBe(1)
    await pulled(b, a, ['on disk'])
    // the fsync completes: the message is acked, and served
    const release = held
    held = undefined
    for (const r of release) r()
    await pending
    expect(store.servableUpTo('t', a.peerId)).toBe(Number.MAX_SAFE_INTEGER)
    await pulled(b, a, ['on disk', 'committed, not yet synced'])
  })
})

describe('an own message whose fsync failed', () => {
  it('is not gossiped (a power loss may take it back, and its seq is signed again with another body) nor served, even once fsyncs succeed again; a restart serves it', async () => {
    let failing = false
    const flaky: FsyncFn = (fd, cb) => {
      if (failing) { cb(eio()); return }
      fsync(fd, cb)
    }
    const dir = tempDir()
    const store = new Store(dir, { codec: envelopeCodec, fsync: flaky })
    closers.push(() => store.close())
    const gossiped: number[] = []
    // every own message handed to gossip is seen here (and not sent: what b gets, it gets by sync)
    const a = await startNode({ dataDir: dir, synchronous: 'FULL', topics: ['t'], gossipFilter: e => { gossiped.push(e.seq); return false }, syncIntervalMs: 600_000 }, { store })
    const b = await startNode({ topics: ['t'], peers: [addrOf(a)], syncIntervalMs: 600_000 })
    nodes = [a, b]
    await waitFor('connected', () => b.peers().length === 1)
    await a.publish('t', 'on disk')
    failing = true
    const r = await a.publish('t', 'committed, fsync failed')
    expect(r.durable).toBe(false)
    expect(gossiped).toEqual([1])
    await pulled(b, a, ['on disk'])
    // the disk seems to recover, but the failed write may have left a hole in the WAL that a later fsync
    // does not fill: the store stays failed (refuses publishes, serves nothing more of our stream)
    failing = false
    await expect(a.publish('t', 'after the failure')).rejects.toMatchObject({ code: 'FSYNC_FAILED' })
    await b.syncWith(a.peerId)
    expect(b.history('t').map(text)).toEqual(['on disk'])
    // a restart reopens the store clean: what SQLite kept is served, and publishing goes on from it
    await a.stop()
    store.close()
    const reopened = new Store(dir, { codec: envelopeCodec })
    closers.push(() => reopened.close())
    const a2 = await startNode({ dataDir: dir, synchronous: 'FULL', topics: ['t'], gossipFilter: () => false, syncIntervalMs: 600_000 }, { store: reopened })
    const c = await startNode({ topics: ['t'], peers: [addrOf(a2)], syncIntervalMs: 600_000 })
    nodes.push(a2, c)
    await waitFor('connected', () => c.peers().length === 1)
    expect((await a2.publish('t', 'after the restart')).durable).toBeUndefined()
    await pulled(c, a2, ['on disk', 'committed, fsync failed', 'after the restart'])
  })
})

describe('own commits waiting for their fsync', () => {
  const own = (seq: number): NewMessage => ({ ...storeRow('t', 'me', seq), own: { prev: null, hash: new Uint8Array(32) } })

  it('stay bounded while fsyncs fail, and the stream is served only below the first of them until one succeeds', () => {
    const u = new OwnUnsynced()
    const batches: NewMessage[][] = []
    // every fsync fails: no batch is ever synced
    for (let seq = 1; seq <= 20_000; seq++) { const b = [own(seq)]; batches.push(b); u.committed(b) }
    expect(u.size).toBeLessThanOrEqual(1_024)
    expect(u.servableUpTo('t', 'me')).toBe(0)
    // an fsync covering the newest commit covers every commit before it
    u.synced(batches[batches.length - 1])
    expect(u.size).toBe(0)
    expect(u.servableUpTo('t', 'me')).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('an fsync of an older commit leaves the newer ones unservable', () => {
    const u = new OwnUnsynced()
    const first = [own(5)]
    const second = [own(6)]
    u.committed(first); u.committed(second)
    u.synced(first)
    expect(u.servableUpTo('t', 'me')).toBe(5)
  })
})
