// Publishing exactly once: an idempotency key (as JetStream's Nats-Msg-Id) makes a retry return the first
// result instead of publishing again, through the API, the client, the CLI and a daemon restart; and an
// fsync failure after the commit answers truthfully (published, durable: false) instead of an error that
// invites a duplicate.
/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read arbitrary JSON bodies */
import { describe, it, expect, afterEach } from 'vitest'
import { fsync } from 'node:fs'
import type { GossipNode } from '../src/core/node.js'
import { createApi } from '../src/daemon/api.js'
import { GossipClient } from '../src/client/client.js'
import { Store, type FsyncFn } from '../src/store/store.js'
import { envelopeCodec } from '../src/core/envelope.js'
import { startNode, stopAll, tempDir, eio } from './helpers.js'
import { startDaemon, stopDaemon, gossipd, cleanup, tmp } from './daemon-util.js'

const token = 'test-token-0123456789'
const nodes: GossipNode[] = []
const closers: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
  await stopAll(nodes.splice(0))
  await cleanup()
})

async function apiOn (node: GossipNode): Promise<{ url: string, post: (body: unknown, headers?: Record<string, string>) => Promise<{ status: number, body: any, retryAfter: string | null }> }> {
  const api = await createApi({ node, token })
  closers.push(async () => await api.close())
  const post = async (body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, body: any, retryAfter: string | null }> => {
    const res = await fetch(`${api.url}/v1/topics/t/messages`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers } })
    return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after') }
  }
  return { url: api.url, post }
}

describe('publish idempotency key', () => {
  it('the same key on the same topic returns the first result (200, duplicate: true) and publishes once, by header or body field', async () => {
    const node = await startNode()
    nodes.push(node)
    const { post, url } = await apiOn(node)
    const first = await post({ payload: 'once' }, { 'idempotency-key': 'order-1' })
    expect(first.status).toBe(201)
    expect(first.body.duplicate).toBeUndefined()
    const again = await post({ payload: 'once' }, { 'idempotency-key': 'order-1' })
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ id: first.body.id, seq: first.body.seq, offset: first.body.offset, duplicate: true })
    // the other header name and the body field name the same key
    expect((await post({ payload: 'once' }, { 'gossipd-msg-id': 'order-1' })).body.duplicate).toBe(true)
    expect((await post({ payload: 'once', msgId: 'order-1' })).body.duplicate).toBe(true)
    // concurrent retries share the first publish
    const burst = await Promise.all([1, 2, 3].map(async () => await post({ payload: 'burst' }, { 'idempotency-key': 'order-2' })))
    expect(new Set(burst.map(r => r.body.seq)).size).toBe(1)
    expect(burst.filter(r => r.status === 201)).toHaveLength(1)
    // the client's option
    const client = new GossipClient({ url, token })
    const c1 = await client.publish('t', 'client', { msgId: 'order-3' })
    const c2 = await client.publish('t', 'client', { msgId: 'order-3' })
    expect(c2).toMatchObject({ seq: c1.seq, duplicate: true })
    // a key is per topic; no key publishes every time
    expect((await client.publish('other', 'x', { msgId: 'order-1' })).duplicate).toBeUndefined()
    await client.publish('t', 'plain'); await client.publish('t', 'plain')
    expect(node.history('t').map(m => new TextDecoder().decode(m.payload))).toEqual(['once', 'burst', 'client', 'plain', 'plain'])
    // conflicting keys and bad keys are refused
    expect((await post({ payload: 'x', msgId: 'a' }, { 'idempotency-key': 'b' })).body.error.code).toBe('BAD_MSG_ID')
    expect((await post({ payload: 'x' }, { 'idempotency-key': 'has space' })).status).toBe(400)
  })

  it('a key survives a daemon restart within the window (gossipd pub --msg-id)', async () => {
    const dir = tmp()
    let d = await startDaemon(dir)
    const first = await gossipd(['pub', 't', 'hello', '--msg-id', 'k-1', '--json', '--data', dir])
    expect(first.code).toBe(0)
    const r1 = JSON.parse(first.stdout)
    expect(r1.duplicate).toBeUndefined()
    expect(await stopDaemon(d)).toBe(0)
    d = await startDaemon(dir)
    const again = await gossipd(['pub', 't', 'hello', '--msg-id', 'k-1', '--json', '--data', dir])
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ seq: r1.seq, offset: r1.offset, duplicate: true })
    const text = await gossipd(['pub', 't', 'hello', '--msg-id', 'k-1', '--data', dir])
    expect(text.stdout).toContain('duplicate')
    const client = new GossipClient({ url: d.url, token: d.token })
    expect((await client.history('t')).map(m => m.payload)).toEqual(['hello'])
    await stopDaemon(d)
  }, 60_000)
})

