// What many origins cost one node (README, Limits: origins per topic). A server's store holds one message
// from each of N fresh origins (keys minted here); a node pulls them by sync, then idles for 10 s.
// Prints what it kept, its heap per origin (after GC) and its CPU while idle.
//   node --expose-gc dist/bench/origin-cost.js [N] [maxOriginsPerTopic]
import '../polyfill.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { GossipNode } from '../core/node.js'
import { openStore } from '../core/open-store.js'
import { sealEnvelope } from '../core/envelope.js'

const n = Number(process.argv[2] ?? 20_000)
const limit = process.argv[3] != null ? Number(process.argv[3]) : undefined
const gc = (): void => { (globalThis as { gc?: () => void }).gc?.() }
if ((globalThis as { gc?: unknown }).gc == null) process.stderr.write('run with node --expose-gc for a heap figure after GC\n')

const serverDir = mkdtempSync(join(tmpdir(), 'gossipd-origins-server-'))
const nodeDir = mkdtempSync(join(tmpdir(), 'gossipd-origins-node-'))
const start = async (dir: string, peers: string[] = []): Promise<GossipNode> =>
  await new GossipNode({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, topics: ['t'], synchronous: 'NORMAL', peers, maxOriginsPerTopic: limit }).start()

// the server's store, filled directly: minting and signing N envelopes, no network
await (await start(serverDir)).stop()
const store = openStore(serverDir, { synchronous: 'NORMAL' })
for (let i = 0; i < n; i++) {
  const key = await generateKeyPair('Ed25519')
  const e = sealEnvelope(key, peerIdFromPrivateKey(key).toString(), 't', 1, Date.now(), new TextEncoder().encode('x'))
  void store.insert({ topic: 't', origin: e.envelope.origin, seq: 1, ts: e.envelope.ts, payload: e.envelope.payload, raw: e.bytes })
  if (i % 1000 === 999) await store.whenFlushed()
}
await store.whenFlushed()
store.close()

const server = await start(serverDir)
let node = await start(nodeDir)
await node.stop()
gc()
const heapBefore = process.memoryUsage().heapUsed
node = await start(nodeDir, [server.addresses[0]])
const t0 = Date.now()
// until it holds all, or what it holds stops growing for 5 s (a limit keeps the rest out)
let last = -1
let still = 0
const held = (): number => node.topics()[0]?.messages ?? 0
while (held() < n && still < 25 && Date.now() - t0 < 300_000) {
  await new Promise(resolve => setTimeout(resolve, 200))
  still = held() === last ? still + 1 : 0
  last = held()
}
const syncMs = Date.now() - t0
gc()
const heapPerOrigin = Math.round((process.memoryUsage().heapUsed - heapBefore) / n)
const cpu0 = process.cpuUsage()
await new Promise(resolve => setTimeout(resolve, 10_000))
const cpu = process.cpuUsage(cpu0)
console.log(JSON.stringify({ origins: n, maxOriginsPerTopic: limit ?? 'default', kept: held(), refused: node.status().originsRefused, syncMs, heapPerOriginBytes: heapPerOrigin, idleCpuMsPer10s: Math.round((cpu.user + cpu.system) / 1000) }))
await node.stop()
await server.stop()
rmSync(serverDir, { recursive: true, force: true })
rmSync(nodeDir, { recursive: true, force: true })
