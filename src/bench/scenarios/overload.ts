// Overload: publish at a fixed rate several times what the swarm can carry, for a while, then let it
// settle (bounded) and count what never reached the slowest subscriber, which connections were dropped,
// how long publish() calls took at worst and how far the process grew. The publisher issues calls open
// loop at the target rate; to keep the benchmark itself bounded it never has more than `maxInflight`
// unresolved publish() calls (raw publish() resolves at once, so this only ever holds gossipd back,
// which is what its backpressure is for). Achieved publish rate is reported.
import { performance } from 'node:perf_hooks'
import { createCluster, minDelivered, payloadFor, until, type Impl } from '../cluster.js'
import { RssSampler, MB } from '../stats.js'

export interface OverloadSpec { impl: Impl, nodes: number, rate: number, seconds: number, size: number, settleSeconds: number, maxInflight?: number }

export async function overload (spec: OverloadSpec, rss: RssSampler): Promise<Record<string, unknown>> {
  const c = await createCluster(spec.impl, spec.nodes)
  const maxInflight = spec.maxInflight ?? 20_000
  const rssReady = rss.sample()
  rss.reset()
  let issued = 0
  let inflight = 0
  let ok = 0
  let errors = 0
  let maxPublishMs = 0
  let blockedTicks = 0
  const errorKinds: Record<string, number> = {}
  const t0 = performance.now()
  const end = t0 + spec.seconds * 1000
  while (performance.now() < end) {
    const due = Math.floor((performance.now() - t0) * spec.rate / 1000)
    if (due > issued && inflight >= maxInflight) blockedTicks++
    while (issued < due && inflight < maxInflight) {
      const p = payloadFor(issued++, spec.size)
      const s = performance.now()
      inflight++
      c.publish(p).then(() => { ok++ }, (err: Error) => {
        errors++
        const k = String(err?.message ?? err).slice(0, 60)
        errorKinds[k] = (errorKinds[k] ?? 0) + 1
      }).finally(() => {
        inflight--
        const ms = performance.now() - s
        if (ms > maxPublishMs) maxPublishMs = ms
      })
    }
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  const publishEnd = performance.now()
  await until(() => inflight === 0, 60_000, 20)
  const ackedAt = performance.now()
  // settle: until the slowest subscriber has everything, or the settle time is over
  const settled = await until(() => minDelivered(c) >= issued, spec.settleSeconds * 1000, 20)
  const delivered = minDelivered(c)
  const result = {
    impl: spec.impl,
    nodes: spec.nodes,
    targetRate: spec.rate,
    seconds: spec.seconds,
    issued,
    achievedPublishRate: issued / ((publishEnd - t0) / 1000),
    publishOk: ok,
    publishErrors: errors,
    errorKinds,
    publishBlockedTicks: blockedTicks,
    inflightDrainMs: ackedAt - publishEnd,
    delivered,
    deliveredAll: [...c.delivered],
    lost: issued - delivered,
    settled,
    settleMs: performance.now() - ackedAt,
    maxPublishMs,
    peerDisconnects: c.drops.peerDisconnect,
    connectionCloses: c.drops.connectionClose,
    rssReadyMB: rssReady / MB,
    peakRssMB: rss.peak / MB,
    extra: c.extra(),
  }
  await c.stop()
  return result
}
