// throughput5's load with one gossipd node per process, as on a LAN of machines; printed next to the
// one-process figure of the same run. gossipd only (see workloads/throughput-procs.ts), so the raw
// column stays empty. Not part of --quick unless --only names it.
import type { Scenario } from '../scenario.js'
import { fmt, pct, row, type ScenarioRow } from '../table.js'
import type { ThroughputResult } from '../workloads/throughput.js'

type Result = Partial<ThroughputResult>

/** a gossipd-only row: nothing in the raw and ratio columns */
function gossipdRow (scenario: string, metric: string, g: unknown, digits = 0): ScenarioRow {
  return { ...row(scenario, metric, null, g, digits), raw: '', ratio: '' }
}

export const throughputProcs: Scenario = {
  name: 'throughput5-procs',
  title: 'throughput5 with one gossipd process per node (gossipd only)',
  quick: false,
  run: async ({ o, results }) => {
    if (!o.sides.includes('gossipd')) return []
    const { throughputProcs } = await import('../workloads/throughput-procs.js')
    const maxSeconds = o.quick ? 30 : 120
    process.stderr.write(`  throughput ${o.nodes} nodes, one process per node [gossipd] ...`)
    const t = Date.now()
    let r: Result = {}
    try {
      r = await throughputProcs({ nodes: o.nodes, count: o.count, size: o.size, maxSeconds }, { nodeFlags: o.nodeFlags, verbose: o.verbose }) as Result
      process.stderr.write(` ${((Date.now() - t) / 1000).toFixed(1)} s\n`)
      results.throughput_procs = r
    } catch (err) {
      process.stderr.write(` FAILED: ${(err as Error).message}\n`)
      results.throughput_procs = { error: (err as Error).message }
    }
    const one = (results[`throughput_${o.nodes}`] as { gossipd?: Result } | undefined)?.gossipd
    const s = `throughput ${o.nodes} nodes in ${o.nodes} processes, ${o.count} x ${o.size} B, signed`
    return [
      gossipdRow(s, 'msg/s to every subscriber', r.msgPerSec),
      gossipdRow(s, `msg/s, ${o.nodes} nodes in one process (throughput5 of this run)`, one?.msgPerSec),
      gossipdRow(s, 'delivered / published %', pct(r.delivered, r.published), 1),
      gossipdRow(s, 'publish ack msg/s', r.publishMsgPerSec),
    ].map(x => ({ ...x, gossipd: x.gossipd === '' ? fmt(null) : x.gossipd }))
  },
}
