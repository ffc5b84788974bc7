// Throughput to every subscriber: N messages from node 0; the clock stops when the SLOWEST subscriber has
// all N. gossipd publishes as fast as publish() lets it (`inflight` concurrent publishes, each resolving
// when on disk: that is its backpressure). Raw gossipsub has no backpressure, so it is driven closed-loop
// at its capacity: at most `window` messages published but not yet at every subscriber. A broker reference
// is driven as gossipd is: `inflight` publishes awaiting the broker's ack.
import { performance } from 'node:perf_hooks'
import { createCluster, minDelivered, payloadFor, type Broker, type Impl } from '../cluster.js'

export interface ThroughputSpec { impl: Impl | Broker, nodes: number, count: number, size: number, inflight?: number, window?: number, maxSeconds?: number, stallMs?: number, warmup?: number, brokerUrl?: string }

export interface ThroughputResult {
  impl: Impl | Broker
  nodes: number
  count: number
  warmup: number
  size: number
  published: number
  publishErrors: number
  delivered: number
  deliveredRatio: number
  complete: boolean
  elapsedMs: number
  /** messages per second delivered to every subscriber */
  msgPerSec: number
  /** messages per second acknowledged to the publisher (gossipd: on disk) */
  publishMsgPerSec: number
  drops: { peerDisconnect: number, connectionClose: number }
  extra: Record<string, number>
  mode: string
}

export async function throughput (spec: ThroughputSpec): Promise<ThroughputResult> {
  const c = await createCluster(spec.impl, spec.nodes, { brokerUrl: spec.brokerUrl })
  const ackDriven = spec.impl !== 'raw'
  const count = spec.count
  const maxMs = (spec.maxSeconds ?? 120) * 1000
  const stallMs = spec.stallMs ?? 5_000
  let wake: (() => void) | undefined
  let allAt = 0
  let target = Infinity
  let lastProgress = performance.now()
  c.onDeliver = () => {
    lastProgress = performance.now()
    if (allAt === 0 && minDelivered(c) >= target) allAt = performance.now()
    const w = wake
    wake = undefined
    w?.()
  }
  const waitDelivery = async (ms: number): Promise<void> => {
    await new Promise<void>(resolve => {
      const t = setTimeout(() => { wake = undefined; resolve() }, ms)
      wake = () => { clearTimeout(t); resolve() }
    })
  }
  let published = 0
  let acked = 0
  let errors = 0
  const mode = ackDriven ? `${spec.inflight ?? 256} publishes in flight` : `closed loop, window ${spec.window ?? 2000}`
  // one phase: publish up to `target` messages in total, then wait for the slowest subscriber
  const phase = async (target: number, deadline: number): Promise<number> => {
    if (ackDriven) {
      const worker = async (): Promise<void> => {
        while (published < target && performance.now() < deadline) {
          const i = published++
          try { await c.publish(payloadFor(i, spec.size)); acked++ } catch { errors++ }
        }
      }
      await Promise.all(Array.from({ length: spec.inflight ?? 256 }, worker))
    } else {
      const window = spec.window ?? 2000
      while (published < target && performance.now() < deadline) {
        if (published - minDelivered(c) >= window) {
          await waitDelivery(stallMs)
          if (performance.now() - lastProgress >= stallMs) break // deliveries stopped: messages were lost
          continue
        }
        const i = published++
        try { await c.publish(payloadFor(i, spec.size)); acked++ } catch { errors++ }
      }
    }
    const ackedAllAt = performance.now()
    // wait for the slowest subscriber, as long as deliveries keep coming (and never past the deadline)
    while (minDelivered(c) < published && performance.now() < deadline && performance.now() - lastProgress < stallMs) {
      await waitDelivery(Math.min(stallMs, 250))
    }
    return ackedAllAt
  }
  // warm-up (JIT, mesh, SQLite caches), not timed: both sides get the same
  const warmup = spec.warmup ?? Math.min(1000, Math.floor(count / 10))
  if (warmup > 0) await phase(warmup, performance.now() + 30_000)
  const base = published
  const baseAcked = acked
  const t0 = performance.now()
  lastProgress = t0
  target = base + count
  const ackedAllAt = await phase(base + count, t0 + maxMs)
  const end = allAt !== 0 ? allAt : performance.now()
  const delivered = minDelivered(c) - base
  published -= base
  acked -= baseAcked
  const elapsedMs = end - t0
  const result: ThroughputResult = {
    impl: spec.impl,
    nodes: spec.nodes,
    count,
    size: spec.size,
    published,
    publishErrors: errors,
    delivered,
    deliveredRatio: published > 0 ? delivered / published : 0,
    complete: delivered >= count,
    warmup,
    elapsedMs,
    msgPerSec: delivered / (elapsedMs / 1000),
    publishMsgPerSec: acked / ((ackedAllAt - t0) / 1000),
    drops: { ...c.drops },
    extra: c.extra(),
    mode,
  }
  await c.stop()
  return result
}
