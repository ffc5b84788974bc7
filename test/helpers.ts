// Shared helpers for in-process multi-peer tests: nodes on 127.0.0.1, mDNS off unless asked.
import { mkdtempSync, rmSync, fsync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { describe, it } from 'vitest'
import { isRoot } from '../src/lan/isolation.js'
import { GossipNode, type NodeOptions, type NodeParts } from '../src/core/node.js'
import { encodeEnvelope, envelopeCodec } from '../src/core/envelope.js'
import { Store } from '../src/store/store.js'
import Database from 'better-sqlite3'
import type { NewMessage, StoredMessage } from '../src/store/store.js'
import { lpStream } from '@libp2p/utils'
import type { AbortOptions, Stream } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { SyncScheduler } from '../src/core/sync/scheduler.js'
import type { PullLimits } from '../src/core/sync/protocol.js'
import type { NodeHost } from '../src/core/host.js'
import type { FsyncFn } from '../src/store/wal.js'

const dirs: string[] = []

export function tempDir (prefix = 'gossipd-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(d)
  return d
}

export function removeTempDirs (): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** Stop every node a test started (even if one fails to stop) and remove the test's temp dirs. */
export async function stopAll (nodes: Array<GossipNode | undefined>): Promise<void> {
  await Promise.allSettled(nodes.map(async n => await n?.stop()))
  removeTempDirs()
}

export async function startNode (opts: Partial<NodeOptions> = {}, parts: NodeParts = {}): Promise<GossipNode> {
  const node = new GossipNode({
    dataDir: opts.dataDir ?? tempDir(),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
    syncIntervalMs: 1_000,
    gapTimeoutMs: 3_000,
    synchronous: 'NORMAL',
    ...opts,
  }, parts)
  return await node.start()
}

/** Poll until `check` returns true; fail with `what` after timeoutMs. */
export async function waitFor (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

/** Collect every message a consumer delivers. */
export function collect (node: GossipNode, topic: string, opts: Parameters<GossipNode['consume']>[1] = { from: 'beginning' }): StoredMessage[] {
  const got: StoredMessage[] = []
  node.consume(topic, opts).on('message', m => got.push(m)).start()
  return got
}

export function text (m: StoredMessage): string {
  return new TextDecoder().decode(m.payload)
}

/**
 * A row for Store.insert with a real envelope around it (the store reads payloads back from envelopes);
 * the signature is zeros, as the store never checks it.
 */
/** the error a disk's failed writeback gives fsync */
export const eio = (): NodeJS.ErrnoException => Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })

/** a store's fsync that fails the next `failures` calls (with EIO, on a later tick), then does real ones */
export function failingFsync (failures: number): FsyncFn {
  return (fd, cb) => {
    if (failures > 0) { failures--; setImmediate(() => cb(eio())); return }
    fsync(fd, cb)
  }
}

export function storeRow (topic: string, origin: string, seq: number, body = `m${seq}`, ts = Date.now()): NewMessage {
  const payload = new TextEncoder().encode(body)
  return { topic, origin, seq, ts, payload, raw: encodeEnvelope({ origin, topic, seq, ts, payload, sig: new Uint8Array(64) }) }
}

/** A node's address that others can dial (loopback, with /p2p/). */
export function addrOf (node: GossipNode): string {
  const a = node.addresses.find(x => x.includes('/127.0.0.1/'))
  if (a == null) throw new Error('node has no loopback address')
  return a
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for nodes that must keep their address across restarts). */
export async function freePort (): Promise<number> {
  const { createServer } = await import('node:net')
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

/**
 * describe() for tests that need root (namespaces, tmpfs mounts). Without root it prints one loud SKIPPED
 * line and registers a visibly skipped test, so a skip never passes for a pass; CI runs as root.
 */
export function describeAsRoot (name: string, needs: string, body: () => void): void {
  describe(name, () => {
    if (!isRoot()) {
      console.warn(`\n*** SKIPPED ${name}: needs root to ${needs}. CI runs it as root. ***\n`)
      it.skip(`SKIPPED: not root, cannot ${needs}`, () => {})
      return
    }
    body()
  })
}

/** Mount a fresh tmpfs of `size` (e.g. '2m') in a temp dir, run `fn` on it, and unmount it whatever happens. */
export async function withTmpfs<T> (size: string, fn: (mnt: string) => T | Promise<T>): Promise<T> {
  const mnt = tempDir('gossipd-tmpfs-')
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt])
  try {
    return await fn(mnt)
  } finally {
    execFileSync('umount', ['-l', mnt])
  }
}

