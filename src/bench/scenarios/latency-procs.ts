// The latency load with one process per node, as on a LAN; reported alongside latency (which carries the
// target). Not part of --quick unless --only names it: it alone would take half the minute.
import { eachSide, type Scenario } from '../scenario.js'
import { row } from '../table.js'

interface Result { p50Ms?: number, p99Ms?: number, maxMs?: number, missing?: number }

export const latencyProcs: Scenario = {
  name: 'latency-procs',
  title: 'the latency load with one process per node',
  quick: false,
  run: async ({ o, results }) => {
    const { latencyProcs } = await import('../workloads/latency-procs.js')
    const r = await eachSide<Result>(o, 'latency, one process per node', async impl =>
      await latencyProcs({ impl, nodes: o.nodes, rate: 200, seconds: o.duration, size: o.size }, { nodeFlags: o.nodeFlags, verbose: o.verbose }))
    results.latency_procs = r
    const s = `latency ${o.nodes} nodes in ${o.nodes} processes, 200 msg/s, ${o.duration} s`
    return [
      row(s, 'p50 publish->consumer ms', r.raw?.p50Ms, r.gossipd?.p50Ms, 2),
      row(s, 'p99 publish->consumer ms', r.raw?.p99Ms, r.gossipd?.p99Ms, 2),
      row(s, 'max ms', r.raw?.maxMs, r.gossipd?.maxMs, 2),
      row(s, 'not delivered by the end', r.raw?.missing, r.gossipd?.missing),
    ]
  },
}
