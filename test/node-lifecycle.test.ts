// GossipNode start/stop: a restarted node is back on gossipsub (subscribed, with its validator), a start
// that throws leaves nothing behind (no listener, no data-dir lock), concurrent start/stop calls are safe,
// and a throwing 'message' listener does not leave publishes hanging.
import { describe, it, expect, afterEach } from 'vitest'
import { createServer } from 'node:net'
import { GossipNode } from '../src/core/node.js'
import { startNode, stopAll, tempDir, waitFor, addrOf, freePort } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

async function canListen (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

describe('node lifecycle', () => {
  it('after stop() and start() the node is subscribed again and takes gossip (validator back)', async () => {
    const b = await startNode({ topics: ['t'] })
    nodes.push(b)
    const a = await startNode({ topics: ['t'], peers: [addrOf(b)], syncIntervalMs: 60_000 })
    nodes.push(a)
    const subscribedOnB = (): boolean => b.topics().find(t => t.topic === 't')?.peers === 1
    await waitFor('a subscribed as seen by b', subscribedOnB)
    await a.stop()
    await waitFor('b sees a gone', () => !subscribedOnB())
    await a.start()
    await waitFor('a subscribed again after its restart', subscribedOnB, 10_000)
    const got: string[] = []
    a.on('message', m => { if (m.origin === b.peerId) got.push(m.source) })
    await b.publish('t', 'after restart')
    await waitFor('a got b\'s message', () => got.length > 0, 10_000)
    // gossip delivered it (sync is a minute away): the validator that stores gossip is installed again
    expect(got).toEqual(['gossip'])
  })

  it('a start that throws (a bad topic) rolls back: not running, libp2p port free, data dir lock released', async () => {
    const dataDir = tempDir()
    const port = await freePort()
    const bad = new GossipNode({ dataDir, listen: [`/ip4/127.0.0.1/tcp/${port}`], mdns: false, synchronous: 'NORMAL', topics: ['ok', 'bad topic'] })
    await expect(bad.start()).rejects.toThrow(/invalid topic name/)
    expect(bad.isRunning).toBe(false)
    expect(await canListen(port)).toBe(true)
    // the same data dir opens again in this process: the store was closed and its lock released
    const good = await startNode({ dataDir, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    nodes.push(good)
    expect(good.topics().map(t => t.topic)).toContain('ok')
    await bad.stop() // a no-op, and harmless
    expect(good.isRunning).toBe(true)
  })

  it('a second node on a data dir in use in this process is refused, and the message says it may be in this process', async () => {
    const dataDir = tempDir()
    const first = await startNode({ dataDir })
    nodes.push(first)
    const second = new GossipNode({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, synchronous: 'NORMAL' })
    // "another gossipd process" alone sends a library user (many nodes in one process) looking for a process that is not there
    await expect(second.start()).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED', message: expect.stringMatching(/another node in this process/) })
    expect(second.isRunning).toBe(false)
    await first.stop()
    // the lock went with the first node: the second starts on the same data dir at once, with its identity
    nodes.push(await second.start())
    expect(second.peerId).toBe(first.peerId)
  })

  it('start and stop are idempotent, also when called concurrently', async () => {
    const dataDir = tempDir()
    const node = new GossipNode({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, synchronous: 'NORMAL', topics: ['t'] })
    nodes.push(node)
    const [x, y] = await Promise.all([node.start(), node.start()])
    expect(x).toBe(node); expect(y).toBe(node)
    await node.publish('t', 'one')
    await Promise.all([node.stop(), node.stop()])
    expect(node.isRunning).toBe(false)
    // stop while starting, then start while stopping: ends running, one store open at a time
    const s1 = node.start(); const s2 = node.stop(); const s3 = node.start()
    await Promise.all([s1, s2, s3])
    expect(node.isRunning).toBe(true)
    expect(node.history('t')).toHaveLength(1)
    await node.stop(); await node.stop()
    expect(node.isRunning).toBe(false)
  })

  it('a throwing message listener does not leave the publish unsettled', async () => {
    const node = await startNode({ topics: ['t'] })
    nodes.push(node)
    let calls = 0
    node.on('message', () => { calls++; throw new Error('listener bug') })
    const r = await Promise.race([
      node.publish('t', 'x'),
      new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('publish never settled')), 3_000)),
    ])
    expect(r.seq).toBe(1)
    expect(calls).toBe(1)
    expect((await node.publish('t', 'y')).seq).toBe(2)
  })
})
