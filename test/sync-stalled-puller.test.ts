// A sync puller that opens its 8 sync streams, sends requests and never reads the answers (it pauses its
// streams: no yamux window updates) must not pin much at the server. The server used to write each batch
// as soon as any 'drain' event came (libp2p fires those on every stream of a connection whose socket
// drained), so each stream held up to 3 unacked batches unsent: 23 MB for one connection's 8 streams, for
// 30 s. It now writes a batch only once the previous one has left the stream's send buffer.
import { it, expect, afterEach } from 'vitest'
import { setTimeout as sleep } from 'node:timers/promises'
import { Encoder } from 'cbor-x'
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import type { GossipNode } from '../src/core/node.js'
import { startNode, addrOf, waitFor, stopAll } from './helpers.js'

let nodes: GossipNode[] = []
afterEach(async () => { await stopAll(nodes.splice(0)) })

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const STREAMS = 8
const BATCH_BYTES = 1024 * 1024

/** bytes `a` holds unsent in its sync streams to `peer`, per stream */
function unsentFor (a: GossipNode, peer: string): number[] {
  const out: number[] = []
  for (const c of a.libp2p.getConnections()) {
    if (c.remotePeer.toString() !== peer) continue
    for (const s of c.streams) if (s.protocol?.startsWith('/gossipd/sync/') === true) out.push(s.writeBufferLength)
  }
  return out
}

it('a puller that pauses its 8 sync streams pins at most about one batch per stream at the server', async () => {
  const a = await startNode({ topics: ['t'], syncIntervalMs: 600_000 })
  nodes = [a]
  // ~6 MiB held: more than the 3 unacked batches (and the one after) each stream was allowed to queue
  const payload = new Uint8Array(1024).fill(0x61)
  for (let i = 0; i < 6; i++) await Promise.all(Array.from({ length: 1_000 }, async () => await a.publish('t', payload)))
  // the puller subscribes to nothing: its own scheduler pulls nothing, so the 8 streams are all ours
  const h = await startNode({ topics: [], peers: [addrOf(a)], syncIntervalMs: 600_000 })
  nodes.push(h)
  await waitFor('h connected to a', () => h.libp2p.getConnections(a.libp2p.peerId).length > 0)

  const request = cbor.encode({ want: [{ topic: 't', origins: [] }] })
  const streams: Stream[] = []
  for (let i = 0; i < STREAMS; i++) {
    const stream = await h.libp2p.dialProtocol(a.libp2p.peerId, '/gossipd/sync/1.1.0')
    // never read: no window updates, the server's writes back up at its end
    stream.pause()
    await lpStream(stream).write(request)
    streams.push(stream)
  }

  const hid = h.libp2p.peerId.toString()
  let most = 0
  let mostPerStream = 0
  const started = Date.now()
  // well within the server's 30 s write timeout: the bytes it holds meanwhile
  while (Date.now() - started < 4_000) {
    const per = unsentFor(a, hid)
    most = Math.max(most, per.reduce((x, y) => x + y, 0))
    mostPerStream = Math.max(mostPerStream, ...per)
    await sleep(20)
  }
  expect(unsentFor(a, hid).length).toBe(STREAMS)
  // about one batch beyond what the transport holds (yamux's 256 KiB window), per stream
  expect(most).toBeLessThan(STREAMS * 1.3 * 1_000_000)
  expect(mostPerStream).toBeLessThan(BATCH_BYTES + 64 * 1024)
  for (const s of streams) s.abort(new Error('test done'))
}, 60_000)
