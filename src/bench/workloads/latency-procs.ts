// Latency with one process per node, as on a real LAN: a GC pause or an fsync stall then holds up one
// node, not all of them. Node 0 publishes at a fixed rate, the others subscribe. Every process stamps
// with process.hrtime (CLOCK_MONOTONIC, the same clock in every process on one machine), so a delivery
// time in one process minus the publish time in another is a latency.
//
// Child side (latencyProcsNode): start one node dialing the peers given, print READY with its address,
// wait for "go <start epoch ms>" on stdin, publish or collect until a fixed deadline, keep the node
// running until stdin closes (so no node leaves while others still need it), then report.
// Parent side (latencyProcs): start the children one by one, send "go", close stdin after the deadline.
import { payloadFor, indexOf, sleep, rateCounts, publishAtRate, type Impl } from '../cluster.js'
import { startProcNode, startSignal } from './proc-node.js'
import { startChild, type RunOptions, type RunningChild } from '../runner.js'
import { summarize } from '../stats.js'

export interface LatencyProcsSpec { impl: Impl, nodes: number, rate: number, seconds: number, size: number, warmupSeconds?: number }
interface NodeSpec extends LatencyProcsSpec { index: number, peers: string[] }

const now = (): number => Number(process.hrtime.bigint()) / 1e6
/** time for the last node to mesh before publishing starts */
const MESH_MS = 3_000
/** after the last publish, how long subscribers keep collecting */
const SETTLE_MS = 3_000

/** how long publishing lasts, warm-up included */
const runMs = (spec: LatencyProcsSpec): number => rateCounts(spec).count / spec.rate * 1000

/** One node of the scenario, in its own process (child.ts). */
export async function latencyProcsNode (spec: NodeSpec, ready: (info: Record<string, unknown>) => void): Promise<Record<string, unknown>> {
  const node = await startProcNode(spec)
  const { count } = rateCounts(spec)
  const stamps = new Array<number>(count).fill(NaN)
  if (spec.index > 0) node.onDeliver(p => { const i = indexOf(p); if (i < count && Number.isNaN(stamps[i])) stamps[i] = now() })
  const { startAt, meshedAtStart, closed } = await startSignal(node, ready)
  let errors = 0
  if (spec.index === 0) {
    await publishAtRate(count, spec.rate, i => {
      stamps[i] = now()
      node.publish(payloadFor(i, spec.size)).catch(() => { errors++ })
    }, now)
  }
  await sleep(Math.max(0, startAt + runMs(spec) + SETTLE_MS - Date.now()))
  // keep serving (sync, forwarding) until the parent closes stdin: no node leaves while others need it
  await closed
  await node.stop()
  // child.ts reports this (NaN stamps, never delivered, travel as null)
  return { index: spec.index, meshedAtStart, errors, stamps }
}

/** The parent: N node processes, then latencies from their stamps. */
export async function latencyProcs (spec: LatencyProcsSpec, run: Omit<RunOptions, 'label' | 'timeoutMs'>): Promise<Record<string, unknown>> {
  const timeoutMs = MESH_MS + runMs(spec) + SETTLE_MS + 60_000
  const children: RunningChild[] = []
  try {
    const addrs: string[] = []
    for (let index = 0; index < spec.nodes; index++) {
      const c = startChild({ ...spec, scenario: 'latency-node', index, peers: [...addrs] }, { ...run, timeoutMs, label: `latency-procs/${spec.impl}/${index}` })
      children.push(c)
      addrs.push((await c.ready as { addr: string }).addr)
    }
    const startAt = Date.now() + MESH_MS
    for (const c of children) c.proc.stdin!.write(`go ${startAt}\n`)
    await sleep(startAt + runMs(spec) + SETTLE_MS + 500 - Date.now())
  } catch (err) {
    // a node failed to start: stop the others (they exit when stdin closes) before reporting
    for (const c of children) c.closeStdin()
    await Promise.allSettled(children.map(async c => await c.result))
    throw err
  }
  for (const c of children) c.closeStdin()
  const results = await Promise.all(children.map(async c => await c.result)) as Array<{ index: number, meshedAtStart: boolean, errors: number, stamps: Array<number | null> }>
  const sent = results[0].stamps as number[]
  const { warm } = rateCounts(spec)
  const samples: number[] = []
  let missing = 0
  for (const r of results.slice(1)) {
    for (let i = warm; i < sent.length; i++) {
      const got = r.stamps[i]
      if (typeof got === 'number') samples.push(got - sent[i])
      else missing++
    }
  }
  const lat = summarize(samples)
  return {
    impl: spec.impl, nodes: spec.nodes, rate: spec.rate, seconds: spec.seconds, processes: spec.nodes,
    p50Ms: lat.p50, p90Ms: lat.p90, p99Ms: lat.p99, maxMs: lat.max, samples: lat.n, missing,
    allMeshedAtStart: results.every(r => r.meshedAtStart), publishErrors: results[0].errors,
  }
}
