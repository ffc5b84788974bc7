// Connection liveness without libp2p's all-at-once connection monitor: each peer is pinged on its own
// jittered schedule; a healthy peer stays connected, one that stops answering pings is disconnected.
import { describe, it, expect, afterEach } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import type { GossipNode } from '../src/core/node.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { startNode, addrOf, waitFor, stopAll } from './helpers.js'
import { startDaemon, cleanup, tmp } from './daemon-util.js'
import { join } from 'node:path'
import { afterAll } from 'vitest'

afterAll(async () => { await cleanup() })

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

const fast = { intervalMs: 150, timeoutMs: 200, failures: 2 }

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

  it('disconnects a peer whose process hangs (SIGSTOP) and so answers no pings', async () => {
    const d = await startDaemon(join(tmp(), 'data'))
    const a = await startNode({ keepAlive: fast })
    nodes = [a]
    const left: string[] = []
    a.on('peer:leave', e => left.push(e.peer))
    await a.libp2p.dial(multiaddr(d.addr))
    await waitFor('connected', () => a.peers().length === 1)
    d.proc.kill('SIGSTOP')
    try {
      await waitFor('the hung daemon disconnected after two failed pings', () => left.includes(d.peerId), 10_000)
    } finally {
      d.proc.kill('SIGCONT')
    }
  }, 30_000)
})
