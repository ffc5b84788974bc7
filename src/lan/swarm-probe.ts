// Two private swarms (two swarm keys, two nodes each) on one network with mDNS as the only discovery:
// reports (JSON on stdout) who connected to whom and which messages each node holds. Must run inside a
// network namespace with only loopback (spawnInNewNetns() from isolation.ts). Used by trust-swarm-mdns.test.ts.
import '../polyfill.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GossipNode } from '../core/node.js'
import { newSwarmKey, parseSwarmKey } from '../wire/swarm-key.js'
import { assertIsolatedNetwork } from './isolation.js'

export interface SwarmProbeResult {
  /** per node: its swarm (A or B), the swarms of the peers it is connected to, the payloads it holds */
  nodes: Array<{ swarm: string, peerSwarms: string[], holds: string[] }>
}

export async function swarmProbe (settleMs = 5_000, timeoutMs = 30_000): Promise<SwarmProbeResult> {
  assertIsolatedNetwork()
  const keys: Record<string, Uint8Array> = { A: parseSwarmKey(newSwarmKey()), B: parseSwarmKey(newSwarmKey()) }
  const dirs: string[] = []
  const nodes: Array<{ swarm: string, node: GossipNode }> = []
  try {
    for (const swarm of ['A', 'B', 'A', 'B']) {
      const dir = mkdtempSync(join(tmpdir(), 'gossipd-swarm-'))
      dirs.push(dir)
      const node = await new GossipNode({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: true, mdnsIntervalMs: 500, topics: ['t'], synchronous: 'NORMAL', swarmKey: keys[swarm] }).start()
      nodes.push({ swarm, node })
    }
    const deadline = Date.now() + timeoutMs
    while (!nodes.every(n => n.node.peers().length >= 1)) {
      if (Date.now() > deadline) throw new Error('swarm probe timed out waiting for each node to find its swarm partner')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    for (const { swarm, node } of nodes) await node.publish('t', `from ${swarm} ${node.peerId.slice(-6)}`)
    // several mDNS rounds, redials and sync periods
    await new Promise(resolve => setTimeout(resolve, settleMs))
    const swarmOf = new Map(nodes.map(n => [n.node.peerId, n.swarm]))
    return {
      nodes: nodes.map(({ swarm, node }) => ({
        swarm,
        peerSwarms: node.peers().map(p => swarmOf.get(p.id) ?? '?'),
        holds: node.history('t').map(m => new TextDecoder().decode(m.payload).slice(5, 6)),
      })),
    }
  } finally {
    await Promise.all(nodes.map(async n => await n.node.stop()))
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  swarmProbe().then(r => {
    process.stdout.write(JSON.stringify(r) + '\n')
    process.exit(0)
  }, err => {
    process.stderr.write(`${(err as Error).message}\n`)
    process.exit(1)
  })
}
