// Starts N in-process nodes with mDNS as the only way to find each other, publishes one message and
// reports (JSON on stdout) when every node had it. Must run inside a network namespace with only
// loopback: spawnInNewNetns() from isolation.ts. Used by the mDNS test and the mDNS benchmark.
import '../polyfill.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GossipNode } from '../core/node.js'
import { assertIsolatedNetwork } from './isolation.js'

export interface MdnsProbeResult { nodes: number, discoveredMs: number, firstDeliveryMs: number, delivered: number, payloadOk: boolean }

export async function mdnsProbe (count: number, timeoutMs = 30_000): Promise<MdnsProbeResult> {
  assertIsolatedNetwork()
  const started = Date.now()
  const dirs: string[] = []
  const nodes: GossipNode[] = []
  try {
    for (let i = 0; i < count; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'gossipd-mdns-'))
      dirs.push(dir)
      nodes.push(await new GossipNode({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: true, mdnsIntervalMs: 1000, topics: ['mdns-probe'], synchronous: 'NORMAL' }).start())
    }
    const deadline = started + timeoutMs
    const until = async (check: () => boolean, what: string): Promise<void> => {
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`mdns probe timed out waiting for ${what}`)
        await new Promise(resolve => setTimeout(resolve, 20))
      }
    }
    await until(() => nodes.every(n => n.peers().length >= count - 1), 'discovery')
    const discoveredMs = Date.now() - started
    const got = new Set<number>()
    let payloadOk = true
    nodes.slice(1).forEach((n, i) => n.consume('mdns-probe', { from: 'beginning' }).on('message', m => {
      got.add(i)
      if (new TextDecoder().decode(m.payload) !== 'found you' || m.origin !== nodes[0].peerId) payloadOk = false
    }).start())
    await nodes[0].publish('mdns-probe', 'found you')
    await until(() => got.size === count - 1, 'delivery')
    return { nodes: count, discoveredMs, firstDeliveryMs: Date.now() - started, delivered: got.size, payloadOk }
  } finally {
    await Promise.all(nodes.map(async n => await n.stop()))
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mdnsProbe(Number(process.argv[2] ?? 3)).then(r => {
    process.stdout.write(JSON.stringify(r) + '\n')
    process.exit(0)
  }, err => {
    process.stderr.write(`${(err as Error).message}\n`)
    process.exit(1)
  })
}
