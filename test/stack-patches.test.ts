// gossipd adjusts libp2p internals for speed and flow control (src/core/stack/yamux-window.ts, tcp-cork.ts,
// noise-length.ts, outbox.ts). They reach into classes the packages do not promise to keep, so these tests check what each
// adjustment does on real connections (frames, socket writes, buffered bytes), not that a flag is set:
// if an upgrade moves an internal, the patch stops working and its test fails.
import { describe, it, expect, afterEach } from 'vitest'
import { YamuxStream } from '@libp2p/yamux/stream'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, Stream } from '@libp2p/interface'
import type { SwarmHost, SwarmOptions } from '../src/core/stack/libp2p.js'
import type { GossipNode } from '../src/core/node.js'

// Taken before any gossipd module is evaluated: gossipd modules are imported below, dynamically, so this
// snapshot is what stock @libp2p/yamux looks like.
const pristine = new Map(Reflect.ownKeys(YamuxStream.prototype).map(k => [k, Object.getOwnPropertyDescriptor(YamuxStream.prototype, k)]))

const { createSwarm, createBaselineSwarm } = await import('../src/core/stack/libp2p.js')
const { quietUint16BE } = await import('../src/core/stack/noise-length.js')
const { startNode, addrOf, waitFor, stopAll, collect } = await import('./helpers.js')

const SINK = '/gossipd-test/sink/1.0.0'
const WINDOW_UPDATE = 1 // yamux frame type 0x1 (spec)

const hosts: SwarmHost[] = []
let nodes: GossipNode[] = []
afterEach(async () => {
  await Promise.allSettled(hosts.splice(0).map(async h => await h.stop()))
  await stopAll(nodes.splice(0))
})

type MakeSwarm = (opts: { privateKey: SwarmOptions['privateKey'], listen: string[] }) => Promise<SwarmHost>

/** Two hosts made by `make`, a dialling b over loopback on a protocol whose handler only counts bytes. */
async function sinkPair (make: MakeSwarm, onStream: (s: Stream) => void = () => {}): Promise<{ a: SwarmHost, b: SwarmHost, stream: Stream, received: () => number }> {
  const listen = ['/ip4/127.0.0.1/tcp/0']
  const a = await make({ privateKey: await generateKeyPair('Ed25519'), listen })
  const b = await make({ privateKey: await generateKeyPair('Ed25519'), listen })
  hosts.push(a, b)
  let received = 0
  await b.handle(SINK, stream => {
    onStream(stream)
    stream.addEventListener('message', evt => { received += evt.data.byteLength })
  })
  const stream = await a.dialProtocol(b.getMultiaddrs()[0], SINK)
  return { a, b, stream, received: () => received }
}

/** The net.Socket under a libp2p TCP connection (a private field of @libp2p/tcp's connection class). */
function socketOf (conn: Connection): import('node:net').Socket {
  return (conn as unknown as { maConn: { socket: import('node:net').Socket } }).maConn.socket
}

const turn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('yamux half-window rule (yamux-window.ts)', () => {
  /** Send n messages, one per loop turn as gossip arrives, and count the receiver's window-update frames. */
  async function windowUpdates (make: MakeSwarm, n: number, size: number): Promise<number> {
    let updates = 0
    const { stream, received } = await sinkPair(make, s => {
      const frames = s as unknown as { sendFrame: (header: { type: number }, body?: unknown) => boolean }
      const send = frames.sendFrame
      frames.sendFrame = (header, body) => {
        if (header.type === WINDOW_UPDATE) updates++
        return send(header, body)
      }
    })
    const chunk = new Uint8Array(size).fill(7)
    for (let i = 0; i < n; i++) {
      if (!stream.send(chunk)) await stream.onDrain()
      await turn()
    }
    await waitFor('every byte received', () => received() === n * size)
    return updates
  }

  it('a createSwarm pair sends far fewer window updates than a stock (baseline) pair, and still delivers everything', async () => {
    const n = 300
    const patched = await windowUpdates(async o => await createSwarm({ ...o, mdns: false, gossip: {} }), n, 2048)
    const stock = await windowUpdates(createBaselineSwarm, n, 2048)
    // stock yamux grants window after every data frame it reads
    expect(stock).toBeGreaterThanOrEqual(n / 2)
    // 600 KiB through a 256 KiB window: a handful of half-window grants
    expect(patched).toBeGreaterThan(0)
    expect(patched).toBeLessThan(stock / 10)
  })
})

