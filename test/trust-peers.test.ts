// Build 2 of issue 10: peer allow/deny lists in libp2p's connection gater, replaceable while running (the
// daemon reloads them with its config file on SIGHUP). A denied peer gets nothing in and nothing out.
import { describe, it, expect, afterEach, afterAll } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { GossipNode } from '../src/core/node.js'
import { startNode, waitFor, addrOf, stopAll, collect, text } from './helpers.js'
import { startDaemon, cleanup, tmp } from './daemon-util.js'
import { GossipClient } from '../src/client/client.js'
import { PeerGate } from '../src/core/stack/gate.js'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, MultiaddrConnection } from '@libp2p/interface'

const nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })
afterAll(async () => { await cleanup() })

describe('peer allow and deny lists', () => {
  it('a denied peer cannot connect either way and exchanges nothing; denying a connected peer cuts it off', async () => {
    const good = await startNode({ topics: ['t'] })
    nodes.push(good)
    const bad = await startNode({ topics: ['t'] })
    nodes.push(bad)
    const hub = await startNode({ topics: ['t'], denyPeers: [bad.peerId], peers: [addrOf(good), addrOf(bad)] })
    nodes.push(hub)
    // the denied peer dials too (its side may see the connection open for a moment before the hub drops it)
    await bad.libp2p.dial(hub.libp2p.getMultiaddrs()[0]).catch(() => {})
    const atHub = collect(hub, 't')
    const atBad = collect(bad, 't')
    await waitFor('hub meshed with good', () => hub.topics()[0].peers === 1)
    await bad.publish('t', 'from bad')
    await hub.publish('t', 'from hub')
    await good.publish('t', 'from good')
    await waitFor('good reaches hub', () => atHub.some(m => text(m) === 'from good'))
    await new Promise(resolve => setTimeout(resolve, 2_000))
    expect(hub.peers().map(p => p.id)).toEqual([good.peerId])
    expect(atHub.map(text).sort()).toEqual(['from good', 'from hub'])
    expect(atBad.map(text)).toEqual(['from bad'])
    // its side may see a redial open for a moment before the hub drops it (peer-flap.test.ts bounds how often), never a mesh
    expect(bad.topics()[0].peers).toBe(0)

    // now deny good as well, while it is connected: it is cut off and stays out
    hub.setPeerAccess({ deny: [bad.peerId, good.peerId] })
    await waitFor('good disconnected', () => hub.peers().length === 0)
    await good.publish('t', 'after deny')
    await new Promise(resolve => setTimeout(resolve, 1_500))
    expect(hub.peers()).toEqual([])
    expect(atHub.map(text)).not.toContain('after deny')
  })

  it('caps live inbound connections per source IP (loopback exempt); bans expire', async () => {
    const gate = new PeerGate({}, 2)
    const conn = (addr: string): Connection => ({ direction: 'inbound', remoteAddr: multiaddr(addr) }) as unknown as Connection
    const incoming = (addr: string): MultiaddrConnection => Object.assign(new EventTarget(), { remoteAddr: multiaddr(addr), status: 'open' }) as unknown as MultiaddrConnection
    const live = [conn('/ip4/10.0.0.9/tcp/1'), conn('/ip4/10.0.0.9/tcp/2'), conn('/ip4/127.0.0.1/tcp/3'), conn('/ip4/127.0.0.1/tcp/4')]
    gate.connections = () => live
    const deny = gate.gater().denyInboundConnection!
    expect(await deny(incoming('/ip4/10.0.0.9/tcp/5'))).toBe(true)
    expect(await deny(incoming('/ip4/10.0.0.8/tcp/5'))).toBe(false)
    expect(await deny(incoming('/ip4/127.0.0.1/tcp/5'))).toBe(false)
    gate.ban('12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo', 50)
    expect(gate.denies('12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo')).toBe(true)
    await new Promise(resolve => setTimeout(resolve, 80))
    expect(gate.denies('12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo')).toBe(false)
  })

  it('an allowlist admits only the listed peers', async () => {
    const listed = await startNode({ topics: ['t'] })
    nodes.push(listed)
    const other = await startNode({ topics: ['t'] })
    nodes.push(other)
    const closed = await startNode({ topics: ['t'], allowPeers: [listed.peerId], peers: [addrOf(listed), addrOf(other)] })
    nodes.push(closed)
    await waitFor('listed connected', () => closed.peers().length === 1)
    await other.libp2p.dial(closed.libp2p.getMultiaddrs()[0]).catch(() => {})
    await waitFor('other dropped', () => other.peers().length === 0)
    await new Promise(resolve => setTimeout(resolve, 1_000))
    expect(closed.peers().map(p => p.id)).toEqual([listed.peerId])
    expect(other.peers()).toEqual([])
  })

  it('the daemon reloads denyPeers from its config file on SIGHUP and drops the peer', async () => {
    const dir = tmp()
    const configFile = join(dir, 'gossipd.json')
    writeFileSync(configFile, JSON.stringify({ denyPeers: [] }))
    const d = await startDaemon(join(dir, 'data'), ['--config', configFile, '--topic', 't'])
    const peer = await startNode({ topics: ['t'], peers: [d.addr] })
    nodes.push(peer)
    const client = new GossipClient({ url: d.url, token: d.token })
    await waitFor('connected', async () => (await client.peers()).length === 1)
    writeFileSync(configFile, JSON.stringify({ denyPeers: [peer.peerId] }))
    d.proc.kill('SIGHUP')
    await waitFor('peer dropped', async () => (await client.peers()).length === 0)
    await new Promise(resolve => setTimeout(resolve, 1_500))
    expect(await client.peers()).toEqual([])
    expect(d.stderr() + d.stdout()).toContain('configuration reloaded')
    // a config that no longer validates is refused and the running lists stay
    writeFileSync(configFile, JSON.stringify({ denyPeers: ['not-a-peer-id'] }))
    d.proc.kill('SIGHUP')
    await waitFor('refused reload logged', () => (d.stderr() + d.stdout()).includes('configuration not reloaded'))
    expect(d.proc.exitCode).toBeNull()
  })
})
