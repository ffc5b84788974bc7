// Throughput at 2 and at N nodes (two scenarios, one measurement): N messages from node 0, msg/s to the
// slowest subscriber. The raw side at N nodes is also the capacity overload.ts derives its rate from.
import type { BenchContext, Scenario, SideResults } from '../scenario.js'
import { sides } from '../scenario.js'
import { row, ratioOf, pct, type ScenarioRow } from '../table.js'
import type { ThroughputResult } from '../workloads/throughput.js'
import type { Impl } from '../cluster.js'

type Result = Partial<ThroughputResult>

/** Measure throughput at n nodes for the given sides, once per bench (overload may ask first). */
async function measure (ctx: BenchContext, name: string, n: number, impls: Impl[]): Promise<SideResults<Result>> {
  return await ctx.once(name, async () => {
    const { o } = ctx
    const maxSeconds = o.quick ? 30 : 120
    const r = await sides<Result>({ ...o, sides: impls }, `throughput ${n} nodes`, (o.quick ? 60 : 240) * 1000,
      impl => ({ scenario: 'throughput', impl, nodes: n, count: o.count, size: o.size, maxSeconds }))
    ctx.results[`throughput_${n}`] = r
    return r
  })
}

function throughputScenario (name: string, nodes: (ctx: BenchContext) => number, goal: number, goalText: string): Scenario {
  return {
    name,
    title: name === 'throughput2' ? 'msg/s to every subscriber, 2 nodes' : 'msg/s to every subscriber, --nodes nodes',
    run: async (ctx): Promise<ScenarioRow[]> => {
      const { o } = ctx
      const n = nodes(ctx)
      const r = await measure(ctx, name, n, o.sides)
      const s = `throughput ${n} nodes, ${o.count} x ${o.size} B, signed`
      const ratio = ratioOf(r.raw?.msgPerSec, r.gossipd?.msgPerSec)
      return [
        row(s, 'msg/s to every subscriber', r.raw?.msgPerSec, r.gossipd?.msgPerSec, 0,
          { text: goalText, met: ratio == null ? null : ratio >= goal && r.gossipd?.complete === true, value: ratio }),
        row(s, 'delivered / published %', pct(r.raw?.delivered, r.raw?.published), pct(r.gossipd?.delivered, r.gossipd?.published), 1),
        row(s, 'publish ack msg/s', r.raw?.publishMsgPerSec, r.gossipd?.publishMsgPerSec),
        row(s, 'dropped connections', r.raw?.drops?.connectionClose, r.gossipd?.drops?.connectionClose),
      ]
    },
  }
}

export const throughput2 = throughputScenario('throughput2', () => 2, 0.9, '>= 0.9x raw (durable)')
export const throughput5 = throughputScenario('throughput5', ctx => ctx.o.nodes, 2, '>= 2x raw (signed 5-node)')

/**
 * Raw gossipsub msg/s at --nodes nodes: throughput5's figure when it ran, else a raw-only run now
 * (null with --side gossipd, or when the raw run failed).
 */
export async function rawCapacity (ctx: BenchContext): Promise<number | null> {
  if (!ctx.o.sides.includes('raw')) return null
  const r = await measure(ctx, throughput5.name, ctx.o.nodes, ['raw'])
  return typeof r.raw?.msgPerSec === 'number' ? r.raw.msgPerSec : null
}