describe('TCP write corking (tcp-cork.ts)', () => {
  /** Socket write calls (and chunks) for `n` sends made in one event-loop turn on an idle connection. */
  async function writesForBurst (corkTcp: boolean, n: number): Promise<{ calls: number, chunks: number }> {
    const { a, b, stream, received } = await sinkPair(async o => await createSwarm({ ...o, mdns: false, gossip: {}, corkTcp }))
    const small = new Uint8Array(100).fill(1)
    stream.send(small)
    await waitFor('stream open', () => received() === small.byteLength)
    const socket = socketOf(a.getConnections(b.peerId)[0]) as unknown as {
      _write: (chunk: unknown, enc: unknown, cb: unknown) => void
      _writev: (chunks: unknown[], cb: unknown) => void
    }
    let calls = 0
    let chunks = 0
    const write = socket._write
    const writev = socket._writev
    socket._write = function (chunk, enc, cb) { calls++; chunks++; write.call(this, chunk, enc, cb) }
    socket._writev = function (list, cb) { calls++; chunks += list.length; writev.call(this, list, cb) }
    for (let i = 0; i < n; i++) stream.send(small)
    // corked writes are released in the check phase of this turn
    await turn()
    await turn()
    socket._write = write
    socket._writev = writev
    await waitFor('burst received', () => received() === (n + 1) * small.byteLength)
    return { calls, chunks }
  }

  it('with cork on, many sends in one loop turn reach the socket as one writev; with cork off, as many writes', async () => {
    const n = 50
    const corked = await writesForBurst(true, n)
    const uncorked = await writesForBurst(false, n)
    expect(corked.calls).toBe(1)
    expect(corked.chunks).toBeGreaterThanOrEqual(n)
    expect(uncorked.calls).toBeGreaterThanOrEqual(n / 2)
  })
})

