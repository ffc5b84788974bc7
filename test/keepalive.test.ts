// Connection liveness without libp2p's all-at-once connection monitor: each peer is pinged on its own
// jittered schedule; a healthy peer stays connected, one that stops answering pings is disconnected.
import { describe, it, expect, afterEach } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import type { GossipNode } from '../src/core/node.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { startNode, addrOf, waitFor, stopAll } from './helpers.js'

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

  it('disconnects a peer that stops answering pings', async () => {
    const a = await startNode({ keepAlive: fast })
    const b = await startNode({ keepAlive: { intervalMs: 60_000 } })
    nodes = [a, b]
    // b accepts ping streams but never answers, like a hung process whose socket stays open
    await b.libp2p.unhandle('/ipfs/ping/1.0.0')
    await b.libp2p.handle('/ipfs/ping/1.0.0', () => {})
    const left: string[] = []
    a.on('peer:leave', e => left.push(e.peer))
    await a.libp2p.dial(multiaddr(addrOf(b)))
    await waitFor('b disconnected after two failed pings', () => left.includes(b.peerId), 10_000)
  })
})
