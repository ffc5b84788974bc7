// Latency publish() -> consumer at 200 msg/s, all nodes in one process; judged: gossipd p99 < 10 ms.
import { sides, type Scenario } from '../scenario.js'
import { row, pct } from '../table.js'

interface Result { p50Ms?: number, p99Ms?: number, maxMs?: number, publishAckP99Ms?: number, delivered?: number, published?: number }

export const latency: Scenario = {
  name: 'latency',
  title: 'publish -> consumer latency at 200 msg/s, nodes in one process',
  run: async ({ o, results }) => {
    const r = await sides<Result>(o, 'latency', (o.duration + 60) * 1000, impl => ({ scenario: 'latency', impl, nodes: o.nodes, rate: 200, seconds: o.duration, size: o.size }))
    results.latency = r
    const s = `latency ${o.nodes} nodes, 200 msg/s, ${o.duration} s`
    const p99 = r.gossipd?.p99Ms
    return [
      row(s, 'p50 publish->consumer ms', r.raw?.p50Ms, r.gossipd?.p50Ms, 2),
      row(s, 'p99 publish->consumer ms', r.raw?.p99Ms, p99, 2, { text: 'gossipd p99 < 10 ms', met: typeof p99 === 'number' ? p99 < 10 && r.gossipd?.delivered === r.gossipd?.published : null, value: p99 ?? null }),
      row(s, 'max ms', r.raw?.maxMs, r.gossipd?.maxMs, 2),
      row(s, 'publish ack p99 ms', r.raw?.publishAckP99Ms, r.gossipd?.publishAckP99Ms, 2),
      row(s, 'delivered / published %', pct(r.raw?.delivered, r.raw?.published), pct(r.gossipd?.delivered, r.gossipd?.published), 1),
    ]
  },
}
