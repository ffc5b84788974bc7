// Overload: publish at a fixed rate several times what the swarm can carry, for a while, then let it
// settle (a fixed period, then on while deliveries still progress, bounded) and count what never reached
// the slowest subscriber (and what had not reached it after the fixed period), which connections dropped,
// how long publish() calls took at worst and how far the process grew. The publisher issues calls open
// loop at the target rate; to keep the benchmark itself bounded it never has more than `maxInflight`
// unresolved publish() calls (raw publish() resolves at once, so this only ever holds gossipd back,
// which is what its backpressure is for). Achieved publish rate is reported.
import { performance } from 'node:perf_hooks'
import { createCluster, minDelivered, payloadFor, until, sleep, type Impl } from '../cluster.js'
import { RssSampler, MB } from '../stats.js'

export interface OverloadSpec { impl: Impl, nodes: number, rate: number, seconds: number, size: number, settleSeconds: number, settleMaxSeconds?: number, progressWindowMs?: number, maxInflight?: number }

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
  // the application wants rate x seconds messages published over `seconds`; when the process is saturated
  // the pacer runs late and issues what is due in bursts, so every wanted message is still issued
  const total = Math.round(spec.rate * spec.seconds)
  const hardEnd = t0 + spec.seconds * 6_000
  while (issued < total && performance.now() < hardEnd) {
    const due = Math.min(total, Math.floor((performance.now() - t0) * spec.rate / 1000) + 1)
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
    await sleep(5)
  }
  const publishEnd = performance.now()
  await until(() => inflight === 0, 60_000, 20)
  const ackedAt = performance.now()
  // settle: the fixed settle period first, then on as long as the slowest subscriber still makes
  // progress (no progress for 8 s ends it: longer than gossipd's default 5 s periodic sync, which is what
  // repairs a tail that gossip skipped), never past settleMaxSeconds
  const atFixed = await until(() => minDelivered(c) >= issued, spec.settleSeconds * 1000, 20)
  const deliveredAtFixedSettle = minDelivered(c)
  let settled = atFixed
  if (!settled) {
    const hard = ackedAt + (spec.settleMaxSeconds ?? 60) * 1000
    let last = minDelivered(c)
    let lastAt = performance.now()
    while (performance.now() < hard && performance.now() - lastAt < (spec.progressWindowMs ?? 8_000)) {
      await sleep(50)
      const d = minDelivered(c)
      if (d >= issued) { settled = true; break }
      if (d > last) { last = d; lastAt = performance.now() }
    }
  }
  const delivered = minDelivered(c)
  const result = {
    impl: spec.impl,
    nodes: spec.nodes,
    targetRate: spec.rate,
    seconds: spec.seconds,
    wanted: total,
    issued,
    publishPhaseMs: publishEnd - t0,
    achievedPublishRate: issued / ((publishEnd - t0) / 1000),
    publishOk: ok,
    publishErrors: errors,
    errorKinds,
    publishBlockedTicks: blockedTicks,
    maxInflight,
    inflightDrainMs: ackedAt - publishEnd,
    delivered,
    deliveredAll: [...c.delivered],
    lost: issued - delivered,
    undeliveredAtFixedSettle: issued - deliveredAtFixedSettle,
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