describe('Noise frame lengths without exceptions (noise-length.ts)', () => {
  /** RangeErrors made while `run` runs: every caller resolves the global RangeError when it throws */
  async function rangeErrorsDuring (run: () => Promise<void>): Promise<number> {
    const Real = globalThis.RangeError
    let made = 0
    const Counting = function (...args: unknown[]) { made++; return Reflect.construct(Real, args, new.target ?? Real) }
    // instanceof RangeError (the decoder's catch) must still hold for what it makes
    Counting.prototype = Real.prototype
    globalThis.RangeError = Counting as unknown as RangeErrorConstructor
    try { await run() } finally { globalThis.RangeError = Real }
    return made
  }

  /** RangeErrors while `n` messages cross an established connection made by `make`, one per loop turn */
  async function errorsForMessages (make: MakeSwarm, n: number): Promise<number> {
    const { stream, received } = await sinkPair(make)
    const chunk = new Uint8Array(512).fill(3)
    stream.send(chunk)
    await waitFor('stream open', () => received() === chunk.byteLength)
    return await rangeErrorsDuring(async () => {
      for (let i = 0; i < n; i++) { stream.send(chunk); await turn() }
      await waitFor('every byte received', () => received() === (n + 1) * chunk.byteLength)
    })
  }

  it('a createSwarm pair reads its Noise frames without the RangeError a stock pair makes at each frame boundary', async () => {
    const n = 200
    const stock = await errorsForMessages(createBaselineSwarm, n)
    const patched = await errorsForMessages(async o => await createSwarm({ ...o, mdns: false, gossip: {} }), n)
    // the counter works: stock Noise throws (and catches) one per read that ends on a frame boundary
    expect(stock).toBeGreaterThanOrEqual(n)
    expect(patched).toBe(0)
  })

  it('splits any byte stream into the same frames as Noise\'s own length decoder', () => {
    const stockLength = (data: Uint8ArrayList | Uint8Array): number => {
      if (data.byteLength < 2) throw new RangeError('Could not decode int16BE')
      return data instanceof Uint8Array ? (data[0] << 8) | data[1] : data.getUint16(0)
    }
    let seed = 7
    const rand = (k: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % k }
    for (let round = 0; round < 30; round++) {
      // frames of 0 to 70,000 bytes (a 2-byte length says at most 65,535: longer ones are cut by it)
      const frames: Uint8Array[] = []
      for (let i = 0; i < 40; i++) {
        const len = [0, 1, 2, 255, 256, 65_535][rand(6)] ?? 0
        const body = new Uint8Array(rand(3) === 0 ? len : rand(300)).map(() => rand(256))
        frames.push(new Uint8Array([body.byteLength >> 8, body.byteLength & 0xff]), body)
      }
      const wire = Buffer.concat(frames)
      const decode = (lengthDecoder: (d: Uint8ArrayList | Uint8Array) => number): string[] => {
        const d = new LengthPrefixedDecoder({ lengthDecoder, encodingLength: () => 2, maxBufferSize: 16 * 1024 * 1024 })
        const out: string[] = []
        seed = 1000 + round
        for (let at = 0; at < wire.byteLength;) {
          // chunks of 1-3 bytes, or up to 70,000: reads end inside lengths, inside bodies and on boundaries
          const size = rand(2) === 0 ? 1 + rand(3) : 1 + rand(70_000)
          for (const f of d.decode(wire.subarray(at, at + size))) out.push(Buffer.from(f.subarray()).toString('base64'))
          at += size
        }
        return out
      }
      const expected = decode(stockLength)
      expect(expected.length).toBeGreaterThan(0)
      expect(decode(quietUint16BE)).toEqual(expected)
    }
  })
})

describe('gossip outbox (outbox.ts)', () => {
  it("holds gossip when a peer stops reading: gossipsub's outbound buffer fills, the queue stays at its limit, the rest is skipped, and sync delivers it all later", async () => {
    const maxQueued = 50
    const a = await startNode({ topics: ['t'], gossipQueue: { maxQueued, maxBufferedBytes: 64 * 1024 } })
    const b = await startNode({ topics: ['t'], peers: [addrOf(a)] })
    nodes = [a, b]
    await waitFor('meshed', () => a.topics()[0].peers === 1 && b.topics()[0].peers === 1)
    const got = collect(b, 't')
    // b stops reading its TCP socket: a's yamux send window runs out and gossipsub's stream buffer grows
    const sockets = b.libp2p.getConnections(a.libp2p.peerId).map(socketOf)
    for (const s of sockets) s.pause()

    const n = 2_000
    const payload = new Uint8Array(1024).fill(0x61)
    let next = 0
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (next < n) { next++; await a.publish('t', payload) }
    }))
    // without the buffer reading, the queue would drain to 0 (gossipsub accepts or refuses at once)
    await new Promise(resolve => setTimeout(resolve, 500))
    const held = a.status()
    expect(held.gossipQueued).toBe(maxQueued)
    expect(held.gossipSkipped).toBeGreaterThan(0)

    for (const s of sockets) s.resume()
    await waitFor(`b has all ${n}`, () => got.length === n, 60_000)
  })
})

describe('no global patches', () => {
  it('importing gossipd (src/index.ts) and running a node leave YamuxStream.prototype untouched', async () => {
    await import('../src/index.js')
    const a = await startNode({ topics: ['t'] })
    const b = await startNode({ topics: ['t'], peers: [addrOf(a)] })
    nodes = [a, b]
    await waitFor('meshed', () => a.topics()[0].peers === 1 && b.topics()[0].peers === 1)
    const now = YamuxStream.prototype as unknown as Record<PropertyKey, unknown>
    expect(Reflect.ownKeys(now)).toEqual([...pristine.keys()])
    for (const [k, d] of pristine) expect(Object.getOwnPropertyDescriptor(now, k)).toEqual(d)
  })
})
