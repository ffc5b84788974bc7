// gossipd adjusts two libp2p internals for speed (src/core/stack/yamux-window.ts, src/core/stack/tcp-cork.ts). Both
// reach into classes the packages do not promise to keep: these checks fail loudly if an upgrade moves
// them, instead of the patches silently no longer applying.
import { describe, it, expect, afterEach } from 'vitest'
import { YamuxStream } from '@libp2p/yamux/stream'
import type { GossipNode } from '../src/core/node.js'
import { tcpCorkApplied } from '../src/core/stack/tcp-cork.js'
import { startNode, addrOf, waitFor, stopAll, collect, text } from './helpers.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

describe('libp2p stack patches', () => {
  it('the yamux half-window rule is installed on the stream class', () => {
    expect((YamuxStream.prototype as unknown as { __gossipdHalfWindow?: boolean }).__gossipdHalfWindow).toBe(true)
  })

  it('TCP writes are corked per loop iteration once a connection opens, and large and small messages still flow', async () => {
    const a = await startNode({ topics: ['t'] })
    const b = await startNode({ topics: ['t'], peers: [addrOf(a)] })
    nodes = [a, b]
    await waitFor('meshed', () => a.topics()[0].peers === 1 && b.topics()[0].peers === 1)
    expect(tcpCorkApplied()).toBe(true)
    const got = collect(b, 't')
    const big = 'x'.repeat(300_000)
    for (let i = 0; i < 200; i++) await a.publish('t', i === 100 ? big : `m${i}`)
    await waitFor('all 200', () => got.length === 200)
    expect(got.map(text).filter(t => t === big)).toHaveLength(1)
  })
})
