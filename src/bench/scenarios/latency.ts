// Latency publish() call -> consumer delivery at a fixed rate, every (message, subscriber) pair, all nodes
// in one process so one clock measures both ends.
import { performance } from 'node:perf_hooks'
import { createCluster, minDelivered, payloadFor, indexOf, until, type Impl } from '../cluster.js'
import { summarize } from '../stats.js'

export interface LatencySpec { impl: Impl, nodes: number, rate: number, seconds: number, size: number, warmupSeconds?: number }

export async function latency (spec: LatencySpec): Promise<Record<string, unknown>> {
  const c = await createCluster(spec.impl, spec.nodes)
  // the first second (JIT, first mesh heartbeats) is published at the same rate but not measured
  const warm = Math.round(spec.rate * (spec.warmupSeconds ?? 1))
  const count = warm + Math.round(spec.rate * spec.seconds)
  const sentAt = new Float64Array(count)
  const samples: number[] = []
  const ackSamples: number[] = []
  let errors = 0
  c.onDeliver = (_sub, payload) => {
    const i = indexOf(payload)
    if (i >= warm && i < count) samples.push(performance.now() - sentAt[i])
  }
  const t0 = performance.now()
  let issued = 0
  const acks: Array<Promise<void>> = []
  while (issued < count) {
    const due = Math.min(count, Math.floor((performance.now() - t0) * spec.rate / 1000) + 1)
    while (issued < due) {
      const i = issued++
      const p = payloadFor(i, spec.size)
      const s = sentAt[i] = performance.now()
      acks.push(c.publish(p).then(() => { if (i >= warm) ackSamples.push(performance.now() - s) }, () => { errors++ }))
    }
    const next = t0 + issued * 1000 / spec.rate
    await new Promise(resolve => setTimeout(resolve, Math.max(0, next - performance.now())))
  }
  await Promise.all(acks)
  await until(() => minDelivered(c) >= count, 10_000)
  const delivered = minDelivered(c)
  const lat = summarize(samples)
  const ack = summarize(ackSamples)
  const result = {
    impl: spec.impl, nodes: spec.nodes, rate: spec.rate, seconds: spec.seconds, warmupMessages: warm, published: count, delivered, publishErrors: errors,
    p50Ms: lat.p50, p90Ms: lat.p90, p99Ms: lat.p99, maxMs: lat.max, meanMs: lat.mean, samples: lat.n,
    publishAckP50Ms: ack.p50, publishAckP99Ms: ack.p99,
    drops: { ...c.drops }, extra: c.extra(),
  }
  await c.stop()
  return result
}
