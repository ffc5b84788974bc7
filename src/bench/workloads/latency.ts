// Latency publish() call -> consumer delivery at a fixed rate, every (message, subscriber) pair, all nodes
// in one process so one clock measures both ends.
import { performance } from 'node:perf_hooks'
import { createCluster, minDelivered, payloadFor, indexOf, until, rateCounts, publishAtRate, type Broker, type Impl } from '../cluster.js'
import { summarize } from '../stats.js'

export interface LatencySpec { impl: Impl | Broker, nodes: number, rate: number, seconds: number, size: number, warmupSeconds?: number, brokerUrl?: string }

export async function latency (spec: LatencySpec): Promise<Record<string, unknown>> {
  const c = await createCluster(spec.impl, spec.nodes, { brokerUrl: spec.brokerUrl })
  // the first second (JIT, first mesh heartbeats) is published at the same rate but not measured
  const { warm, count } = rateCounts(spec)
  const sentAt = new Float64Array(count)
  const samples: number[] = []
  const ackSamples: number[] = []
  let errors = 0
  c.onDeliver = (_sub, payload) => {
    const i = indexOf(payload)
    if (i >= warm && i < count) samples.push(performance.now() - sentAt[i])
  }
  const acks: Array<Promise<void>> = []
  await publishAtRate(count, spec.rate, i => {
    const p = payloadFor(i, spec.size)
    const s = sentAt[i] = performance.now()
    acks.push(c.publish(p).then(() => { if (i >= warm) ackSamples.push(performance.now() - s) }, () => { errors++ }))
  }, () => performance.now())
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
