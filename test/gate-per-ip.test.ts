// The cap on inbound connections per source IP (gate.ts) must hold for connections still in their
// handshake too: one device dialling 16 at once, or holding 50 raw sockets that never speak (a tarpit),
// all passed a cap that counted only established connections (13 connections from one IP under a cap of
// 8; 50 silent sockets kept every inbound connection out, libp2p's 50 pending slots, for as long as the
// device liked: /work/wt-conn/probe/q1lan.probe.ts and q2.probe.ts in a network namespace).
import { it, expect } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import type { MultiaddrConnection } from '@libp2p/interface'
import { PeerGate } from '../src/core/stack/gate.js'

/** a raw inbound socket from `ip`, still in its handshake (no connection yet), that can be closed */
function socketFrom (ip: string): MultiaddrConnection & { hangUp: () => void } {
  const events = new EventTarget()
  const maConn = Object.assign(events, {
    remoteAddr: multiaddr(`/ip4/${ip}/tcp/40000`),
    status: 'open',
    hangUp: () => { maConn.status = 'closed'; events.dispatchEvent(new Event('close')) },
  })
  return maConn as unknown as MultiaddrConnection & { hangUp: () => void }
}

it('caps sockets per IP while their handshakes run, and frees a slot when one closes', async () => {
  const gate = new PeerGate({}, 8)
  const deny = gate.gater().denyInboundConnection!
  const socks = Array.from({ length: 12 }, () => socketFrom('10.9.0.2'))
  const denied = await Promise.all(socks.map(async s => await deny(s)))
  expect(denied.filter(d => d).length).toBe(4)
  // another device is not held up by this one
  expect(await deny(socketFrom('10.9.0.3'))).toBe(false)
  // loopback is this machine's own processes: never capped
  for (let i = 0; i < 20; i++) expect(await deny(socketFrom('127.0.0.1'))).toBe(false)
  socks[0].hangUp()
  expect(await deny(socketFrom('10.9.0.2'))).toBe(false)
  expect(await deny(socketFrom('10.9.0.2'))).toBe(true)
})
