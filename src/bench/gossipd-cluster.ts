// gossipd as it ships (envelope signatures, StrictNoSign gossipsub, durable store, sync), N GossipNodes in
// this process on 127.0.0.1 with mDNS off and static peers forming a full mesh. Subscribers read through
// consumers, so a delivery is a message committed to the subscriber's disk and handed to the application.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GossipNode, type NodeOptions } from '../core/node.js'
import type { SwarmHost } from '../core/stack/libp2p.js'
import { TOPIC, until, meshPeers, meshTarget, type Cluster } from './cluster.js'

export function benchDir (prefix = 'gossipd-bench-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export async function startGossipdNode (opts: Partial<NodeOptions> = {}): Promise<GossipNode> {
  return await new GossipNode({ dataDir: benchDir(), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, topics: [TOPIC], ...opts }).start()
}

/** Stop a bench node and delete its data dir. */
export async function stopGossipdNode (node: GossipNode): Promise<void> {
  await node.stop()
  rmSync(node.dataDir, { recursive: true, force: true })
}

/** the node's libp2p host (the benchmark only reads events from it) */
export function hostOf (node: GossipNode): SwarmHost {
  return node.libp2p
}

export function loopbackAddr (node: GossipNode): string {
  const a = node.addresses.find(x => x.includes('/127.0.0.1/'))
  if (a == null) throw new Error('node has no loopback address')
  return a
}

export async function createGossipdCluster (size: number, opts: { synchronous?: 'FULL' | 'NORMAL' } = {}): Promise<Cluster> {
  const nodes: GossipNode[] = []
  for (let i = 0; i < size; i++) {
    nodes.push(await startGossipdNode({ synchronous: opts.synchronous, peers: nodes.map(loopbackAddr) }))
  }
  const delivered = new Array<number>(size - 1).fill(0)
  const drops = { peerDisconnect: 0, connectionClose: 0 }
  const sources: Record<string, number> = {}
  const gaps = { reported: 0, seqsSkipped: 0 }
  let ready = false
  const cluster: Cluster = {
    impl: 'gossipd',
    size,
    delivered,
    drops,
    publish: async payload => await nodes[0].publish(TOPIC, payload),
    extra: () => {
      // what each node's store holds (it can differ from what its consumer delivered: a consumer waits at holes)
      const held = Object.fromEntries(nodes.map((n, i) => [`held_node${i}`, n.isRunning ? n.topics().find(t => t.topic === TOPIC)?.messages ?? 0 : -1]))
      return { ...Object.fromEntries(Object.entries(sources).map(([k, v]) => [`via_${k}`, v])), gossipSkipped: nodes[0].isRunning ? nodes[0].status().gossipSkipped : 0, gapsReported: gaps.reported, gapSeqsSkipped: gaps.seqsSkipped, ...held }
    },
    stop: async () => {
      ready = false
      await Promise.all(nodes.map(stopGossipdNode))
    },
  }
  nodes.forEach((n, i) => {
    const h = hostOf(n)
    h.addEventListener('peer:disconnect', () => { if (ready) drops.peerDisconnect++ })
    h.addEventListener('connection:close', () => { if (ready) drops.connectionClose++ })
    if (i === 0) return
    n.on('message', m => { if (m.topic === TOPIC) sources[m.source] = (sources[m.source] ?? 0) + 1 })
    // a consumer that gives up waiting for a hole skips those seqs for good, even if sync fills it later
    n.on('gap', g => { gaps.reported++; gaps.seqsSkipped += g.to - g.from + 1 })
    n.consume(TOPIC, { from: 'beginning' }).on('message', m => {
      delivered[i - 1]++
      cluster.onDeliver?.(i - 1, m.payload)
    }).start()
  })
  const meshed = await until(() => nodes.every(n => n.peers().length >= size - 1) &&
    nodes.every(n => meshPeers(hostOf(n).services.pubsub, TOPIC) >= meshTarget(size)), 15_000)
  if (!meshed) throw new Error('gossipd cluster: peers or gossipsub mesh did not form within 15 s')
  ready = true
  return cluster
}
