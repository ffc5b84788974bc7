// Throughput with one gossipd node per process, as a LAN of machines would see it: the same load as
// throughput (N messages from node 0, `inflight` publishes awaiting their on-disk ack, a warm-up first),
// msg/s to the slowest subscriber. Clocks: process.hrtime (CLOCK_MONOTONIC, shared by every process on
// one machine), so the publisher's start and a subscriber's last delivery measure one interval.
// gossipd only: raw gossipsub has no publish backpressure and is driven closed-loop on every subscriber's
// progress, which would need the subscribers' counts in the publisher's process.
//
// Child side (throughputProcsNode): start one node dialing the peers given, print READY, wait for
// "go <start epoch ms>", publish (node 0) or count deliveries until all arrived or, once the publisher
// is done ("published" on stdin), they stall; print DONE, keep serving until stdin closes, then report.
// Parent side (throughputProcs): start the children one by one, send "go", tell the subscribers when
// the publisher is DONE, wait for every DONE, close stdin.
import { payloadFor, indexOf, until, sleep } from '../cluster.js'
import { startChild, type RunOptions, type RunningChild } from '../runner.js'
import { startProcNode, startSignal } from './proc-node.js'

export interface ThroughputProcsSpec { nodes: number, count: number, size: number, inflight?: number, warmup?: number, maxSeconds?: number, stallMs?: number }
interface NodeSpec extends ThroughputProcsSpec { index: number, peers: string[] }

const now = (): number => Number(process.hrtime.bigint()) / 1e6
/** time for the last node to mesh before publishing starts */
const MESH_MS = 3_000
/** pause between the warm-up and the timed messages, so warm-up deliveries are not timed */
const SETTLE_MS = 1_000

const warmupOf = (spec: ThroughputProcsSpec): number => spec.warmup ?? Math.min(1000, Math.floor(spec.count / 10))

interface PubResult { index: 0, meshedAtStart: boolean, t0: number, ackedAt: number, published: number, acked: number, errors: number }
interface SubResult { index: number, meshedAtStart: boolean, timedSeen: number, doneAt: number | null, lastAt: number | null }

/** One node of the scenario, in its own process (child.ts). */
export async function throughputProcsNode (spec: NodeSpec, ready: (info: Record<string, unknown>) => void, done: (info: Record<string, unknown>) => void): Promise<Record<string, unknown>> {
  const node = await startProcNode({ impl: 'gossipd', nodes: spec.nodes, peers: spec.peers })
  const warm = warmupOf(spec)
  const total = warm + spec.count
  const seen = new Uint8Array(total)
  let timedSeen = 0
  let lastAt = NaN
  let doneAt = NaN
  if (spec.index > 0) {
    node.onDeliver(p => {
      const i = indexOf(p)
      if (i >= total || seen[i] === 1) return
      seen[i] = 1
      lastAt = now()
      if (i >= warm && ++timedSeen === spec.count) doneAt = lastAt
    })
  }
  let publishedAt = NaN
  const { meshedAtStart, closed } = await startSignal(node, ready, l => { if (l === 'published') publishedAt = now() })
  // subscribers get twice the publisher's time: deliveries trail publishing
  const deadline = now() + (spec.index === 0 ? 1 : 2) * (spec.maxSeconds ?? 120) * 1000
  let result: PubResult | SubResult
  if (spec.index === 0) {
    let next = 0
    let acked = 0
    let errors = 0
    const publishUpTo = async (upto: number): Promise<void> => {
      await Promise.all(Array.from({ length: spec.inflight ?? 256 }, async () => {
        while (next < upto && now() < deadline) {
          const i = next++
          try { await node.publish(payloadFor(i, spec.size)); acked++ } catch { errors++ }
        }
      }))
    }
    await publishUpTo(warm)
    await sleep(SETTLE_MS)
    const t0 = now()
    const ackedBefore = acked
    await publishUpTo(total)
    result = { index: 0, meshedAtStart, t0, ackedAt: now(), published: next - warm, acked: acked - ackedBefore, errors }
  } else {
    // a slow machine may deliver long after publishing: a stall only counts once the publisher is done
    const stallMs = spec.stallMs ?? 10_000
    const stalled = (): boolean => !Number.isNaN(publishedAt) && now() - Math.max(publishedAt, Number.isNaN(lastAt) ? 0 : lastAt) > stallMs
    await until(() => timedSeen >= spec.count || now() > deadline || stalled(), deadline - now() + 1_000, 20)
    result = { index: spec.index, meshedAtStart, timedSeen, doneAt: Number.isNaN(doneAt) ? null : doneAt, lastAt: Number.isNaN(lastAt) ? null : lastAt }
  }
  done({ index: spec.index })
  // keep serving (sync, forwarding) until the parent closes stdin: no node leaves while others need it
  await closed
  await node.stop()
  return { ...result }
}

