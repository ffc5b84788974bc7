// Build 1 of issue 10: a private swarm. Nodes with one swarm key connect and exchange; a node with another
// key, or none, cannot complete a connection to them, so nothing goes in or out.
import { describe, it, expect, afterEach } from 'vitest'
import type { GossipNode } from '../src/core/node.js'
import { newSwarmKey, parseSwarmKey } from '../src/wire/swarm-key.js'
import { swarmMdnsTag } from '../src/core/stack/swarm-key.js'
import { startNode, waitFor, addrOf, stopAll, collect, text } from './helpers.js'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

describe('private swarm (swarm key)', () => {
  it('key files: generated keys parse, broken ones are refused; mDNS tags differ per key', () => {
    const a = parseSwarmKey(newSwarmKey())
    const b = parseSwarmKey(newSwarmKey())
    expect(a.byteLength).toBe(95)
    expect(() => parseSwarmKey('hello')).toThrow(/swarm key/)
    expect(() => parseSwarmKey('/key/swarm/psk/1.0.0/\n/base16/\nabcd\n')).toThrow(/64 hex/)
    expect(swarmMdnsTag(a)).not.toBe(swarmMdnsTag(b))
    expect(swarmMdnsTag(a)).toBe(swarmMdnsTag(parseSwarmKey(new TextDecoder().decode(a))))
    expect(swarmMdnsTag(a)).not.toContain(Buffer.from(a).toString('hex').slice(0, 8))
  })

  it('two swarms and a keyless node on one host: no cross connection, no cross traffic', async () => {
    const keyA = parseSwarmKey(newSwarmKey())
    const keyB = parseSwarmKey(newSwarmKey())
    const a1 = await startNode({ topics: ['t'], swarmKey: keyA })
    nodes.push(a1)
    const b1 = await startNode({ topics: ['t'], swarmKey: keyB, peers: [addrOf(a1)] })
    nodes.push(b1)
    const open = await startNode({ topics: ['t'], peers: [addrOf(a1), addrOf(b1)] })
    nodes.push(open)
    const a2 = await startNode({ topics: ['t'], swarmKey: keyA, peers: [addrOf(a1), addrOf(b1)] })
    nodes.push(a2)
    const gotA2 = collect(a2, 't')
    const gotB1 = collect(b1, 't')
    const gotOpen = collect(open, 't')
    await waitFor('a1 and a2 meshed', () => a1.topics()[0].peers === 1 && a2.topics()[0].peers === 1)
    await a1.publish('t', 'swarm A')
    await b1.publish('t', 'swarm B')
    await open.publish('t', 'no key')
    await waitFor('a2 has a1', () => gotA2.some(m => text(m) === 'swarm A'))
    // several redial rounds and sync periods
    await new Promise(resolve => setTimeout(resolve, 3_000))
    expect(a1.peers().map(p => p.id)).toEqual([a2.peerId])
    expect(a2.peers().map(p => p.id)).toEqual([a1.peerId])
    expect(b1.peers()).toEqual([])
    expect(open.peers()).toEqual([])
    expect(gotA2.map(text)).toEqual(['swarm A'])
    expect(gotB1.map(text)).toEqual(['swarm B'])
    expect(gotOpen.map(text)).toEqual(['no key'])
    expect(a1.history('t').map(text)).toEqual(['swarm A'])
  })
})
