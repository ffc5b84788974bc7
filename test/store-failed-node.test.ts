// A node whose store failed (an fsync of the WAL failed, store/wal.ts): publishes and received messages are
// refused, never lost silently: logged (once, with the reason), counted, and shown in status and readiness.
import { describe, it, expect, afterEach } from 'vitest'
import { Store } from '../src/store/store.js'
import { envelopeCodec } from '../src/core/envelope.js'
import type { GossipNode } from '../src/core/node.js'
import type { LogFn } from '../src/core/events.js'
import { readiness } from '../src/daemon/observe/health.js'
import { startNode, stopAll, tempDir, removeTempDirs, addrOf, waitFor, failingFsync } from './helpers.js'

let nodes: GossipNode[] = []
const closers: Array<() => void> = []
afterEach(async () => {
  await stopAll(nodes.splice(0))
  for (const c of closers.splice(0)) c()
  removeTempDirs()
})

describe('a node whose store failed', () => {
  it('refuses publishes and received messages, counts them, logs the reason once, and is not ready', async () => {
    const dir = tempDir()
    const store = new Store(dir, { codec: envelopeCodec, fsync: failingFsync(1) })
    closers.push(() => store.close())
    const logs: Array<{ level: string, msg: string }> = []
    const log: LogFn = (level, msg) => { logs.push({ level, msg }) }
    const a = await startNode({ dataDir: dir, synchronous: 'FULL', topics: ['t'], log }, { store })
    const b = await startNode({ topics: ['t'], peers: [addrOf(a)] })
    nodes = [a, b]
    await waitFor('connected', () => b.peers().length === 1 && a.meshPeers('t').length === 1)
    expect(a.status().storeFailed).toBeUndefined()
    expect(readiness({ node: () => a, expectPeers: false }).checks.store).toBe(true)

    expect((await a.publish('t', 'committed, fsync failed')).durable).toBe(false)
    await expect(a.publish('t', 'refused')).rejects.toMatchObject({ code: 'FSYNC_FAILED' })
    // a peer's message arrives by gossip: refused too, and counted (sync pulls it again after a restart)
    await b.publish('t', 'from b')
    await waitFor('b\'s message refused', () => a.status().storeRefused === 2)
    expect(a.history('t')).toHaveLength(1)

    expect(a.status().storeFailed).toMatch(/the disk reported a write error: fsync of .*-wal failed \(EIO/)
    expect(readiness({ node: () => a, expectPeers: false })).toMatchObject({ ready: false, checks: { store: false } })
    expect(logs.filter(l => l.level === 'error' && /store failed/.test(l.msg))).toHaveLength(1)
  })

  it('stops pulling from peers: what it would pull is refused unwritten, at a cost to both sides', async () => {
    const dir = tempDir()
    const store = new Store(dir, { codec: envelopeCodec, fsync: failingFsync(1) })
    closers.push(() => store.close())
    const a = await startNode({ dataDir: dir, synchronous: 'FULL', topics: ['t'], syncIntervalMs: 200 }, { store })
    const b = await startNode({ topics: ['t'], peers: [addrOf(a)], syncIntervalMs: 200 })
    nodes = [a, b]
    await waitFor('connected', () => b.peers().length === 1 && a.meshPeers('t').length === 1)
    await waitFor('a pulled from b', () => a.status().sync.pulls >= 2)
    expect((await a.publish('t', 'committed, fsync failed')).durable).toBe(false)
    for (let i = 0; i < 5; i++) await b.publish('t', `from b ${i}`)
    await waitFor('b\'s messages refused', () => a.status().storeRefused >= 5)
    const pulls = a.status().sync.pulls
    // at 200 ms a round (0.5-1.5x, doubling while idle up to 6x), about ten pulls would start in 3 s
    await new Promise(resolve => setTimeout(resolve, 3_000))
    expect(a.status().sync.pulls).toBe(pulls)
  })
})
