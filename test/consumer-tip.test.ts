// A consumer at the tip of an origin is handed the rows a commit just added, without reading them back
// from the store (src/core/consumer.ts fromCommit); one that is behind, or waiting on a hole, still reads.
import { it, expect, afterEach } from 'vitest'
import type { GossipNode } from '../src/core/node.js'
import { openStore } from '../src/core/open-store.js'
import { Store, type StoredMessage } from '../src/store/store.js'
import { Consumers } from '../src/core/consumers.js'
import { envelopeCodec } from '../src/core/envelope.js'
import { startNode, stopAll, tempDir, waitFor, text, storeRow } from './helpers.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

/** a node on a store given to it, whose reads of an origin's rows are counted */
async function nodeCountingReads (): Promise<{ a: GossipNode, store: Store, reads: () => number }> {
  const dir = tempDir()
  const store = openStore(dir, {})
  let reads = 0
  const readOrigin = store.readOrigin.bind(store)
  store.readOrigin = (...args) => { reads++; return readOrigin(...args) }
  const a = await startNode({ dataDir: dir, topics: ['t'] }, { store })
  nodes = [a]
  return { a, store, reads: () => reads }
}

it('consumers at the tip get committed rows without a store read, each with a payload of its own', async () => {
  const { a, store, reads } = await nodeCountingReads()
  const one: StoredMessage[] = []
  const two: StoredMessage[] = []
  a.consume('t', { from: 'beginning' }).on('message', m => { one.push(m); m.payload.fill(0) }).start()
  a.consume('t', { from: 'beginning' }).on('message', m => two.push(m)).start()
  await new Promise(resolve => setTimeout(resolve, 50))
  const before = reads()
  for (let i = 1; i <= 30; i++) await a.publish('t', `m${i}`)
  await waitFor('both consumers have all 30', () => one.length === 30 && two.length === 30)
  expect(reads() - before).toBe(0)
  // the first consumer zeroed every payload it got: the second's are untouched
  expect(two.map(text)).toEqual(Array.from({ length: 30 }, (_, i) => `m${i + 1}`))
  expect(two.map(m => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
  store.close()
})

it('a consumer that is behind reads the store and still gets every message once, in order', async () => {
  const { a, store, reads } = await nodeCountingReads()
  for (let i = 1; i <= 10; i++) await a.publish('t', `m${i}`)
  // opened behind: its first rows come from a read, the later ones at the tip from commits
  const got: number[] = []
  const c = a.consume('t', { from: 'beginning', highWaterMark: 3 })
  const iterate = (async () => {
    for await (const m of c) {
      got.push(m.seq)
      if (got.length === 25) break
      await new Promise(resolve => setTimeout(resolve, 2))
    }
  })()
  await Promise.all(Array.from({ length: 15 }, async (_, i) => await a.publish('t', `m${i + 11}`)))
  await iterate
  expect(got).toEqual(Array.from({ length: 25 }, (_, i) => i + 1))
  expect(reads()).toBeGreaterThan(0)
  store.close()
})

// the cases below were found by a review of the first version of the tip delivery (837b1f2)

function consumersOn (s: Store): Consumers {
  const cs = new Consumers({
    store: s, sources: new Map(), emit: () => true, log: () => {},
    isJoined: () => true, join: () => {}, repairing: () => false, repair: () => {},
  })
  s.onCommit = rows => cs.onCommit(rows)
  return cs
}
const turn = async (): Promise<void> => await new Promise(resolve => setImmediate(resolve))

it('a consumer closed in its message handler gets nothing more, whatever else that commit held', async () => {
  const s = new Store(tempDir(), { codec: envelopeCodec })
  s.addTopic('t')
  const got: string[] = []
  const c = consumersOn(s).consume('t', { from: 'beginning' })
  c.on('message', m => { got.push(`${m.origin}:${m.seq}`); c.close() }).start()
  await turn()
  // one commit with rows of three origins
  await Promise.all([s.insert(storeRow('t', 'a', 1)), s.insert(storeRow('t', 'b', 1)), s.insert(storeRow('t', 'c', 1))])
  await turn()
  expect(got).toEqual(['a:1'])
  s.close()
})

it('a handler that makes a commit while delivering gets the new row once, after the rest, in order', async () => {
  const s = new Store(tempDir(), { codec: envelopeCodec })
  s.addTopic('t')
  const got: number[] = []
  const c = consumersOn(s).consume('t', { from: 'beginning' })
  c.on('message', m => {
    got.push(m.seq)
    if (m.seq === 1) { void s.insert(storeRow('t', 'a', 3)); s.flush() }
  }).start()
  await turn()
  await Promise.all([s.insert(storeRow('t', 'a', 1)), s.insert(storeRow('t', 'a', 2))])
  await turn(); await turn()
  expect(got).toEqual([1, 2, 3])
  s.close()
})

it('publish(buffer) then reusing the buffer: local consumers get what was signed and stored', async () => {
  const a = await startNode({ topics: ['t'] })
  nodes = [a]
  const got: StoredMessage[] = []
  a.consume('t', { from: 'beginning' }).on('message', m => got.push(m)).start()
  await new Promise(resolve => setTimeout(resolve, 20))
  const buf = new TextEncoder().encode('hello')
  const p = a.publish('t', buf)
  buf.fill(0x58)
  await p
  await waitFor('delivered', () => got.length === 1)
  expect(got.map(text)).toEqual(['hello'])
  expect(a.history('t').map(text)).toEqual(['hello'])
})
