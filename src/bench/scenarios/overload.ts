// Overload: publish at 5x the raw swarm's measured capacity, then settle; judged: 0 lost, 0 dropped.
import { sides, type Scenario } from '../scenario.js'
import { row, fmt, pct, sec } from '../table.js'
import { rawCapacity } from './throughput.js'

interface Result {
  issued?: number
  publishPhaseMs?: number
  undeliveredAtFixedSettle?: number
  lost?: number
  settleMs?: number
  extra?: Record<string, number>
  connectionCloses?: number
  peerDisconnects?: number
  maxPublishMs?: number
  peakRssMB?: number
  publishErrors?: number
}

/** when raw capacity could not be measured (--side gossipd, raw run failed) */
const ASSUMED_CAPACITY = 2_000

export const overload: Scenario = {
  name: 'overload',
  title: 'publish at 5x raw capacity, then settle: lost messages, dropped connections',
  run: async ctx => {
    const { o } = ctx
    const measured = await rawCapacity(ctx)
    const capacity = measured ?? ASSUMED_CAPACITY
    const rate = Math.round(capacity * 5)
    const settleSeconds = o.quick ? 4 : 10
    const settleMaxSeconds = o.quick ? 15 : 60
    const r = await sides<Result>(o, 'overload', (o.duration * 6 + settleMaxSeconds + 120) * 1000, impl => ({ scenario: 'overload', impl, nodes: o.nodes, rate, seconds: o.duration, size: o.size, settleSeconds, settleMaxSeconds }))
    ctx.results.overload = { rate, rawCapacity: capacity, capacityMeasured: measured != null, ...r }
    const s = `overload ${o.nodes} nodes, ${fmt(rate)} msg/s (5x raw ${measured != null ? 'measured' : 'ASSUMED'} capacity) for ${o.duration} s`
    const g = r.gossipd
    const lost = g?.lost
    const dropped = g?.connectionCloses == null || g.peerDisconnects == null ? null : g.connectionCloses + g.peerDisconnects
    const held = g?.extra == null ? [] : Object.entries(g.extra).filter(([k]) => k.startsWith('held_node')).map(([, v]) => v)
    return [
      row(s, 'published (calls issued)', r.raw?.issued, g?.issued),
      row(s, `publish phase s (wanted ${o.duration})`, sec(r.raw?.publishPhaseMs), sec(g?.publishPhaseMs), 1),
      row(s, `undelivered after ${settleSeconds} s settle`, r.raw?.undeliveredAtFixedSettle, g?.undeliveredAtFixedSettle),
      row(s, `lost (settle on while progressing, <= ${settleMaxSeconds} s)`, r.raw?.lost, lost, 0, { text: '0 lost', met: typeof lost === 'number' ? lost === 0 : null, value: lost ?? null }),
      row(s, 'settle time s', sec(r.raw?.settleMs), sec(g?.settleMs), 1),
      row(s, 'gossipd: gaps given up (seqs skipped by consumers)', null, g?.extra == null ? null : `${g.extra.gapsReported} (${g.extra.gapSeqsSkipped})`),
      row(s, 'gossipd: held by slowest store / issued %', null, g?.extra == null ? null : pct(Math.min(...held), g.issued), 1),
      row(s, 'dropped connections (close events)', r.raw?.connectionCloses, g?.connectionCloses, 0, { text: '0 dropped', met: dropped == null ? null : dropped === 0, value: dropped }),
      row(s, 'peer:disconnect events', r.raw?.peerDisconnects, g?.peerDisconnects),
      row(s, 'max publish latency ms', r.raw?.maxPublishMs, g?.maxPublishMs, 1),
      row(s, 'peak RSS MB', r.raw?.peakRssMB, g?.peakRssMB, 0),
      row(s, 'publish errors', r.raw?.publishErrors, g?.publishErrors),
    ]
  },
}