/** The parent: N node processes, then msg/s from the publisher's start and the last subscriber's finish. */
export async function throughputProcs (spec: ThroughputProcsSpec, run: Omit<RunOptions, 'label' | 'timeoutMs' | 'onTag'>): Promise<Record<string, unknown>> {
  const maxSeconds = spec.maxSeconds ?? 120
  const timeoutMs = MESH_MS + SETTLE_MS + 3 * maxSeconds * 1000 + 60_000
  const children: RunningChild[] = []
  let doneCount = 0
  const finished = (index: number): void => {
    doneCount++
    if (index === 0) for (const c of children.slice(1)) c.proc.stdin!.write('published\n')
  }
  try {
    const addrs: string[] = []
    for (let index = 0; index < spec.nodes; index++) {
      const c = startChild({ ...spec, maxSeconds, scenario: 'throughput-node', index, peers: [...addrs] },
        { ...run, timeoutMs, label: `throughput-procs/${index}`, onTag: tag => { if (tag === 'DONE') finished(index) } })
      children.push(c)
      addrs.push((await c.ready as { addr: string }).addr)
    }
    const startAt = Date.now() + MESH_MS
    for (const c of children) c.proc.stdin!.write(`go ${startAt}\n`)
    // a child that dies before DONE fails the run at once
    const died: Promise<never> = Promise.race(children.map(async c => await c.result.then(() => { throw new Error('a node exited before the others were done') })))
    died.catch(() => {}) // the nodes exit normally later, once stdin closes
    if (!await Promise.race([died, until(() => doneCount >= spec.nodes, timeoutMs, 50)])) throw new Error(`throughput-procs: only ${doneCount} of ${spec.nodes} nodes finished in time`)
  } catch (err) {
    for (const c of children) c.closeStdin()
    await Promise.allSettled(children.map(async c => await c.result))
    throw err
  }
  for (const c of children) c.closeStdin()
  const [pub, ...subs] = await Promise.all(children.map(async c => await c.result)) as [PubResult, ...SubResult[]]
  const delivered = Math.min(...subs.map(s => s.timedSeen))
  const complete = subs.every(s => s.doneAt != null)
  const end = Math.max(...subs.map(s => (complete ? s.doneAt : s.lastAt) ?? pub.t0))
  const elapsedMs = end - pub.t0
  return {
    impl: 'gossipd', nodes: spec.nodes, processes: spec.nodes, count: spec.count, size: spec.size, warmup: warmupOf(spec),
    published: pub.published, publishErrors: pub.errors, delivered, deliveredRatio: pub.published > 0 ? delivered / pub.published : 0, complete,
    elapsedMs, msgPerSec: delivered / (elapsedMs / 1000), publishMsgPerSec: pub.acked / ((pub.ackedAt - pub.t0) / 1000),
    allMeshedAtStart: [pub, ...subs].every(r => r.meshedAtStart), mode: `${spec.inflight ?? 256} publishes in flight`,
  }
}