/**
 * A data dir holding seqs 1-3 of origin 'o' on topic 't', with the stored bytes of seq 2 replaced by `bad`
 * (a row no codec can decode, as a damaged disk would leave it). Returns the dir; the store is closed.
 */
export async function dataDirWithBadRow (bad: Uint8Array): Promise<string> {
  const dir = tempDir()
  const s = new Store(dir, { codec: envelopeCodec })
  s.addTopic('t')
  for (let i = 1; i <= 3; i++) await s.insert(storeRow('t', 'o', i))
  s.close()
  const db = new Database(join(dir, 'queue.sqlite'))
  db.prepare('UPDATE messages SET raw = ? WHERE seq = 2').run(bad)
  db.close()
  return dir
}

/** a length-prefixed sync stream, as a test server reads and writes frames on it */
export type SyncFrames = ReturnType<typeof lpStream>

/**
 * Make `node` a sync server of the test's own: it stops answering 1.2.0 (pullers then fall back) and answers
 * every 1.1.0 and 1.0.0 pull with `session`, which reads the request itself. The protocol ids are spelled
 * out so the tests also run against older code. A session that throws (the puller went away) aborts its stream.
 */
export async function serveSyncWith (node: GossipNode, session: (s: SyncFrames, stream: Stream) => Promise<void>, opts: { maxDataLength?: number } = {}): Promise<void> {
  const host = node.libp2p
  for (const id of ['/gossipd/sync/1.2.0', '/gossipd/sync/1.1.0', '/gossipd/sync/1.0.0']) await host.unhandle(id).catch(() => {})
  for (const id of ['/gossipd/sync/1.1.0', '/gossipd/sync/1.0.0']) {
    await host.handle(id, (stream: Stream) => {
      void session(lpStream(stream, opts), stream).catch(() => stream.abort(new Error('test sync server done')))
    })
  }
}

/** serveSyncWith a server that answers every request and every ack with the same `frame`; counts frames sent */
export async function serveSameFrame (node: GossipNode, frame: Uint8Array, opts: { maxDataLength?: number } = {}): Promise<{ frames: number }> {
  const sent = { frames: 0 }
  await serveSyncWith(node, async (s, stream) => {
    await s.read()
    while (stream.status === 'open') {
      await s.write(frame)
      sent.frames++
      await s.read({ signal: AbortSignal.timeout(10_000) })
    }
  }, opts)
  return sent
}

/**
 * A sync scheduler over a store of its own (topic 't') whose one connected peer never opens a sync stream
 * (protocol negotiation that never completes): only a deadline ends a pull from it. `close` stops both.
 */
export async function schedulerWithMutePeer (pullLimits: PullLimits): Promise<{ scheduler: SyncScheduler, peer: string, close: () => void }> {
  const { scheduler, peers, close } = await schedulerWithMutePeers(1, pullLimits)
  return { scheduler, peer: peers[0], close }
}

/** A scheduler on topic 't' connected to `count` peers that open no sync stream; `dialed` lists who was asked, in order. */
export async function schedulerWithMutePeers (count: number, pullLimits: PullLimits = {}): Promise<{ scheduler: SyncScheduler, peers: string[], dialed: string[], close: () => void }> {
  const store = new Store(tempDir(), { codec: envelopeCodec })
  store.addTopic('t')
  const peers = await Promise.all(Array.from({ length: count }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
  const dialed: string[] = []
  const host = {
    peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')),
    events: { addEventListener: () => {}, removeEventListener: () => {} },
    getPeers: () => peers,
    getConnections: () => [],
    getMultiaddrs: () => [],
    dialProtocol: async (p: { toString: () => string }, _proto: string, opts: AbortOptions) => {
      dialed.push(p.toString())
      return await new Promise<Stream>((_resolve, reject) => {
        opts.signal?.addEventListener('abort', () => reject(opts.signal?.reason))
      })
    },
    handle: async () => {},
    unhandle: async () => {},
  } as unknown as NodeHost
  const scheduler = new SyncScheduler({
    host, store, topics: () => ['t'], isRunning: () => true, maxPayloadBytes: 1024 * 1024, emit: () => true, log: () => {},
    accept: async () => ({ stored: 0, asked: 0, askedBytes: 0 }),
    pullLimits,
  })
  return { scheduler, peers: peers.map(p => p.toString()), dialed, close: () => { scheduler.stop(); store.close() } }
}