describe('publish idempotency key and leaving a topic', () => {
  it('leave --purge forgets the topic\'s keys: the same key after a rejoin publishes again; a plain leave keeps them', async () => {
    const node = await startNode()
    nodes.push(node)
    const first = await node.publish('t', 'before', { msgId: 'K' })
    expect(first.duplicate).toBeUndefined()
    await node.publish('u', 'other topic', { msgId: 'K' })
    // a plain leave keeps the rows, so it keeps their keys
    node.leave('t')
    node.join('t')
    expect(await node.publish('t', 'retry', { msgId: 'K' })).toMatchObject({ seq: first.seq, duplicate: true })
    // purge deletes the message; a key naming it must not answer for it
    node.leave('t', true)
    node.join('t')
    const after = await node.publish('t', 'after', { msgId: 'K' })
    expect(after.duplicate).toBeUndefined()
    expect(node.history('t').map(m => new TextDecoder().decode(m.payload))).toEqual(['after'])
    expect(await node.publish('t', 'after', { msgId: 'K' })).toMatchObject({ seq: after.seq, duplicate: true })
    // another topic's key with the same name is untouched
    expect((await node.publish('u', 'other topic', { msgId: 'K' })).duplicate).toBe(true)
  })
})

describe('fsync failure after the commit', () => {
  it('answers 201 with durable: false and a warning (the row is committed), a retry with the key is a duplicate, and later publishes are refused (503 FSYNC_FAILED)', async () => {
    let fail = false
    const flaky: FsyncFn = (fd, cb) => {
      if (fail) { fail = false; setImmediate(() => cb(eio())); return }
      fsync(fd, cb)
    }
    const dir = tempDir()
    const store = new Store(dir, { codec: envelopeCodec, fsync: flaky })
    closers.push(() => store.close())
    const node = await startNode({ dataDir: dir, synchronous: 'FULL' }, { store })
    nodes.push(node)
    const { post } = await apiOn(node)
    fail = true
    const r = await post({ payload: 'committed' }, { 'idempotency-key': 'pay-1' })
    expect(r.status).toBe(201)
    expect(r.body.durable).toBe(false)
    expect(r.body.warning).toMatch(/fsync failed/)
    expect(node.history('t').map(m => m.offset)).toEqual([r.body.offset])
    // the client retries because of the warning: the key makes it a no-op
    const retry = await post({ payload: 'committed' }, { 'idempotency-key': 'pay-1' })
    expect(retry.status).toBe(200)
    expect(retry.body).toMatchObject({ seq: r.body.seq, duplicate: true })
    // later publishes are refused, though the next fsync would succeed: the failed write may have left a
    // hole in the WAL that a crash recovery stops at (wal.ts); the store is failed until a restart
    const next = await post({ payload: 'next' })
    expect(next.status).toBe(503)
    expect(next.body.error).toMatchObject({ code: 'FSYNC_FAILED', message: expect.stringMatching(/not stored: the disk reported a write error.*until the daemon restarts/) })
    // no Retry-After: a client that honours it would retry every second until someone restarts the daemon
    expect(next.retryAfter).toBeNull()
    expect(node.history('t')).toHaveLength(1)
    expect(node.status()).toMatchObject({ storeFailed: expect.stringMatching(/fsync of .*-wal failed/), storeRefused: 1 })
  })
})
