// Latency with one process per node, as on a real LAN: a GC pause or an fsync stall then holds up one
// node, not all of them. Node 0 publishes at a fixed rate, the others subscribe. Every process stamps
// with process.hrtime (CLOCK_MONOTONIC, the same clock in every process on one machine), so a delivery
// time in one process minus the publish time in another is a latency.
//
// Child side (latencyProcsNode): start one node dialing the peers given, print READY with its address,
// wait for "go <start epoch ms>" on stdin, publish or collect until a fixed deadline, print the RESULT,
// and keep the node running until stdin closes (so no node leaves while others still need it).
// Parent side (latencyProcs): start the children one by one, send "go", close stdin after the deadline.
import { createInterface } from 'node:readline'
import { multiaddr } from '@multiformats/multiaddr'
import { payloadFor, indexOf, until, meshPeers, sleep, TOPIC, type Impl } from '../cluster.js'
import { startChild, type RunOptions } from '../runner.js'
import { summarize } from '../stats.js'

export interface LatencyProcsSpec { impl: Impl, nodes: number, rate: number, seconds: number, size: number, warmupSeconds?: number }
interface NodeSpec extends LatencyProcsSpec { index: number, peers: string[] }

const now = (): number => Number(process.hrtime.bigint()) / 1e6
/** time for the last node to mesh before publishing starts */
const MESH_MS = 3_000
/** after the last publish, how long subscribers keep collecting */
const SETTLE_MS = 3_000

interface OneNode { addr: string, publish: (p: Uint8Array) => Promise<unknown>, onDeliver: (f: (payload: Uint8Array) => void) => void, meshed: () => boolean, stop: () => Promise<void> }

async function startOne (spec: NodeSpec): Promise<OneNode> {
  const want = Math.min(spec.nodes - 1, 4)
  if (spec.impl === 'raw') {
    const host = await (await import('../raw-gossipsub.js')).startRawHost()
    host.services.pubsub.subscribe(TOPIC)
    for (const p of spec.peers) await host.dial(multiaddr(p))
    return {
      addr: host.getMultiaddrs().find(a => a.toString().includes('/127.0.0.1/'))!.toString(),
      publish: async p => await host.services.pubsub.publish(TOPIC, p),
      onDeliver: f => host.services.pubsub.addEventListener('message', evt => { if (evt.detail.topic === TOPIC) f(evt.detail.data) }),
      meshed: () => host.getPeers().length >= spec.nodes - 1 && meshPeers(host.services.pubsub, TOPIC) >= want,
      stop: async () => await host.stop(),
    }
  }
  const { startGossipdNode, loopbackAddr, hostOf } = await import('../gossipd-cluster.js')
  const { rmSync } = await import('node:fs')
  const node = await startGossipdNode({ peers: spec.peers })
  return {
    addr: loopbackAddr(node),
    publish: async p => await node.publish(TOPIC, p),
    onDeliver: f => { node.consume(TOPIC, { from: 'beginning' }).on('message', m => f(m.payload)).start() },
    meshed: () => node.peers().length >= spec.nodes - 1 && meshPeers(hostOf(node).services.pubsub, TOPIC) >= want,
    stop: async () => { await node.stop(); rmSync(node.dataDir, { recursive: true, force: true }) },
  }
}

/** One node of the scenario, in its own process (child.ts). */
export async function latencyProcsNode (spec: NodeSpec, ready: (info: Record<string, unknown>) => void): Promise<Record<string, unknown>> {
  const node = await startOne(spec)
  const warm = Math.round(spec.rate * (spec.warmupSeconds ?? 1))
  const count = warm + Math.round(spec.rate * spec.seconds)
  const stamps = new Array<number>(count).fill(NaN)
  if (spec.index > 0) node.onDeliver(p => { const i = indexOf(p); if (i < count && Number.isNaN(stamps[i])) stamps[i] = now() })
  const lines = createInterface({ input: process.stdin })
  const closed = new Promise<void>(resolve => lines.on('close', resolve))
  const go = new Promise<number>(resolve => lines.on('line', l => { if (l.startsWith('go ')) resolve(Number(l.slice(3))) }))
  ready({ addr: node.addr })
  const startAt = await go
  await until(() => node.meshed(), Math.max(0, startAt - Date.now()))
  const meshedAtStart = node.meshed()
  await sleep(Math.max(0, startAt - Date.now()))
  let errors = 0
  if (spec.index === 0) {
    const t0 = now()
    let issued = 0
    while (issued < count) {
      const due = Math.min(count, Math.floor((now() - t0) * spec.rate / 1000) + 1)
      while (issued < due) {
        const i = issued++
        stamps[i] = now()
        node.publish(payloadFor(i, spec.size)).catch(() => { errors++ })
      }
      await sleep(Math.max(0, t0 + issued * 1000 / spec.rate - now()))
    }
  }
  await sleep(Math.max(0, startAt + (count / spec.rate) * 1000 + SETTLE_MS - Date.now()))
  const result = { index: spec.index, meshedAtStart, errors, stamps }
  // report now, but keep serving (sync, forwarding) until the parent closes stdin
  process.stdout.write(`@@RESULT ${JSON.stringify(result)}\n`)
  await closed
  await node.stop()
  return result
}

/** The parent: N node processes, then latencies from their stamps. */
export async function latencyProcs (spec: LatencyProcsSpec, run: Omit<RunOptions, 'label' | 'timeoutMs'>): Promise<Record<string, unknown>> {
  const seconds = (spec.warmupSeconds ?? 1) + spec.seconds
  const timeoutMs = MESH_MS + seconds * 1000 + SETTLE_MS + 60_000
  const children: Array<ReturnType<typeof startChild>> = []
  try {
    const addrs: string[] = []
    for (let index = 0; index < spec.nodes; index++) {
      const c = startChild({ ...spec, scenario: 'latency-node', index, peers: [...addrs] }, { ...run, timeoutMs, label: `latency-procs/${spec.impl}/${index}` })
      children.push(c)
      addrs.push((await c.ready).addr)
    }
    const startAt = Date.now() + MESH_MS
    for (const c of children) c.proc.stdin!.write(`go ${startAt}\n`)
    await sleep(startAt + seconds * 1000 + SETTLE_MS + 500 - Date.now())
  } finally {
    for (const c of children) c.closeStdin()
  }
  const results = await Promise.all(children.map(async c => await c.result)) as Array<{ index: number, meshedAtStart: boolean, errors: number, stamps: number[] }>
  const sent = results[0].stamps
  const warm = Math.round(spec.rate * (spec.warmupSeconds ?? 1))
  const samples: number[] = []
  let missing = 0
  for (const r of results.slice(1)) {
    for (let i = warm; i < sent.length; i++) {
      if (Number.isNaN(r.stamps[i])) missing++
      else samples.push(r.stamps[i] - sent[i])
    }
  }
  const lat = summarize(samples)
  return {
    impl: spec.impl, nodes: spec.nodes, rate: spec.rate, seconds: spec.seconds, processes: spec.nodes,
    p50Ms: lat.p50, p90Ms: lat.p90, p99Ms: lat.p99, maxMs: lat.max, samples: lat.n, missing,
    allMeshedAtStart: results.every(r => r.meshedAtStart), publishErrors: results[0].errors,
  }
}
