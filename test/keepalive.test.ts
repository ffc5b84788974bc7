// Connection liveness without libp2p's all-at-once connection monitor: one sweep pings the connections that
// need it; a healthy peer stays connected, one that stops answering pings is disconnected. `fast` pings
// quiet connections at the short interval too (idleIntervalMs), as keep-alive did before idle connections
// were left to the kernel's TCP keep-alive; `lazy` is the daemon's split, scaled down.
import { describe, it, expect, afterEach } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import type { GossipNode } from '../src/core/node.js'
import type { Connection } from '@libp2p/interface'
import { setTimeout as sleep } from 'node:timers/promises'
import { startNode, addrOf, waitFor, stopAll } from './helpers.js'
import { startDaemon, cleanup, tmp, type Daemon } from './daemon-util.js'
import { join } from 'node:path'
import { afterAll } from 'vitest'

afterAll(async () => { await cleanup() })

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

const fast = { intervalMs: 150, idleIntervalMs: 150, timeoutMs: 200, failures: 2 }
const lazy = { intervalMs: 150, idleIntervalMs: 60_000, timeoutMs: 200, failures: 2 }

/** call onPing each time keep-alive starts a yamux ping on this connection (internal muxer, versions pinned) */
function watchPings (conn: Connection, onPing: () => void): void {
  const muxer = (conn as unknown as { muxer: { ping: (...args: unknown[]) => Promise<number> } }).muxer
  const ping = muxer.ping
  muxer.ping = function (this: unknown, ...args: unknown[]) { onPing(); return ping.apply(this, args) }
}

/** count the yamux pings a node starts on its connection to its one peer */
function countPings (node: GossipNode): () => number {
  let n = 0
  watchPings(node.libp2p.getConnections()[0], () => { n++ })
  return () => n
}

/** SIGSTOP the daemon and wait until `node` drops it: a hung process answers no pings */
async function expectHungPeerDropped (node: GossipNode, d: Daemon): Promise<void> {
  const left: string[] = []
  node.on('peer:leave', e => left.push(e.peer))
  d.proc.kill('SIGSTOP')
  try {
    await waitFor('the hung daemon disconnected', () => left.includes(d.peerId), 10_000)
  } finally {
    d.proc.kill('SIGCONT')
  }
}

describe('keep-alive', () => {
  it('keeps answering peers connected while pinging them', async () => {
    const a = await startNode({ keepAlive: fast })
    const b = await startNode({ keepAlive: fast, peers: [addrOf(a)] })
    nodes = [a, b]
    await waitFor('connected', () => a.peers().length === 1)
    // b redials a static peer at once, so a dropped connection would not show in peers(): watch the events
    const left: string[] = []
    a.on('peer:leave', e => left.push(e.peer))
    b.on('peer:leave', e => left.push(e.peer))
    await sleep(1500) // about ten ping rounds each way
    expect(left).toEqual([])
    expect(a.peers().map(p => p.id)).toEqual([b.peerId])
  })

  it('pings with yamux ping frames, not a stream per ping (the idle cost of a connection)', async () => {
    const a = await startNode({ keepAlive: fast })
    const b = await startNode({ keepAlive: { intervalMs: 60_000 } })
    nodes = [a, b]
    // count b's ping-protocol streams, still answering them
    let streams = 0
    await b.libp2p.unhandle('/ipfs/ping/1.0.0')
    await b.libp2p.handle('/ipfs/ping/1.0.0', async (stream) => {
      streams++
      for await (const buf of stream) stream.send(buf)
      await stream.close()
    })
    await a.libp2p.dial(multiaddr(addrOf(b)))
    await sleep(1500) // about ten ping rounds
    expect(streams).toBe(0)
    expect(a.peers().map(p => p.id)).toEqual([b.peerId])
    expect(a.peers()[0].rtt).toBeTypeOf('number')
  })

  it('an idle connection is pinged by its dialer only; the listener hears those pings', async () => {
    const a = await startNode({ keepAlive: fast })
    const b = await startNode({ keepAlive: fast, peers: [addrOf(a)] }) // b dials a
    nodes = [a, b]
    await waitFor('connected', () => a.peers().length === 1 && b.peers().length === 1)
    const [byA, byB] = [countPings(a), countPings(b)]
    await sleep(1500) // ten intervals
    expect(byB()).toBeGreaterThanOrEqual(3)
    expect(byA()).toBeLessThanOrEqual(1)
    expect(a.peers().map(p => p.id)).toEqual([b.peerId])
  })

  it('one sweep pings all quiet peers together (per-peer timers woke the process once per peer)', async () => {
    const peers = [await startNode({ keepAlive: { intervalMs: 60_000 } }), await startNode({ keepAlive: { intervalMs: 60_000 } }), await startNode({ keepAlive: { intervalMs: 60_000 } })]
    const a = await startNode({ keepAlive: fast, peers: peers.map(addrOf) }) // a dials all three
    nodes = [...peers, a]
    await waitFor('a connected to all three', () => a.peers().length === 3)
    // pings started in the same synchronous run (one timer callback) share a wake-up; a clock gap would
    // split one sweep whenever the OS preempts the process mid-loop on a loaded machine
    let pings = 0
    let wakeUps = 0
    let inRun = false
    for (const conn of a.libp2p.getConnections()) {
      watchPings(conn, () => {
        pings++
        if (!inRun) { wakeUps++; inRun = true; queueMicrotask(() => { inRun = false }) }
      })
    }
    await sleep(1500)
    expect(pings).toBeGreaterThanOrEqual(9)
    expect(wakeUps).toBeLessThanOrEqual(Math.ceil(pings / 2))
  })

  it('a connection that carries traffic is not pinged by the side receiving it', async () => {
    const a = await startNode({ keepAlive: fast, topics: ['t'] })
    const b = await startNode({ keepAlive: fast, topics: ['t'], peers: [addrOf(a)] }) // b dials a, a publishes
    nodes = [a, b]
    await waitFor('b in a\'s topic mesh', () => a.peers().some(p => p.topics.includes('t')))
    const byB = countPings(b)
    const got: number[] = []
    b.on('message', m => got.push(m.seq))
    for (let i = 0; i < 40; i++) { await a.publish('t', new Uint8Array([i])); await sleep(40) }
    expect(got.length).toBeGreaterThan(30)
    expect(byB()).toBeLessThanOrEqual(1)
  })

  it('disconnects a hung peer that dialed us (the listening side pings after three quiet intervals)', async () => {
    const a = await startNode({ keepAlive: fast })
    nodes = [a]
    const d = await startDaemon(join(tmp(), 'data-dialer'), ['--peer', addrOf(a)])
    await waitFor('the daemon dialed us', () => a.peers().length === 1)
    expect(a.libp2p.getConnections()[0].direction).toBe('inbound')
    await expectHungPeerDropped(a, d)
  }, 40_000)

  it('disconnects a peer whose process hangs (SIGSTOP) and so answers no pings', async () => {
    const d = await startDaemon(join(tmp(), 'data'))
    const a = await startNode({ keepAlive: fast })
    nodes = [a]
    await a.libp2p.dial(multiaddr(d.addr))
    await waitFor('connected', () => a.peers().length === 1)
    await expectHungPeerDropped(a, d)
  }, 30_000)

  it('a connection quiet both ways is not pinged before the idle interval (the kernel\'s TCP keep-alive watches it)', async () => {
    const a = await startNode({ keepAlive: lazy })
    const b = await startNode({ keepAlive: lazy, peers: [addrOf(a)] })
    nodes = [a, b]
    await waitFor('connected', () => a.peers().length === 1 && b.peers().length === 1)
    await sleep(500) // identify and the first sync pull answered
    const [byA, byB] = [countPings(a), countPings(b)]
    await sleep(1500) // ten short intervals
    expect(byA() + byB()).toBe(0)
    expect(a.peers().map(p => p.id)).toEqual([b.peerId])
  })

  it('a connection whose data goes unanswered is pinged at the short interval, by the side that sent it', async () => {
    const a = await startNode({ keepAlive: lazy, topics: ['t'] })
    const b = await startNode({ keepAlive: lazy, topics: ['t'], peers: [addrOf(a)] }) // b dials a, a publishes
    nodes = [a, b]
    await waitFor('b in a\'s topic mesh', () => a.peers().some(p => p.topics.includes('t')))
    const [byA, byB] = [countPings(a), countPings(b)]
    const got: number[] = []
    b.on('message', m => got.push(m.seq))
    // publish until a has pinged three times (or 150 messages, ~6 s at least: an idle connection would not be
    // pinged for 60 s); a fixed 40 fell short once in CI, where a loaded runner stretched the sweeps
    let sent = 0
    for (; sent < 150 && (sent < 40 || byA() < 3); sent++) { await a.publish('t', new Uint8Array([sent % 256])); await sleep(40) }
    await waitFor('b got most of them', () => got.length > sent * 0.75)
    expect(byA()).toBeGreaterThanOrEqual(3)
    expect(byB()).toBeLessThanOrEqual(1)
  })

  it('disconnects a hung peer that data is waiting on, long before the idle interval', async () => {
    const d = await startDaemon(join(tmp(), 'data-hung-topic'), ['--topic', 't'])
    const a = await startNode({ keepAlive: lazy, topics: ['t'] })
    nodes = [a]
    await a.libp2p.dial(multiaddr(d.addr))
    await waitFor('the daemon in a\'s topic mesh', () => a.peers().some(p => p.topics.includes('t')), 10_000)
    const left: string[] = []
    a.on('peer:leave', e => left.push(e.peer))
    d.proc.kill('SIGSTOP')
    try {
      for (let i = 0; i < 200 && !left.includes(d.peerId); i++) { await a.publish('t', new Uint8Array([i])); await sleep(50) }
      expect(left).toContain(d.peerId)
    } finally {
      d.proc.kill('SIGCONT')
    }
  }, 40_000)
})
